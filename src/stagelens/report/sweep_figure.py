"""The sweep's figure: per metric, each seed's dose-response curve with 95% intervals, the
production rate as a band and the base rate as a line."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from stagelens.report.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from stagelens.report.sweep_record import SweepRecord

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")


def write_sweep_figure(record: SweepRecord, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(c.metric for c in record.curves))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for i, seed in enumerate(record.seeds):
            colour = COLOURS[i % len(COLOURS)]
            curve = next(c for c in record.curves if c.metric == metric and c.seed == seed)
            pts = sorted((p for p in record.points if p.seed == seed and metric in p.rates),
                         key=lambda p: p.dose)  # fmt: skip
            xs = [p.dose for p in pts]
            ys = [100 * (p.rates[metric].rate or 0.0) for p in pts]
            lo = [y - 100 * (p.rates[metric].ci_low or 0.0) for y, p in zip(ys, pts, strict=True)]
            hi = [100 * (p.rates[metric].ci_high or 0.0) - y for y, p in zip(ys, pts, strict=True)]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, color=colour,
                        label=f"SFT-only, seed {seed}")  # fmt: skip
            prod = curve.production
            if prod.ci_low is not None and prod.ci_high is not None:
                ax.axhspan(100 * prod.ci_low, 100 * prod.ci_high, color=colour, alpha=0.12,
                           label=f"production 95% CI, seed {seed}")  # fmt: skip
            if curve.base.rate is not None:
                ax.axhline(100 * curve.base.rate, color=colour, linestyle=":", linewidth=1,
                           label=f"base, seed {seed}")  # fmt: skip
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlim(left=-0.002)  # doses are never negative: no negative ticks
        swapped = "" if record.swap_to is None else f"; the rest {record.swap_to}"
        ax.set_xlabel(f"dose of {record.part} (x its count in the mixture{swapped})")
        ax.set_ylabel(f"{metric} (%)")
        ax.set_ylim(-3, 103)
        ax.set_title(f"{record.variant}: {metric}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
