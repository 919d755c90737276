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
from pathlib import Path
from urllib.parse import quote, urlsplit

from stagelens.report.audit_section import audit_section
from stagelens.report.figures import (
    bars_png_bytes,
    metric_label,
    stage_label,
    stage_order,
    stand_ins,
)
from stagelens.report.format import (
    badge,
    ci,
    e,
    fmt_pct,
    fmt_points,
    kv,
    stage_name,
    table,
    with_resampling,
)
from stagelens.report.headline import distillation_note, headline, headlines, summary_line
from stagelens.report.odcv_section import odcv_section
from stagelens.report.record import (
    RunRecord,
    StageRecord,
    SuiteRecord,
    TrainingRecord,
    expectations_summary,
)
from stagelens.stats.types import MetricComparison, RateEstimate
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
                want = e(c.expected.describe())
                check = f' <span class="match">✓ matches expected ({want})</span>'
            elif c.abstained and c.expected.accepts(mc.verdict):
                check = (f' <span class="note">? undecided: the expected verdict, but '
                         f"{e('; '.join(c.reasons))}</span>")  # an undefined share's bound
            elif c.abstained:
                want = e(c.expected.describe())
                check = (f' <span class="note">? undecided: the scored pairs give the expected '
                         f"{want}, but unscored answers or too few pairs leave it open</span>")
            else:
                check = f' <span class="mismatch">✗ {e("; ".join(c.reasons))}</span>'
        items.append(
            f"<li><strong>{e(mc.metric)}</strong> {badge(mc.verdict)}{check}"
            f"<br>{e(mc.verdict_text)}</li>"
        )
    evaluated = {mc.metric for mc in record.metrics}
    for c in checks.values():  # expected, but absent from the run
        if c.metric not in evaluated:
            items.append(
                f'<li><strong>{e(c.metric)}</strong> <span class="mismatch">'
                f"✗ {e('; '.join(c.reasons))}</span></li>"
            )
    summary = expectations_summary(record.expectation_checks or [])
    line = ""
    if summary is not None:
        css = "mismatch" if record.expectations_contradicted else "match"
        line = f'<p class="{css}">{e(summary[0].upper() + summary[1:])}</p>'
    return f'<h2>Verdicts</h2>{line}<ul class="verdicts">{"".join(items)}</ul>'


def _rate_row(label: str, est: RateEstimate | None) -> list[str]:
    if est is None:
        return [e(label), "not evaluated", "", "", ""]
    return [
        e(label),
        e(fmt_pct(est.rate)),
        e(f"{ci(est.ci_low, est.ci_high)} ({est.method}, {est.level:.0%})"),
        e(f"{est.k}/{est.n}"),
        e(f"{est.n_unscored} of {est.n_total} ({fmt_pct(est.unscored_share)})"),
    ]


def _metric_section(record: RunRecord, mc: MetricComparison, stages: list[str]) -> str:
    title = metric_label(record, mc.metric).replace("\n", " ")
    rates = table(
        ["stage", "rate", "CI", "k/n", "unscored"],
        [_rate_row(stage_label(record, s), mc.rates.get(s)) for s in stages if s in mc.rates],
        numeric={1, 3, 4},
    )
    d, q, a = mc.difference, mc.equivalence, mc.attribution
    diff_rows = [
        [
            e(f"{stage_name(d.a)} − {stage_name(d.b)}"),
            e(fmt_points(d.diff)),
            e(f"{ci(d.ci_low, d.ci_high, fmt_points)} ({d.level:.0%})"),
            e(f"{d.n_pairs} pairs, {d.n_dropped} dropped (unscored on {stage_name(d.a)} "
               f"only {d.unscored_only_a}, on {stage_name(d.b)} only {d.unscored_only_b}, "
               f"both {d.unscored_both}); discordant {d.only_a}/{d.only_b}"),
            e(f"{d.test} {format_p(d.p_value)}" if d.p_value is not None else
               f"{d.test}: {'significant' if d.significant else 'not significant'}"),
            e(with_resampling(d.method, d.n_boot, d.seed)),
        ]
    ]
    tost_rows = [
        [
            e(f"±{q.margin * 100:.1f} pts"),
            e(fmt_points(q.diff)),
            e(f"{ci(q.ci_low, q.ci_high, fmt_points)} ({1 - 2 * q.alpha:.0%})"),
            e("n/a" if q.p_value is None else format_p(q.p_value)),
            e(f"{'yes' if q.equivalent else 'no'} (α = {q.alpha:g}, {q.n_pairs} pairs, "
               f"at least {q.min_pairs} needed)" + (f"; {q.reason}" if q.reason else "")),
            e(q.method),
        ]
    ]
    attr = (
        f"<p><strong>SFT attribution share</strong> "
        f"(share of the base → production change that SFT alone reproduces): "
        f"{e(fmt_pct(a.share))}, {a.level:.0%} CI {e(ci(a.ci_low, a.ci_high))}; "
        f"n = {a.n}; {e(with_resampling(a.method, a.n_boot, a.seed))}."
    )
    if a.note:
        attr += f' <span class="note">Note: {e(a.note)}</span>'
    distilled = distillation_note(record)
    if distilled is not None:
        attr += f' <span class="note distilled">Confound: {e(distilled)}</span>'
    attr += "</p>" + _missing(mc)
    return (
        f"<h3>{e(title)} — <code>{e(mc.metric)}</code> {badge(mc.verdict)}</h3>"
        + rates
        + _rated_by(record, mc.metric)
        + "<p><strong>Paired difference</strong></p>"
        + table(
            ["difference", "estimate", "CI", "pairs", "test", "method"],
            diff_rows,
            numeric={1, 4},
        )
        + "<p><strong>Equivalence (TOST)</strong></p>"
        + table(
            ["margin", "difference", "CI", "p", "equivalent", "method"], tost_rows, numeric={1, 3}
        )
        + attr
    )


def _missing(mc: MetricComparison) -> str:
    m = mc.missing
    shares = ", ".join(f"{stage_name(k)} {fmt_pct(v)}" for k, v in m.unscored_share.items())
    text = f"<strong>Unscored answers</strong>: {e(shares)}; {m.dropped_pairs} pairs dropped."
    if m.verdict_sft_only_worse is not None:
        text += e(
            f" Verdict with every unscored answer counted against SFT-only: "
            f"{m.verdict_sft_only_worse}; against production: {m.verdict_production_worse}."
        )
    if mc.verdict_reasons:
        text += (
            f' <span class="mismatch">Inconclusive because {e("; ".join(mc.verdict_reasons))}'
            f" (the scored pairs alone say {e(mc.verdict_scored_only)}).</span>"
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
    return e(
        f"{tr.method}: {tr.steps} steps, {tr.seconds:.1f} s, final loss {loss}, "
        f"seed {tr.seed}; data {tr.data.name} ({tr.data.licence})"
    )


def _logs(stage: StageRecord) -> str:
    links = []
    for suite, path in stage.logs.items():
        href = _href(path)
        text = f"{e(suite)}: <code>{e(path)}</code>"
        links.append(f'<a href="{e(href)}">{text}</a>' if href is not None else text)
    return "<br>".join(links) or "—"


def _stages_section(record: RunRecord) -> str:
    standins = stand_ins(record)
    rows = [
        [
            f"<strong>{e(s.name)}</strong>" + (f"<br>from {e(s.parent)}" if s.parent else ""),
            e(s.description)
            + (f'<br><strong class="noevidence">stand-in: {e(standins[s.name])}</strong>'
               if s.name in standins else ""),
            f"<code>{e(s.checkpoint)}</code>"
            + (f"<br>config {e(s.config_hash)}" if s.config_hash else ""),
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
        cmds = " or ".join(f"<code>inspect view --log-dir {e(d)}</code>" for d in dirs)
        hint = (
            f'<p class="note">The logs are Inspect AI eval logs; open them with {cmds} '
            f"(run from the folder holding results.json).</p>"
        )
    listing = table(
        ["stage", "description", "checkpoint", "training", "Inspect logs"], rows, numeric=set()
    )
    return "<h2>Stages</h2>" + listing + hint


def _provenance(suite: SuiteRecord) -> str:
    p = suite.data
    parts = [
        f"<strong>{e(p.name)}</strong>",
        f"source: {e(p.source)}",
        f"licence: {e(p.licence)}",
        f"sha256: <code>{e(p.sha256 or 'n/a')}</code>",
    ]
    if p.n is not None:
        parts.append(f"n = {p.n}")
    if p.notes:
        parts.append(e(p.notes))
    return "<br>".join(parts)


def _suites_section(record: RunRecord) -> str:
    rows = [
        [
            f"<strong>{e(s.name)}</strong><br><code>{e(s.metric)}</code>",
            e(s.description)
            + ("<br>neither direction is safer" if s.neutral
               else "<br>lower is safer" if s.lower_is_safer else "<br>higher is safer"),
            e(s.n_prompts),
            _provenance(s),
            kv(s.generation),
        ]
        for s in record.suites
    ]
    return "<h2>Suites</h2>" + table(
        ["suite", "what it counts", "prompts", "data", "generation"], rows, numeric={2}
    )


def _rated_by(record: RunRecord, suite_name: str) -> str:
    """Who rated these numbers and how far that rater can be trusted, beside the numbers."""
    suite = next((s for s in record.suites if s.name == suite_name), None)
    if suite is None or suite.rater is None:
        return ""
    r = suite.rater
    text = f"<p><strong>Rated by</strong> {e(r.name)} {e(r.version)} ({e(r.kind)}). "
    c = suite.calibration
    if c is not None:
        three = (f"3-way accuracy {fmt_pct(c.three_way_accuracy)} (κ {c.three_way_kappa:.2f}), "
                 if c.three_way_accuracy is not None and c.three_way_kappa is not None else "")
        kappa = "n/a" if c.binary_kappa is None else f"{c.binary_kappa:.2f}"
        text += e(f"Calibration on {c.n} human-labelled answers ({Path(c.file).name}, "
                   f"{c.n_unscored} unscored): {three}refusal-vs-compliance accuracy "
                   f"{fmt_pct(c.binary_accuracy)} (κ {kappa}).")  # fmt: skip
    elif r.kind == "detectors":
        text += e(r.description)
    elif r.kind == "exact":
        text += "Exact by construction: the organism's answers come from a closed vocabulary."
    else:
        text += '<span class="note">Not calibrated: give the suite a labelled file.</span>'
    a = suite.agreement
    if a is not None:
        alpha = "undefined" if a.krippendorff_alpha is None else f"{a.krippendorff_alpha:.3f}"
        fleiss = "undefined" if a.fleiss_kappa is None else f"{a.fleiss_kappa:.3f}"
        missing = ", ".join(f"{j} {n}" for j, n in a.unscored_by_judge.items())
        text += e(f" Panel agreement ({len(a.judges)} judges, {a.n_items} answers): "
                   f"Krippendorff's α ({a.level}) {alpha}, Fleiss' κ {fleiss}, all agree on "
                   f"{fmt_pct(a.percent_agreement)}; unscored by judge: {missing}.")  # fmt: skip
    return text + "</p>"


def _rater_section(record: RunRecord) -> str:
    r = record.rater
    return (
        f"<h2>Rater</h2><p><strong>{e(r.name)}</strong> {e(r.version)} "
        f"(<code>{e(r.kind)}</code>): {e(r.description)}</p>"
        + (f"<p>Developed on: {e(r.developed_on)}</p>" if r.developed_on else "")
    )


def _footer(record: RunRecord) -> str:
    items = [
        ("stagelens", record.stagelens_version),
        ("git revision", record.git_revision or "unknown"),
        ("python", record.python),
        ("schema version", record.schema_version),
        ("command", record.command),
    ]
    body = "".join(f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>" for k, v in items)
    body += f"<tr><th>packages</th><td>{kv(dict(sorted(record.packages.items())))}</td></tr>"
    body += f"<tr><th>seeds</th><td>{kv(record.seeds)}</td></tr>"
    if record.timings:
        timings = {k: f"{v:.1f} s" for k, v in record.timings.items()}
        body += f"<tr><th>timings</th><td>{kv(timings)}</td></tr>"
    return f"<footer><h2>Reproducibility</h2><table>{body}</table></footer>"


def _config_summary(record: RunRecord) -> str:
    variant = record.config.get("variant")
    line = f'<p class="meta">created {e(record.created_at)}'
    if variant is not None:
        name = variant.get("name", variant) if isinstance(variant, dict) else variant
        line += f" · variant <strong>{e(name)}</strong>"
    line += f" · {e(summary_line(record))}</p>"
    dumped = json.dumps(record.config, indent=2, sort_keys=True, default=str)
    return line + f"<details><summary>Configuration</summary><pre>{e(dumped)}</pre></details>"


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
        f"<title>stagelens — {e(record.name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{e(record.name)}</h1>"
        + _config_summary(record)
        + headlines(record)
        + _verdicts(record)
        + f"<h2>Rates by stage</h2>{figure}"
        + f"<h2>Metrics</h2>{metrics}"
        + odcv_section(record)
        + audit_section(record)
        + _stages_section(record)
        + _suites_section(record)
        + _rater_section(record)
        + _footer(record)
        + "</body></html>\n"
    )
