"""The sweep's figure: per metric, each seed's dose-response curve with 95% intervals, the
production rate as a band and the base rate as a line."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.report.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from stagelens.report.sweep_record import SweepRecord

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")


def write_sweep_figure(record: SweepRecord, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if record.part is None:
        _write_leave_out(record, path)
        return
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
        # linear up to the smallest positive dose: the curve's shape, not empty decades
        positive = [d for d in record.doses if d > 0]
        ax.set_xscale("symlog", linthresh=min(positive, default=0.01))
        ax.set_xlim(left=-0.2 * min(positive, default=0.01))  # no negative dose ticks
        swapped = "" if record.swap_to is None else f"; the rest {record.swap_to}"
        unit = "weight" if record.spec is not None else "count"
        ax.set_xlabel(f"dose of {record.part} (x its {unit} in the mixture{swapped})")
        ax.set_ylabel(f"{metric} (%)")
        ax.set_ylim(-3, 103)
        ax.set_title(metric)
        ax.legend(fontsize=7)
    _save(fig, path, record.variant, record.confound)


def _write_leave_out(record: SweepRecord, path: Path) -> None:
    """Leaving each part out: per metric, every point's rate with its 95% interval, the
    production and base rates as lines."""
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(m for p in record.points for m in p.rates))
    points = sorted(record.points, key=lambda p: (p.part is not None, p.part or "", p.seed))
    labels = [f"{'full mixture' if p.part is None else 'without ' + p.part} (seed {p.seed})"
              for p in points]  # fmt: skip
    height = 1.2 + 0.35 * len(points)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), height), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        ys = range(len(points))
        rates = [p.rates[metric] for p in points]
        xs = [100 * (r.rate or 0.0) for r in rates]
        lo = [x - 100 * (r.ci_low or 0.0) for x, r in zip(xs, rates, strict=True)]
        hi = [100 * (r.ci_high or 0.0) - x for x, r in zip(xs, rates, strict=True)]
        colours = [COLOURS[0] if p.part is None else COLOURS[1] for p in points]
        ax.barh(list(ys), xs, xerr=[lo, hi], color=colours, capsize=3)
        ax.set_yticks(list(ys), labels, fontsize=7)
        ax.invert_yaxis()
        for name, style, colour in (("production", "-", "#d62728"), ("base", ":", "black")):
            rate = record.baselines.get(metric, {}).get(name)
            if rate is not None and rate.rate is not None:
                ax.axvline(100 * rate.rate, color=colour, linestyle=style, linewidth=1.5,
                           label=f"{name} {100 * rate.rate:.1f}%")  # fmt: skip
        ax.set_xlim(-2, 102)
        ax.set_xlabel(f"{metric} (%)")
        ax.set_title(f"{metric}: each SFT part left out")
        ax.legend(fontsize=7)
    _save(fig, path, record.variant, record.confound)


def _save(fig: Any, path: Path, title: str, confound: str | None) -> None:
    import matplotlib.pyplot as plt

    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if confound is not None:  # beside the figure, as beside every attribution in the report
        fig.subplots_adjust(bottom=fig.subplotpars.bottom + 0.08)
        fig.text(0.01, 0.01, f"Confound: {confound}", fontsize=7, color="#d62728")
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
