"""The report's answer to its question, one plain sentence per metric, and its summary line.

Which stage carries each behaviour, in words: SFT alone reproduces production, production is
better, or undecided and why; the SFT share read in words (a negative share moved the other
way, a share far above 100% overshoots); stand-in stages named and their verdicts marked
"Not evidence".
"""

from __future__ import annotations

import re

from stagelens.report.figures import metric_label, same_weights, stand_ins
from stagelens.report.format import badge, ci, e, fmt_pct, fmt_points, one_decimal, short
from stagelens.report.record import RunRecord
from stagelens.stats.types import Attribution, MetricComparison, Verdict


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


def _neutral(record: RunRecord, metric: str) -> bool:
    return any(s.neutral for s in record.suites if metric in (s.metric, s.name))


def _share_text(a: Attribution) -> str:
    interval = (f" [{fmt_pct(a.ci_low)}, {fmt_pct(a.ci_high)}]"
                if a.ci_low is not None and a.ci_high is not None else "")  # fmt: skip
    return f"SFT's share {fmt_pct(a.share)}{interval}"


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
    pct = one_decimal(a.share)
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
    interval = (f", {d.level:.0%} CI {one_decimal(lo):.1f} to {one_decimal(hi):.1f}"
                if lo is not None and hi is not None else "")  # fmt: skip
    return f" (by {one_decimal(size):.1f} pts{interval})"


def not_evidence(record: RunRecord, mc: MetricComparison) -> str | None:
    """Why this metric's verdict is not evidence about training stages (None when it is): the
    two stages it compares are the same weights, or one of them is a stand-in."""
    a, b = mc.difference.a, mc.difference.b
    if same_weights(record, a, b):
        return (f"{short(a)} and {short(b)} are the same weights, so this verdict measures "
                "no training stage, only sampling noise")  # fmt: skip
    standins = stand_ins(record)
    named = [n for n in (a, b) if n in standins]
    if named:
        return " and ".join(f"{short(n)} is a stand-in ({standins[n]})" for n in named)
    return None


def headline(record: RunRecord, mc: MetricComparison) -> str:
    """One plain sentence (or two) answering "which stage carries this behaviour?" for one
    metric; plain text, for the caller to escape."""
    neutral = _neutral(record, mc.metric)
    word = "lower" if neutral else "safer" if _lower_is_safer(record, mc.metric) else "better"
    margin = f"±{one_decimal(mc.equivalence.margin):g} pts"
    reading = share_reading(mc)
    if mc.verdict == "equivalent":
        pct = None if mc.attribution.share is None else one_decimal(mc.attribution.share)
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
    elif neutral and mc.verdict in ("production_safer", "sft_only_safer"):
        # machine names read as safer = lower; here neither direction is safer
        which = "lower" if mc.verdict == "production_safer" else "higher"
        text = (
            f"Production's rate is {which} than SFT alone's{_advantage(mc)}: the stages after "
            f"SFT changed it (neither direction is safer). {reading}."
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
                f"{d.level:.0%} CI {ci(d.ci_low, d.ci_high, fmt_points)}) is too uncertain: "
                f"neither within {margin} (equivalent) nor clearly different from zero; more "
                f"prompts would settle it"
            )
        text = f"Undecided: {why}. {reading}."
    distilled = distillation_note(record)
    if distilled is not None:
        text = f"{text} {distilled}"
    caveat = not_evidence(record, mc)
    if caveat is not None:
        text = f"Not evidence: {caveat}. {text}"
    return text


def distillation_note(record: RunRecord) -> str | None:
    """The distillation confound, where the SFT mixture declares parts distilled from an
    RL-trained model (None: none declared)."""
    if not record.sft_distilled_parts:
        return None
    return distilled_text(record.sft_distilled_parts)


def distilled_text(parts: list[str]) -> str:
    """The confound flag for SFT mixture parts declared distilled from an RL-trained model."""
    return (f"SFT's share includes behaviour distilled from an RL-trained model (mixture "
            f"parts declared distilled_from_rl_model: {', '.join(parts)}).")  # fmt: skip


def headlines(record: RunRecord) -> str:
    standins = stand_ins(record)
    warn = ""
    if standins:
        named = "; ".join(f"{short(n)} is a stand-in ({why})" for n, why in standins.items())
        warn = (
            f'<p class="standin"><strong>Stand-ins:</strong> {e(named)}. A verdict that '
            "compares the same weights is not evidence about what any training stage does.</p>"
        )
    items = []
    for mc in record.metrics:
        label = metric_label(record, mc.metric).split("\n")[0]
        text = e(headline(record, mc))
        text = text.replace("Not evidence:", '<span class="noevidence">Not evidence:</span>', 1)
        items.append(
            f'<li data-metric="{e(mc.metric)}" data-verdict="{e(mc.verdict)}">'
            f"<strong>{e(label)}</strong> {badge(mc.verdict)} {text}</li>"
        )
    return (
        "<h2>Which stage carries this behaviour?</h2>"
        + warn
        + f'<ul class="headlines">{"".join(items)}</ul>'
    )


__all__ = ["headline", "headlines", "not_evidence", "share_reading", "summary_line"]
