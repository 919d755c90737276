"""The stage comparison bar chart.

Modelled on the charts of DeepMind's "SFT drives Gemini's safety properties"
post: one group per metric, one bar per stage (SFT-only blue, production
orange, base grey for context), each with its confidence interval, so a reader
sees at a glance whether SFT alone already holds the behaviour.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from stagelens.report.atomic import atomic_write_bytes
from stagelens.report.record import RunRecord
from stagelens.stats.types import RateEstimate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "NA_BAR_HEIGHT",
    "STAGE_COLOURS",
    "STAGE_LABELS",
    "build_bars_figure",
    "metric_label",
    "plot_bars",
    "stage_order",
]

STAGE_COLOURS: dict[str, str] = {
    "base": "#9e9e9e",
    "sft_only": "#1f77b4",
    "production": "#ff7f0e",
}
STAGE_LABELS: dict[str, str] = {
    "base": "Base (pretrained)",
    "sft_only": "SFT-only",
    "production": "Production (SFT + RL)",
}
# Stages outside the usual three still get distinct, stable colours.
_EXTRA_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")

# A missing rate is drawn as a short hatched outline rather than a zero-height
# bar, which would be indistinguishable from a measured 0%.
NA_BAR_HEIGHT = 6.0
_GROUP_WIDTH = 0.8
_DPI = 150


def stage_order(record: RunRecord) -> list[str]:
    """Stages in the record's own order, then any that only appear in metrics."""
    names = [s.name for s in record.stages]
    for mc in record.metrics:
        names.extend(n for n in mc.rates if n not in names)
    return names


def stage_colour(name: str, order: list[str]) -> str:
    if name in STAGE_COLOURS:
        return STAGE_COLOURS[name]
    extras = [n for n in order if n not in STAGE_COLOURS]
    return _EXTRA_COLOURS[extras.index(name) % len(_EXTRA_COLOURS)]


def metric_label(record: RunRecord, metric: str) -> str:
    """Axis label for a metric: its suite's name and which direction is safer."""
    for suite in record.suites:
        if suite.metric == metric or suite.name == metric:
            direction = "lower is safer" if suite.lower_is_safer else "higher is safer"
            return f"{suite.name}\n({direction})"
    return metric


def _interval_text(estimates: list[RateEstimate]) -> str:
    # Name the interval from the data, not a constant, so the axis never
    # claims "Wilson 95%" for an interval computed some other way.
    kinds = sorted({(e.method, e.level) for e in estimates if e.ci_low is not None})
    if not kinds:
        return "no intervals"
    return ", ".join(f"{m} {lvl:.0%} CI" for m, lvl in kinds)


def _draw_bar(
    ax: Axes, x: float, width: float, est: RateEstimate | None, colour: str, gid: str
) -> None:
    if est is None or est.rate is None:
        bar = ax.bar(
            x,
            NA_BAR_HEIGHT,
            width,
            facecolor="none",
            edgecolor=colour,
            hatch="///",
            linewidth=1.0,
        )[0]
        bar.set_gid(gid)
        ax.text(x, NA_BAR_HEIGHT + 1.0, "n/a", ha="center", va="bottom", fontsize=7)
    else:
        height = est.rate * 100.0
        bar = ax.bar(x, height, width, color=colour, edgecolor="white", linewidth=0.5)[0]
        bar.set_gid(gid)
        top = height
        if est.ci_low is not None and est.ci_high is not None:
            # max(0, ...) guards against float noise putting the bound a hair
            # on the wrong side of the rate, which errorbar rejects.
            lo = max(0.0, height - est.ci_low * 100.0)
            hi = max(0.0, est.ci_high * 100.0 - height)
            ax.errorbar(
                x,
                height,
                yerr=[[lo], [hi]],
                fmt="none",
                ecolor="#333333",
                elinewidth=1.0,
                capsize=3,
            )
            top = height + hi
        label = f"{height:.1f}%"
        if top <= 88.0:
            ax.text(x, top + 1.0, label, ha="center", va="bottom", fontsize=7)
        else:
            # Near the ceiling the label would run into the title, so it goes
            # inside the bar on a white patch that keeps it legible.
            ax.text(
                x,
                97.0,
                label,
                ha="center",
                va="top",
                fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
            )
    n_text = "n=–" if est is None else f"n={est.n}"
    ax.text(
        x,
        -0.02,
        n_text,
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=6.5,
        color="#555555",
    )


def build_bars_figure(record: RunRecord) -> Figure:
    """Build (but do not save) the bar chart; one bar patch per metric and stage.

    Bars are added metric by metric, stages in :func:`stage_order`; each patch's
    gid is ``"<metric>:<stage>"``.
    """
    # Figure without pyplot: no global figure registry to leak into and no
    # change to the caller's backend (a notebook user keeps theirs); saving a
    # bare Figure to PNG renders with Agg.
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    stages = stage_order(record)
    n_metrics = max(1, len(record.metrics))
    fig = Figure(figsize=(3.0 + 2.2 * n_metrics, 4.8), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    width = _GROUP_WIDTH / max(1, len(stages))
    any_na = False
    estimates: list[RateEstimate] = []
    for i, mc in enumerate(record.metrics):
        for j, stage in enumerate(stages):
            x = i - _GROUP_WIDTH / 2 + width * (j + 0.5)
            est = mc.rates.get(stage)
            any_na = any_na or est is None or est.rate is None
            if est is not None:
                estimates.append(est)
            _draw_bar(ax, x, width * 0.92, est, stage_colour(stage, stages), f"{mc.metric}:{stage}")

    ax.set_xticks(
        list(range(len(record.metrics))), [metric_label(record, m.metric) for m in record.metrics]
    )
    ax.tick_params(axis="x", length=0, pad=14)  # room for the n labels under the bars
    ax.set_xlim(-0.6, n_metrics - 0.4)
    ax.set_ylim(0, 100)
    ax.set_ylabel(f"rate (%)  ·  error bars: {_interval_text(estimates)}")
    ax.yaxis.grid(True, color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{record.name}: safety behaviour by training stage", fontsize=11)

    handles = [
        Patch(facecolor=stage_colour(s, stages), label=STAGE_LABELS.get(s, s)) for s in stages
    ]
    if any_na:
        handles.append(
            Patch(facecolor="none", edgecolor="#555555", hatch="///", label="n/a (nothing scored)")
        )
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
    return fig


def plot_bars(record: RunRecord, path: Path) -> None:
    """Render the bar chart to a PNG at ``path`` (written atomically).

    Works without a display: a bare Figure saved as PNG renders through Agg.
    The global backend is deliberately left alone, since ``matplotlib.use``
    after pyplot is imported switches backends and closes the caller's figures.
    """
    fig = build_bars_figure(record)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=_DPI, facecolor="white")
    finally:
        # A bare Figure is not in pyplot's registry; clearing drops the artists
        # promptly in long-running processes that write many reports.
        fig.clear()
    atomic_write_bytes(Path(path), buf.getvalue())
