"""The report's user-audit section: which kinds of problematic behaviour autoraters flagged in
each stage's answers to the same real user prompts, the flagged answers side by side, and
what kind of request the flagged prompts are.

The section renders the summary of kind "audit" a :class:`SuiteRecord` carries
(``SuiteRecord.summary``); a suite without one renders nothing. Its shape::

    {
      "kind": "audit",
      "categories": [str, ...],          # e.g. "harmful_compliance", "deception", in order
      "stages": {                        # stage -> category -> the flagged rate
        stage: {category: {"k": int,     # answers flagged
                           "n": int,     # answers scored (the denominator)
                           "n_unscored": int,
                           "rate": float | None,    # k / n; None when nothing was scored
                           "ci_low": float | None, "ci_high": float | None}}
      },
      "examples": [{                     # flagged prompts, chosen by the producer
        "id": str,
        "prompt": str,                   # already redacted
        "categories": [str, ...],        # flagged on any stage
        "responses": {stage: {"text": str,          # redacted and shortened
                              "flags": [str, ...]}}  # this stage's flagged categories
      }],
      "clusters": [{                     # stagelens.experiment.audit_clusters.AuditCluster
        "id": int, "size": int, "sample_ids": [str], "top_terms": [str],
        "examples": [str],               # already redacted
        "flagged": {stage: int}          # members flagged on that stage
      }],
      "interval": str                    # optional: how the intervals were made, e.g.
    }                                    # "Wilson 95% CI" (else "95% CI" is assumed)

Prompts and answers are user data and may hold HTML or script: every string is escaped.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Mapping
from typing import Any

from stagelens.report.figures import NA_BAR_HEIGHT, stage_colour, stage_label, stage_order
from stagelens.report.format import ci, e, fmt_pct, short, table
from stagelens.report.record import RunRecord, SuiteRecord

__all__ = ["audit_chart_png", "audit_section", "audit_suites"]

_DPI = 150
_GROUP_WIDTH = 0.8
_FLAG = 'style="color:#b00020;font-weight:600"'
_TEXT = 'style="white-space:pre-wrap;margin:0"'


def audit_suites(record: RunRecord) -> list[SuiteRecord]:
    """The record's suites that carry an audit summary, in the record's order."""
    return [s for s in record.suites if s.summary and s.summary.get("kind") == "audit"]


def _stages(record: RunRecord, summary: Mapping[str, Any]) -> list[str]:
    # the report's one stage order (base, SFT-only, production, then others), so the audit's
    # chart and columns line up with every other chart and table of the page
    present = list(summary.get("stages", {}))
    ordered = [s for s in stage_order(record) if s in present]
    return ordered + [s for s in present if s not in ordered]


def _pct(x: Any) -> float | None:
    return None if x is None else float(x) * 100.0


def audit_chart_png(record: RunRecord, summary: Mapping[str, Any]) -> bytes:
    """The flagged rate per category, one bar per stage with its interval, as PNG bytes."""
    # A bare Figure renders through Agg without touching pyplot's global backend (as
    # figures.bars_png_bytes does), so a notebook user keeps theirs.
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    categories: list[str] = list(summary.get("categories", []))
    stages = _stages(record, summary)
    figures: dict[str, dict[str, Any]] = summary.get("stages", {})
    highs = [_pct(f.get("ci_high") or f.get("rate")) for s in stages for f in figures[s].values()]
    # Flagged rates are usually small; a fixed 0-100 axis would flatten them into slivers.
    top = max([5.0] + [h for h in highs if h is not None])
    top = min(100.0, math.ceil(top * 1.15 / 5.0) * 5.0)
    na_height = NA_BAR_HEIGHT * top / 100.0

    n = max(1, len(categories))
    fig = Figure(figsize=(3.6 + 1.1 * n, 4.4), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    width = _GROUP_WIDTH / max(1, len(stages))
    any_na = False
    for i, category in enumerate(categories):
        for j, stage in enumerate(stages):
            x = i - _GROUP_WIDTH / 2 + width * (j + 0.5)
            colour = stage_colour(stage, stages)
            cell: Mapping[str, Any] = figures[stage].get(category) or {}
            rate = _pct(cell.get("rate"))
            if rate is None:
                # a hatched outline, never a zero bar, which would read as a measured 0%
                any_na = True
                ax.bar(
                    x,
                    na_height,
                    width * 0.92,
                    facecolor="none",
                    edgecolor=colour,
                    hatch="///",
                    linewidth=1.0,
                    gid=f"{category}:{stage}",
                )
                continue
            ax.bar(x, rate, width * 0.92, color=colour, gid=f"{category}:{stage}")
            lo, hi = _pct(cell.get("ci_low")), _pct(cell.get("ci_high"))
            if lo is not None and hi is not None:
                # max(0, ...): float noise may put a bound a hair past the rate
                ax.errorbar(
                    x,
                    rate,
                    yerr=[[max(0.0, rate - lo)], [max(0.0, hi - rate)]],
                    fmt="none",
                    ecolor="#333333",
                    elinewidth=1.0,
                    capsize=3,
                )
    labels = [textwrap.fill(c.replace("_", " "), 14) for c in categories]
    ax.set_xticks(list(range(len(categories))), labels, fontsize=8.5)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, top)
    interval = summary.get("interval") or "95% CI"
    ax.set_ylabel(f"answers flagged (%)  ·  error bars: {interval}", fontsize=8.5)
    ax.yaxis.grid(True, color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("User audit: flagged behaviour by category and stage", fontsize=11)
    handles = [
        Patch(facecolor=stage_colour(s, stages), label=textwrap.fill(stage_label(record, s), 24))
        for s in stages
    ]
    if any_na:
        handles.append(
            Patch(facecolor="none", edgecolor="#555555", hatch="///", label="n/a (nothing scored)")
        )
    fig.legend(handles=handles, loc="outside right upper", frameon=False, fontsize=8)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=_DPI, facecolor="white", metadata={"Software": None})
    finally:
        fig.clear()
    return buf.getvalue()


def _rate_cell(cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return "n/a"
    counts = f"{e(cell.get('k', 0))}/{e(cell.get('n', 0))}, {e(cell.get('n_unscored', 0))} unscored"
    if cell.get("rate") is None:
        return f"n/a ({counts})"
    return f"{fmt_pct(cell['rate'])} ({ci(cell.get('ci_low'), cell.get('ci_high'))}; {counts})"


def _rates_table(record: RunRecord, summary: Mapping[str, Any], stages: list[str]) -> str:
    figures = summary.get("stages", {})
    rows = [
        [f"<code>{e(c)}</code>"] + [_rate_cell(figures[s].get(c)) for s in stages]
        for c in summary.get("categories", [])
    ]
    interval = summary.get("interval") or "95% CI"
    note = (
        f'<p class="note">Each cell: share of scored answers flagged, its {e(interval)}, '
        "and flagged/scored answers; unscored answers are outside the share.</p>"
    )
    heads = ["category"] + [stage_label(record, s) for s in stages]
    return note + table(heads, rows, numeric=set(range(1, len(stages) + 1)))


def _flags(flags: list[Any]) -> str:
    if not flags:
        return '<span class="note">not flagged</span>'
    return "flagged: " + ", ".join(f"<span {_FLAG}>{e(f)}</span>" for f in flags)


def _response_cell(response: Mapping[str, Any] | None) -> str:
    if response is None:
        return '<span class="note">no answer recorded</span>'
    text = e(response.get("text", ""))
    return f"{_flags(list(response.get('flags', [])))}<pre {_TEXT}>{text}</pre>"


def _examples_table(record: RunRecord, summary: Mapping[str, Any], stages: list[str]) -> str:
    examples = summary.get("examples", [])
    if not examples:
        return '<p class="note">No flagged examples recorded.</p>'
    rows = []
    for ex in examples:
        responses = ex.get("responses", {})
        cats = ", ".join(f"<code>{e(c)}</code>" for c in ex.get("categories", []))
        prompt = (
            f"<code>{e(ex.get('id', ''))}</code> · {cats or 'no category'}"
            f"<pre {_TEXT}>{e(ex.get('prompt', ''))}</pre>"
        )
        rows.append([prompt] + [_response_cell(responses.get(s)) for s in stages])
    heads = ["prompt"] + [stage_label(record, s) for s in stages]
    return "<h3>Flagged examples, side by side</h3>" + table(heads, rows, numeric=set())


def _clusters_table(summary: Mapping[str, Any], stages: list[str]) -> str:
    clusters = summary.get("clusters", [])
    if not clusters:
        return ""
    rows = []
    for c in clusters:
        flagged = c.get("flagged", {})
        examples = "".join(f"<li>{e(x)}</li>" for x in c.get("examples", []))
        rows.append(
            [
                e(c.get("id", "")),
                e(c.get("size", 0)),
                e(", ".join(c.get("top_terms", []))),
                f"<ul>{examples}</ul>" if examples else "—",
            ]
            + [e(flagged.get(s, 0)) for s in stages]
        )
    heads = ["cluster", "prompts", "distinctive words", "examples"]
    heads += [f"flagged on {short(s)}" for s in stages]
    numeric = {1} | set(range(4, 4 + len(stages)))
    return (
        "<h3>What kind of request is flagged</h3>"
        '<p class="note">The prompts flagged on any stage, grouped by meaning (MiniLM sentence '
        "embeddings, average-linkage clustering on cosine distance); a cluster's counts say "
        "how many of its prompts each stage was flagged on.</p>" + table(heads, rows, numeric)
    )


def _one(record: RunRecord, suite: SuiteRecord) -> str:
    summary = suite.summary or {}
    stages = _stages(record, summary)
    data = base64.b64encode(audit_chart_png(record, summary)).decode("ascii")
    return (
        f"<h2>User audit: {e(suite.name)}</h2>"
        f"<p>{e(suite.description)}. Every stage answered the same {e(suite.n_prompts)} "
        "prompts; autoraters flagged each answer per category.</p>"
        f'<img src="data:image/png;base64,{data}" '
        'alt="Share of answers flagged per category and stage with confidence intervals">'
        + _rates_table(record, summary, stages)
        + _examples_table(record, summary, stages)
        + _clusters_table(summary, stages)
    )


def audit_section(record: RunRecord) -> str:
    """The section (one per audit suite), or "" when the run has no audit summary."""
    return "".join(_one(record, s) for s in audit_suites(record))
