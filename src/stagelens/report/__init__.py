"""Run records and the reports written from them."""

from stagelens.report.atomic import atomic_write_bytes, atomic_write_text
from stagelens.report.figures import build_bars_figure, plot_bars
from stagelens.report.html import render_html
from stagelens.report.write import ReportPaths, load_record, write_report

__all__ = [
    "ReportPaths",
    "atomic_write_bytes",
    "atomic_write_text",
    "build_bars_figure",
    "load_record",
    "plot_bars",
    "render_html",
    "write_report",
]
