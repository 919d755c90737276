"""The human-readable report: one self-contained HTML page.

No JavaScript, no fonts or stylesheets from the network: the page must open
from a results folder copied to a laptop, an artefact store or an air-gapped
machine. Every string from the record is escaped, since run names, configs and
data notes are user-supplied.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from stagelens.report.figures import (
    SHORT_NAMES,
    STAGE_LABELS,
    bars_png_bytes,
    metric_label,
    same_weights,
    stage_label,
    stage_order,
    stand_ins,
)
from stagelens.report.record import (
    RunRecord,
    StageRecord,
    SuiteRecord,
    TrainingRecord,
    expectations_summary,
)
from stagelens.stats.types import Attribution, MetricComparison, RateEstimate, Verdict
from stagelens.stats.verdict import format_p

__all__ = ["fmt_pct", "fmt_points", "headline", "render_html", "summary_line"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;
 max-width:1100px;margin:2em auto;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
.meta{color:#555}table{border-collapse:collapse;margin:.6em 0 1em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto}
.badge{display:inline-block;padding:.1em .55em;border-radius:.8em;color:#fff;
 font-size:12px;font-family:ui-monospace,monospace;vertical-align:middle}
.v-equivalent{background:#1f77b4}.v-production_safer{background:#d9650a}
.v-sft_only_safer{background:#6a3d9a}.v-inconclusive{background:#757575}
.match{color:#1b7a1b}.mismatch{color:#b00020;font-weight:600}
ul.verdicts li,ul.headlines li{margin:.5em 0}img{max-width:100%;border:1px solid #eee}
.standin{background:#fff4e5;border-left:4px solid #d9650a;padding:.4em .8em}
.noevidence{color:#b00020;font-weight:600}
.note{color:#555;font-size:13px}footer{margin-top:2.5em;color:#555;font-size:13px}
"""


def _one_decimal(x: float) -> float:
    # A value that rounds to zero is zero, unsigned: never "-0.0".
    v = round(x * 100, 1)
    return 0.0 if v == 0 else v


def fmt_pct(x: float | None, *, signed: bool = False) -> str:
    """A rate as a percentage with one decimal; ``n/a`` when undefined. A value that rounds to
    zero prints as an unsigned "0.0%", never "-0.0%" (nor "+0.0%")."""
    if x is None:
        return "n/a"
    v = _one_decimal(x)
    return f"{v:+.1f}%" if signed and v != 0 else f"{v:.1f}%"


def fmt_points(x: float | None) -> str:
    """A difference of rates in percentage points, signed unless it rounds to zero."""
    if x is None:
        return "n/a"
    v = _one_decimal(x)
    return f"{v:+.1f} pts" if v != 0 else "0.0 pts"


def _with_resampling(method: str, n_boot: int | None, seed: int | None) -> str:
    """A method's name with its bootstrap size and seed, each said once: a method that already
    names them ("..., B=10000") does not get them again."""
    extra = []
    if n_boot is not None and not re.search(r"\bB\s*=", method):
        extra.append(f"B={n_boot}")
    if seed is not None and not re.search(r"\bseed\b", method):
        extra.append(f"seed {seed}")
    return method + (f" ({', '.join(extra)})" if extra else "")


def _ci(lo: float | None, hi: float | None, fmt: Callable[[float | None], str] = fmt_pct) -> str:
    if lo is None or hi is None:
        return "n/a"
    return f"{fmt(lo)} to {fmt(hi)}"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: set[int]) -> str:
    """Cells in ``rows`` must already be HTML (escaped by the caller)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv(mapping: Mapping[str, Any]) -> str:
    if not mapping:
        return "—"
    return "<br>".join(f"<code>{_e(k)}</code> = {_e(v)}" for k, v in mapping.items())


def _stage_label(name: str) -> str:
    label: str = STAGE_LABELS.get(name, name)
    return label


def _short(name: str) -> str:
    return SHORT_NAMES.get(name, name)


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{_e(verdict)}">{_e(verdict)}</span>'


def _verdicts(record: RunRecord) -> str:
    checks = {c.metric: c for c in record.expectation_checks or []}
    items = []
    for mc in record.metrics:
        check = ""
        if record.expected is not None:
            c = checks.get(mc.metric)
            if c is None:
                check = ' <span class="note">(no expected verdict for this metric)</span>'
            elif c.met:
                want = _e(c.expected.describe())
                check = f' <span class="match">✓ matches expected ({want})</span>'
            elif c.abstained:
                want = _e(c.expected.describe())
                check = (f' <span class="note">? undecided: the scored pairs give the expected '
                         f"{want}, but unscored answers or too few pairs leave it open</span>")
            else:
                check = f' <span class="mismatch">✗ {_e("; ".join(c.reasons))}</span>'
        items.append(
            f"<li><strong>{_e(mc.metric)}</strong> {_badge(mc.verdict)}{check}"
            f"<br>{_e(mc.verdict_text)}</li>"
        )
    evaluated = {mc.metric for mc in record.metrics}
    for c in checks.values():  # expected, but absent from the run
        if c.metric not in evaluated:
            items.append(
                f'<li><strong>{_e(c.metric)}</strong> <span class="mismatch">'
                f"✗ {_e('; '.join(c.reasons))}</span></li>"
            )
    summary = expectations_summary(record.expectation_checks or [])
    line = ""
    if summary is not None:
        css = "mismatch" if record.expectations_contradicted else "match"
        line = f'<p class="{css}">{_e(summary[0].upper() + summary[1:])}</p>'
    return f'<h2>Verdicts</h2>{line}<ul class="verdicts">{"".join(items)}</ul>'


def _rate_row(label: str, est: RateEstimate | None) -> list[str]:
    if est is None:
        return [_e(label), "not evaluated", "", "", ""]
    return [
        _e(label),
        _e(fmt_pct(est.rate)),
        _e(f"{_ci(est.ci_low, est.ci_high)} ({est.method}, {est.level:.0%})"),
        _e(f"{est.k}/{est.n}"),
        _e(f"{est.n_unscored} of {est.n_total} ({fmt_pct(est.unscored_share)})"),
    ]


def _metric_section(record: RunRecord, mc: MetricComparison, stages: list[str]) -> str:
    title = metric_label(record, mc.metric).replace("\n", " ")
    rates = _table(
        ["stage", "rate", "CI", "k/n", "unscored"],
        [_rate_row(stage_label(record, s), mc.rates.get(s)) for s in stages if s in mc.rates],
        numeric={1, 3, 4},
    )
    d, q, a = mc.difference, mc.equivalence, mc.attribution
    diff_rows = [
        [
            _e(f"{_stage_label(d.a)} − {_stage_label(d.b)}"),
            _e(fmt_points(d.diff)),
            _e(f"{_ci(d.ci_low, d.ci_high, fmt_points)} ({d.level:.0%})"),
            _e(f"{d.n_pairs} pairs, {d.n_dropped} dropped (unscored on {_stage_label(d.a)} "
               f"only {d.unscored_only_a}, on {_stage_label(d.b)} only {d.unscored_only_b}, "
               f"both {d.unscored_both}); discordant {d.only_a}/{d.only_b}"),
            _e(f"{d.test} {format_p(d.p_value)}" if d.p_value is not None else
               f"{d.test}: {'significant' if d.significant else 'not significant'}"),
            _e(_with_resampling(d.method, d.n_boot, d.seed)),
        ]
    ]
    tost_rows = [
        [
            _e(f"±{q.margin * 100:.1f} pts"),
            _e(fmt_points(q.diff)),
            _e(f"{_ci(q.ci_low, q.ci_high, fmt_points)} ({1 - 2 * q.alpha:.0%})"),
            _e("n/a" if q.p_value is None else format_p(q.p_value)),
            _e(f"{'yes' if q.equivalent else 'no'} (α = {q.alpha:g}, {q.n_pairs} pairs, "
               f"at least {q.min_pairs} needed)" + (f"; {q.reason}" if q.reason else "")),
            _e(q.method),
        ]
    ]
    attr = (
        f"<p><strong>SFT attribution share</strong> "
        f"(share of the base → production change that SFT alone reproduces): "
        f"{_e(fmt_pct(a.share))}, {a.level:.0%} CI {_e(_ci(a.ci_low, a.ci_high))}; "
        f"n = {a.n}; {_e(_with_resampling(a.method, a.n_boot, a.seed))}."
    )
    if a.note:
        attr += f' <span class="note">Note: {_e(a.note)}</span>'
    attr += "</p>" + _missing(mc)
    return (
        f"<h3>{_e(title)} — <code>{_e(mc.metric)}</code> {_badge(mc.verdict)}</h3>"
        + rates
        + _rated_by(record, mc.metric)
        + "<p><strong>Paired difference</strong></p>"
        + _table(
            ["difference", "estimate", "CI", "pairs", "test", "method"],
            diff_rows,
            numeric={1, 4},
        )
        + "<p><strong>Equivalence (TOST)</strong></p>"
        + _table(
            ["margin", "difference", "CI", "p", "equivalent", "method"], tost_rows, numeric={1, 3}
        )
        + attr
    )


def _missing(mc: MetricComparison) -> str:
    m = mc.missing
    shares = ", ".join(f"{_stage_label(k)} {fmt_pct(v)}" for k, v in m.unscored_share.items())
    text = f"<strong>Unscored answers</strong>: {_e(shares)}; {m.dropped_pairs} pairs dropped."
    if m.verdict_sft_only_worse is not None:
        text += _e(
            f" Verdict with every unscored answer counted against SFT-only: "
            f"{m.verdict_sft_only_worse}; against production: {m.verdict_production_worse}."
        )
    if mc.verdict_reasons:
        text += (
            f' <span class="mismatch">Inconclusive because {_e("; ".join(mc.verdict_reasons))}'
            f" (the scored pairs alone say {_e(mc.verdict_scored_only)}).</span>"
        )
    return f"<p>{text}</p>"


def _href(path: str) -> str | None:
    # Logs are recorded as paths relative to results.json; anything with a
    # scheme or host (javascript:, http:) is shown as text, never linked.
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return quote(path.replace("\\", "/"), safe="/._-~")


def _training(tr: TrainingRecord) -> str:
    loss = "n/a" if tr.final_loss is None else f"{tr.final_loss:.4g}"
    return _e(
        f"{tr.method}: {tr.steps} steps, {tr.seconds:.1f} s, final loss {loss}, "
        f"seed {tr.seed}; data {tr.data.name} ({tr.data.licence})"
    )


def _logs(stage: StageRecord) -> str:
    links = []
    for suite, path in stage.logs.items():
        href = _href(path)
        text = f"{_e(suite)}: <code>{_e(path)}</code>"
        links.append(f'<a href="{_e(href)}">{text}</a>' if href is not None else text)
    return "<br>".join(links) or "—"


def _stages_section(record: RunRecord) -> str:
    standins = stand_ins(record)
    rows = [
        [
            f"<strong>{_e(s.name)}</strong>" + (f"<br>from {_e(s.parent)}" if s.parent else ""),
            _e(s.description)
            + (f'<br><strong class="noevidence">stand-in: {_e(standins[s.name])}</strong>'
               if s.name in standins else ""),
            f"<code>{_e(s.checkpoint)}</code>"
            + (f"<br>config {_e(s.config_hash)}" if s.config_hash else ""),
            "<br>".join(_training(t) for t in s.training) or "—",
            _logs(s),
        ]
        for s in record.stages
    ]
    dirs = sorted(
        {
            posixpath.dirname(p.replace("\\", "/")) or "."
            for s in record.stages
            for p in s.logs.values()
        }
    )
    hint = ""
    if dirs:
        cmds = " or ".join(f"<code>inspect view --log-dir {_e(d)}</code>" for d in dirs)
        hint = (
            f'<p class="note">The logs are Inspect AI eval logs; open them with {cmds} '
            f"(run from the folder holding results.json).</p>"
        )
    table = _table(
        ["stage", "description", "checkpoint", "training", "Inspect logs"], rows, numeric=set()
    )
    return "<h2>Stages</h2>" + table + hint


def _provenance(suite: SuiteRecord) -> str:
    p = suite.data
    parts = [
        f"<strong>{_e(p.name)}</strong>",
        f"source: {_e(p.source)}",
        f"licence: {_e(p.licence)}",
        f"sha256: <code>{_e(p.sha256 or 'n/a')}</code>",
    ]
    if p.n is not None:
        parts.append(f"n = {p.n}")
    if p.notes:
        parts.append(_e(p.notes))
    return "<br>".join(parts)


def _suites_section(record: RunRecord) -> str:
    rows = [
        [
            f"<strong>{_e(s.name)}</strong><br><code>{_e(s.metric)}</code>",
            _e(s.description)
            + ("<br>lower is safer" if s.lower_is_safer else "<br>higher is safer"),
            _e(s.n_prompts),
            _provenance(s),
            _kv(s.generation),
        ]
        for s in record.suites
    ]
    return "<h2>Suites</h2>" + _table(
        ["suite", "what it counts", "prompts", "data", "generation"], rows, numeric={2}
    )


def _rated_by(record: RunRecord, suite_name: str) -> str:
    """Who rated these numbers and how far that rater can be trusted, beside the numbers."""
    suite = next((s for s in record.suites if s.name == suite_name), None)
    if suite is None or suite.rater is None:
        return ""
    r = suite.rater
    text = f"<p><strong>Rated by</strong> {_e(r.name)} {_e(r.version)} ({_e(r.kind)}). "
    c = suite.calibration
    if c is not None:
        three = (f"3-way accuracy {fmt_pct(c.three_way_accuracy)} (κ {c.three_way_kappa:.2f}), "
                 if c.three_way_accuracy is not None and c.three_way_kappa is not None else "")
        kappa = "n/a" if c.binary_kappa is None else f"{c.binary_kappa:.2f}"
        text += _e(f"Calibration on {c.n} human-labelled answers ({Path(c.file).name}, "
                   f"{c.n_unscored} unscored): {three}refusal-vs-compliance accuracy "
                   f"{fmt_pct(c.binary_accuracy)} (κ {kappa}).")  # fmt: skip
    elif r.kind == "detectors":
        text += _e(r.description)
    elif r.kind == "exact":
        text += "Exact by construction: the organism's answers come from a closed vocabulary."
    else:
        text += '<span class="note">Not calibrated: give the suite a labelled file.</span>'
    a = suite.agreement
    if a is not None:
        alpha = "undefined" if a.krippendorff_alpha is None else f"{a.krippendorff_alpha:.3f}"
        fleiss = "undefined" if a.fleiss_kappa is None else f"{a.fleiss_kappa:.3f}"
        missing = ", ".join(f"{j} {n}" for j, n in a.unscored_by_judge.items())
        text += _e(f" Panel agreement ({len(a.judges)} judges, {a.n_items} answers): "
                   f"Krippendorff's α ({a.level}) {alpha}, Fleiss' κ {fleiss}, all agree on "
                   f"{fmt_pct(a.percent_agreement)}; unscored by judge: {missing}.")  # fmt: skip
    return text + "</p>"


def _rater_section(record: RunRecord) -> str:
    r = record.rater
    return (
        f"<h2>Rater</h2><p><strong>{_e(r.name)}</strong> {_e(r.version)} "
        f"(<code>{_e(r.kind)}</code>): {_e(r.description)}</p>"
        + (f"<p>Developed on: {_e(r.developed_on)}</p>" if r.developed_on else "")
    )


def _footer(record: RunRecord) -> str:
    items = [
        ("stagelens", record.stagelens_version),
        ("git revision", record.git_revision or "unknown"),
        ("python", record.python),
        ("schema version", record.schema_version),
        ("command", record.command),
    ]
    body = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in items)
    body += f"<tr><th>packages</th><td>{_kv(dict(sorted(record.packages.items())))}</td></tr>"
    body += f"<tr><th>seeds</th><td>{_kv(record.seeds)}</td></tr>"
    if record.timings:
        timings = {k: f"{v:.1f} s" for k, v in record.timings.items()}
        body += f"<tr><th>timings</th><td>{_kv(timings)}</td></tr>"
    return f"<footer><h2>Reproducibility</h2><table>{body}</table></footer>"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(record: RunRecord) -> str:
    """The run's size, e.g. "3 stages · 4 metrics from 3 suites": suites are counted by their
    Inspect logs (one log per suite and stage, whatever number of metrics it scores), or by
    name where no log is recorded."""
    logged = {suite for stage in record.stages for suite in stage.logs}
    n_suites = len(logged) if logged else len({s.name for s in record.suites})
    return (
        f"{_plural(len(record.stages), 'stage')} · "
        f"{_plural(len(record.metrics), 'metric')} from {_plural(n_suites, 'suite')}"
    )


def _lower_is_safer(record: RunRecord, metric: str) -> bool:
    for suite in record.suites:
        if suite.metric == metric or suite.name == metric:
            return suite.lower_is_safer
    return True


def _share_text(a: Attribution) -> str:
    ci = (f" [{fmt_pct(a.ci_low)}, {fmt_pct(a.ci_high)}]"
          if a.ci_low is not None and a.ci_high is not None else "")  # fmt: skip
    return f"SFT's share {fmt_pct(a.share)}{ci}"


def _direction(mc: MetricComparison, stage: str) -> str | None:
    """How ``stage``'s rate moved from base's, "up" or "down" (None when either is unknown)."""
    base, other = mc.rates.get("base"), mc.rates.get(stage)
    if base is None or other is None or base.rate is None or other.rate is None:
        return None
    if other.rate == base.rate:
        return None
    return "up" if other.rate > base.rate else "down"


def share_reading(mc: MetricComparison) -> str:
    """The SFT attribution share in words: how much of the base -> production change SFT alone
    reproduces, with a plain reading of a negative share or one far above 100%."""
    a = mc.attribution
    if a.share is None:
        if a.note and "undefined" in a.note:  # the note says it already
            return f"SFT's share of the base → production change: {a.note}"
        why = f" ({a.note})" if a.note else ""
        return f"SFT's share of the base → production change is undefined{why}"
    share = _share_text(a)
    pct = _one_decimal(a.share)
    if pct < 0:
        sft, prod = _direction(mc, "sft_only"), _direction(mc, "production")
        how = (f": from base, SFT-only's rate went {sft} where production's went {prod}"
               if sft and prod else "")  # fmt: skip
        return f"SFT alone moved it the other way{how} ({share})"
    if pct > 125:
        return (
            f"SFT alone overshoots production: it moves the rate {a.share:.1f} times as far "
            f"from base as production does ({share})"
        )
    if pct > 100:
        amount = "all of the base → production change, and slightly more"
    elif pct >= 95:
        amount = "all of the base → production change"
    elif pct >= 80:
        amount = "most of the base → production change"
    elif pct >= 20:
        amount = "part of the base → production change"
    elif pct > 0:
        amount = "little of the base → production change"
    else:
        amount = "none of the base → production change"
    return f"SFT alone reproduces {amount} ({share})"


def _plain_verdict(verdict: Verdict, word: str) -> str:
    return {
        "equivalent": "SFT-only and production would be equivalent",
        "production_safer": f"production would be {word}",
        "sft_only_safer": f"SFT alone would be {word}",
        "inconclusive": "it is undecided as well",
    }[verdict]


def _plain_reason(reason: str, word: str) -> str:
    # The statistics layer names verdicts by their machine names; the headline reads them.
    reason = re.sub(r"\bproduction_safer\b", f"production {word}", reason)
    reason = re.sub(r"\bsft_only_safer\b", f"SFT-only {word}", reason)
    return reason


def _advantage(mc: MetricComparison) -> str:
    """The size of the SFT-only vs production difference and its interval, unsigned."""
    d = mc.difference
    if d.diff is None:
        return ""
    size = abs(d.diff)
    lo, hi = d.ci_low, d.ci_high
    if d.diff < 0:  # the advantage is the difference's size, either direction
        lo, hi = (None if hi is None else -hi), (None if lo is None else -lo)
    ci = (f", {d.level:.0%} CI {_one_decimal(lo):.1f} to {_one_decimal(hi):.1f}"
          if lo is not None and hi is not None else "")  # fmt: skip
    return f" (by {_one_decimal(size):.1f} pts{ci})"


def not_evidence(record: RunRecord, mc: MetricComparison) -> str | None:
    """Why this metric's verdict is not evidence about training stages (None when it is): the
    two stages it compares are the same weights, or one of them is a stand-in."""
    a, b = mc.difference.a, mc.difference.b
    if same_weights(record, a, b):
        return (f"{_short(a)} and {_short(b)} are the same weights, so this verdict measures "
                "no training stage, only sampling noise")  # fmt: skip
    standins = stand_ins(record)
    named = [n for n in (a, b) if n in standins]
    if named:
        return " and ".join(f"{_short(n)} is a stand-in ({standins[n]})" for n in named)
    return None


def headline(record: RunRecord, mc: MetricComparison) -> str:
    """One plain sentence (or two) answering "which stage carries this behaviour?" for one
    metric; plain text, for the caller to escape."""
    word = "safer" if _lower_is_safer(record, mc.metric) else "better"
    margin = f"±{_one_decimal(mc.equivalence.margin):g} pts"
    reading = share_reading(mc)
    if mc.verdict == "equivalent":
        pct = None if mc.attribution.share is None else _one_decimal(mc.attribution.share)
        if pct is not None and 80 <= pct <= 125:
            text = (
                f"SFT alone reproduces production ({_share_text(mc.attribution)}); RL (the "
                f"stages after SFT) adds nothing measurable: SFT-only and production are "
                f"equivalent within {margin}."
            )
        else:
            text = (
                f"SFT-only and production are equivalent within {margin}, so RL (the stages "
                f"after SFT) adds nothing measurable; but {reading}."
            )
    elif mc.verdict == "production_safer":
        text = (
            f"Production is {word} than SFT alone{_advantage(mc)}: RL (or the stages after "
            f"SFT) adds this behaviour. {reading}."
        )
    elif mc.verdict == "sft_only_safer":
        text = (
            f"SFT alone is {word} than production{_advantage(mc)}: the stages after SFT "
            f"removed some of SFT's behaviour. {reading}."
        )
    else:
        if mc.verdict_reasons:
            why = "; ".join(_plain_reason(r, word) for r in mc.verdict_reasons)
            if "scored pairs" not in why:
                why += f"; on the scored pairs alone {_plain_verdict(mc.verdict_scored_only, word)}"
        elif mc.difference.diff is None:
            why = "no prompt was scored for both SFT-only and production"
        else:
            d = mc.difference
            why = (
                f"the difference between SFT alone and production ({fmt_points(d.diff)}, "
                f"{d.level:.0%} CI {_ci(d.ci_low, d.ci_high, fmt_points)}) is too uncertain: "
                f"neither within {margin} (equivalent) nor clearly different from zero; more "
                f"prompts would settle it"
            )
        text = f"Undecided: {why}. {reading}."
    caveat = not_evidence(record, mc)
    if caveat is not None:
        text = f"Not evidence: {caveat}. {text}"
    return text


def _headlines(record: RunRecord) -> str:
    standins = stand_ins(record)
    warn = ""
    if standins:
        named = "; ".join(f"{_short(n)} is a stand-in ({why})" for n, why in standins.items())
        warn = (
            f'<p class="standin"><strong>Stand-ins:</strong> {_e(named)}. A verdict that '
            "compares the same weights is not evidence about what any training stage does.</p>"
        )
    items = []
    for mc in record.metrics:
        label = metric_label(record, mc.metric).split("\n")[0]
        text = _e(headline(record, mc))
        text = text.replace("Not evidence:", '<span class="noevidence">Not evidence:</span>', 1)
        items.append(
            f'<li data-metric="{_e(mc.metric)}" data-verdict="{_e(mc.verdict)}">'
            f"<strong>{_e(label)}</strong> {_badge(mc.verdict)} {text}</li>"
        )
    return (
        "<h2>Which stage carries this behaviour?</h2>"
        + warn
        + f'<ul class="headlines">{"".join(items)}</ul>'
    )


def _config_summary(record: RunRecord) -> str:
    variant = record.config.get("variant")
    line = f'<p class="meta">created {_e(record.created_at)}'
    if variant is not None:
        name = variant.get("name", variant) if isinstance(variant, dict) else variant
        line += f" · variant <strong>{_e(name)}</strong>"
    line += f" · {_e(summary_line(record))}</p>"
    dumped = json.dumps(record.config, indent=2, sort_keys=True, default=str)
    return line + f"<details><summary>Configuration</summary><pre>{_e(dumped)}</pre></details>"


def render_html(record: RunRecord, *, bars_png: bytes | None = None) -> str:
    """Render the whole report as one self-contained HTML page.

    The bar chart is embedded as a PNG data URI, so the page alone shows it; ``bars_png`` is
    the chart already rendered (:func:`~stagelens.report.figures.bars_png_bytes`), rendered
    here when None.
    """
    stages = stage_order(record)
    metrics = "".join(_metric_section(record, mc, stages) for mc in record.metrics)
    png = bars_png_bytes(record) if bars_png is None else bars_png
    data = base64.b64encode(png).decode("ascii")
    figure = (
        f'<img src="data:image/png;base64,{data}" '
        'alt="Rates by stage and metric with confidence intervals">'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>stagelens — {_e(record.name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(record.name)}</h1>"
        + _config_summary(record)
        + _headlines(record)
        + _verdicts(record)
        + f"<h2>Rates by stage</h2>{figure}"
        + f"<h2>Metrics</h2>{metrics}"
        + _stages_section(record)
        + _suites_section(record)
        + _rater_section(record)
        + _footer(record)
        + "</body></html>\n"
    )
