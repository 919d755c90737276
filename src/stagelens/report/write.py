"""Write a run's results folder and read its record back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from stagelens.report.atomic import atomic_write_text
from stagelens.report.figures import bars_png_bytes, plot_bars
from stagelens.report.html import render_html
from stagelens.report.record import SCHEMA_VERSION, RunRecord

__all__ = ["BARS_PNG", "REPORT_HTML", "RESULTS_JSON", "ReportPaths", "load_record", "write_report"]

RESULTS_JSON = "results.json"
BARS_PNG = "bars.png"
REPORT_HTML = "report.html"
_MAX_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class ReportPaths:
    results_json: Path
    report_html: Path
    bars_png: Path


def write_report(record: RunRecord, out_dir: Path) -> ReportPaths:
    """Write ``results.json``, ``bars.png`` and ``report.html`` into ``out_dir``.

    The record goes first: it is the source of truth, so a failure while
    plotting or rendering still leaves the numbers on disk, and the report can
    be regenerated from them with :func:`load_record`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(
        results_json=out_dir / RESULTS_JSON,
        report_html=out_dir / REPORT_HTML,
        bars_png=out_dir / BARS_PNG,
    )
    atomic_write_text(paths.results_json, record.model_dump_json(indent=2) + "\n")
    # One rendering of the chart: written as bars.png (other tools read it) and embedded in
    # report.html, which must show it on its own.
    png = bars_png_bytes(record)
    plot_bars(record, paths.bars_png, png)
    atomic_write_text(paths.report_html, render_html(record, bars_png=png))
    return paths


def _describe(exc: ValidationError) -> str:
    errors = exc.errors()
    shown = [
        f"{'.'.join(str(part) for part in err['loc']) or '<root>'}: {err['msg']}"
        for err in errors[:_MAX_ERRORS_SHOWN]
    ]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def load_record(path: Path) -> RunRecord:
    """Read and validate a ``results.json``.

    Raises ``ValueError`` naming the file when it is not JSON, was written
    under another schema version, or does not validate (with the failing
    field locations). A missing file raises ``FileNotFoundError`` as usual.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not valid UTF-8 text ({exc.reason})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(data).__name__}")
    # Checked before validation so that a record from another version gets a
    # version error, not a confusing list of field errors.
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema_version is {version!r}, this stagelens reads {SCHEMA_VERSION!r}"
        )
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{path}: not a valid run record: {_describe(exc)}") from exc
