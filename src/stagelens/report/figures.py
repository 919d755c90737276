"""The stage comparison bar chart.

Modelled on the charts of DeepMind's "SFT drives Gemini's safety properties"
post: one group per metric, one bar per stage (SFT-only blue, production
orange, base grey for context), each with its confidence interval, so a reader
sees at a glance whether SFT alone already holds the behaviour.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from stagelens.report.atomic import atomic_write_bytes
from stagelens.report.record import RunRecord
from stagelens.stats.types import RateEstimate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CANONICAL_ORDER",
    "NA_BAR_HEIGHT",
    "SHORT_NAMES",
    "STAGE_COLOURS",
    "STAGE_LABELS",
    "bars_png_bytes",
    "build_bars_figure",
    "metric_label",
    "plot_bars",
    "same_weights",
    "stage_label",
    "stage_order",
    "stand_ins",
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
# In running text ("same weights as production").
SHORT_NAMES: dict[str, str] = {"base": "base", "sft_only": "SFT-only", "production": "production"}
# Stages outside the usual three still get distinct, stable colours.
_EXTRA_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")

# A missing rate is drawn as a short hatched outline rather than a zero-height
# bar, which would be indistinguishable from a measured 0%.
NA_BAR_HEIGHT = 6.0
_GROUP_WIDTH = 0.8
_DPI = 150
_LEGEND_WIDTH = 24  # characters per legend line


# One fixed order for every chart and table: the three stages of the method, then any others
# in the record's own order.
CANONICAL_ORDER = ("base", "sft_only", "production")
# Which stage of a group that shares weights is the real one (the others stand in for it):
# production is the model under study; base before sft_only, since an SFT-only stage with the
# base's weights is the missing reproduction, not the base.
_REFERENCE_RANK = ("production", "base", "sft_only")


def stage_order(record: RunRecord) -> list[str]:
    """base, sft_only, production (those present), then any other stage in the record's order,
    then any that only appear in metrics."""
    names = [s.name for s in record.stages]
    for mc in record.metrics:
        names.extend(n for n in mc.rates if n not in names)
    return [n for n in CANONICAL_ORDER if n in names] + [
        n for n in names if n not in CANONICAL_ORDER
    ]


def _rank(name: str) -> int:
    return _REFERENCE_RANK.index(name) if name in _REFERENCE_RANK else len(_REFERENCE_RANK)


def stand_ins(record: RunRecord) -> dict[str, str]:
    """Stages that stand in for another, each with why: "same weights as production" when two
    or more stages share a ``config_hash`` (every stage of the group but the real one, which
    is production, else base, else the first), or "stand-in" when a stage's description says
    so ("Stand-in: ...")."""
    groups: dict[str, list[str]] = {}
    for s in record.stages:
        if s.config_hash:
            groups.setdefault(s.config_hash, []).append(s.name)
    out: dict[str, str] = {}
    for names in groups.values():
        if len(names) < 2:
            continue
        real = min(names, key=_rank)  # min is stable: ties keep the record's order
        for n in names:
            if n != real:
                out[n] = f"same weights as {SHORT_NAMES.get(real, real)}"
    for s in record.stages:
        if s.name not in out and s.description.strip().lower().startswith("stand-in"):
            out[s.name] = "stand-in"
    return out


def same_weights(record: RunRecord, a: str, b: str) -> bool:
    """True when stages ``a`` and ``b`` are recorded with the same weights (``config_hash``)."""
    hashes = {s.name: s.config_hash for s in record.stages}
    ha, hb = hashes.get(a), hashes.get(b)
    return a != b and ha is not None and ha == hb


def stage_label(record: RunRecord, name: str) -> str:
    """A stage's display name, with "(stand-in: ...)" when it stands in for another."""
    label = STAGE_LABELS.get(name, name)
    why = stand_ins(record).get(name)
    if why is None:
        return label
    short = label.split(" (")[0]
    return f"{short} (stand-in)" if why == "stand-in" else f"{short} (stand-in: {why})"


def stage_colour(name: str, order: list[str]) -> str:
    if name in STAGE_COLOURS:
        return STAGE_COLOURS[name]
    extras = [n for n in order if n not in STAGE_COLOURS]
    return _EXTRA_COLOURS[extras.index(name) % len(_EXTRA_COLOURS)]


def metric_label(record: RunRecord, metric: str) -> str:
    """Axis label for a metric: its suite's name and which direction is safer."""
    for suite in record.suites:
        if suite.metric == metric or suite.name == metric:
            direction = ("neither is safer" if suite.neutral
                         else "lower is safer" if suite.lower_is_safer else "higher is safer")
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
        label = f"{height + 0.0:.1f}%"  # + 0.0: never "-0.0%"
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
    fig_width = 3.6 + 2.2 * n_metrics
    fig = Figure(figsize=(fig_width, 4.8), dpi=_DPI, layout="constrained")
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
        list(range(len(record.metrics))),
        [metric_label(record, m.metric) for m in record.metrics],
        fontsize=8.5,
    )
    ax.tick_params(axis="x", length=0, pad=14)  # room for the n labels under the bars
    ax.set_xlim(-0.6, n_metrics - 0.4)
    ax.set_ylim(0, 100)
    ax.set_ylabel(f"rate (%)  ·  error bars: {_interval_text(estimates)}")
    ax.yaxis.grid(True, color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # Wrapped to the width of the axes (the figure less the legend's column), so a long
    # model-family name is never cut off and never runs into the legend.
    title = f"{record.name}: safety behaviour by training stage"
    wrapped = textwrap.fill(title, width=int((fig_width - 2.9) * 10), break_long_words=False)
    ax.set_title(wrapped, fontsize=11)

    handles = [
        Patch(
            facecolor=stage_colour(s, stages),
            label=textwrap.fill(stage_label(record, s), width=_LEGEND_WIDTH),
        )
        for s in stages
    ]
    if any_na:
        handles.append(
            Patch(facecolor="none", edgecolor="#555555", hatch="///", label="n/a (nothing scored)")
        )
    # A figure legend placed "outside" gets its own room from constrained layout.
    fig.legend(handles=handles, loc="outside right upper", frameon=False, fontsize=8)
    return fig


def bars_png_bytes(record: RunRecord) -> bytes:
    """The bar chart as PNG bytes (no metadata beyond the image: nothing that names a URL).

    Works without a display: a bare Figure saved as PNG renders through Agg. The global
    backend is deliberately left alone, since ``matplotlib.use`` after pyplot is imported
    switches backends and closes the caller's figures.
    """
    fig = build_bars_figure(record)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=_DPI, facecolor="white", metadata={"Software": None})
    finally:
        # A bare Figure is not in pyplot's registry; clearing drops the artists
        # promptly in long-running processes that write many reports.
        fig.clear()
    return buf.getvalue()


def plot_bars(record: RunRecord, path: Path, png: bytes | None = None) -> None:
    """Write the bar chart as a PNG at ``path`` (atomically); ``png`` is the chart already
    rendered by :func:`bars_png_bytes`, rendered here when None."""
    atomic_write_bytes(Path(path), bars_png_bytes(record) if png is None else png)
