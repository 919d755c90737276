"""Everything the report says about one metric, from per-stage per-sample outcomes."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from stagelens.stats._common import Outcome
from stagelens.stats.attribution import attribution_share
from stagelens.stats.equivalence import MIN_PAIRS, tost_binary
from stagelens.stats.missing import missingness
from stagelens.stats.paired import paired_difference
from stagelens.stats.rates import rate
from stagelens.stats.types import Equivalence, MetricComparison, PairedDifference, Verdict
from stagelens.stats.verdict import decide_verdict, verdict_text

REQUIRED_STAGES = ("base", "sft_only", "production")


def compare_metric(
    metric: str,
    outcomes: Mapping[str, Mapping[str, Outcome]],
    *,
    clusters: Mapping[str, str] | None = None,
    margin: float = 0.05,
    level: float = 0.95,
    alpha: float = 0.05,
    min_pairs: int = MIN_PAIRS,
    n_boot: int = 10000,
    seed: int = 0,
    label: str | None = None,
    lower_is_safer: bool = True,
    outside: Mapping[str, Collection[str]] | None = None,
    neutral: bool = False,
) -> MetricComparison:
    """Rates of every stage, sft_only - production difference, equivalence, attribution,
    missing-answer bounds and the verdict.

    ``outcomes`` maps stage name -> sample id -> outcome (True: the metric's event happened,
    None: unscored). ``clusters`` maps sample id -> cluster id (prompt, scenario); where a
    cluster holds several samples every interval resamples clusters. ``label`` (default:
    ``metric``) prefixes the verdict sentence.

    ``outside`` is for a metric defined on a subset that each stage picks for itself (e.g.
    misalignment among the answers that voiced no awareness): it maps a stage to its samples
    outside that subset. Those are not unscored answers, and imputing an outcome for them
    would ask what a stage does where it behaved otherwise: each stage's rate leaves them
    out, and every comparison takes only the samples inside the subset on all the stages it
    compares, so only answers that could not be read count as unscored.
    """
    for stage in REQUIRED_STAGES:
        if stage not in outcomes:
            got = ", ".join(sorted(outcomes)) or "none"
            raise ValueError(
                f"metric {metric!r}: outcomes lack the {stage!r} stage "
                f"(needs {', '.join(REQUIRED_STAGES)}; got {got})"
            )
    pairs: tuple[dict[str, Outcome], ...] | None = None  # sft_only, production: inside both
    n_outside = 0
    if outside is not None:
        every = {*outcomes["sft_only"], *outcomes["production"]}
        outcomes = {stage: {sid: o for sid, o in per.items() if sid not in outside.get(stage, ())}
                    for stage, per in outcomes.items()}  # fmt: skip
        pairs = _inside_all(outcomes["sft_only"], outcomes["production"])
        n_outside = len(every) - len(pairs[0])
    base, sft, prod = (outcomes[s] for s in REQUIRED_STAGES)
    rates = {
        stage: rate(per_stage, level, clusters=clusters, n_boot=n_boot, seed=seed)
        for stage, per_stage in outcomes.items()
    }

    def compare(
        s: Mapping[str, Outcome], p: Mapping[str, Outcome]
    ) -> tuple[Verdict, list[str], PairedDifference, Equivalence]:
        difference = paired_difference(s, p, a_name="sft_only", b_name="production",
                                       clusters=clusters, level=level, alpha=alpha,
                                       n_boot=n_boot, seed=seed)  # fmt: skip
        equivalence = tost_binary(s, p, a_name="sft_only", b_name="production", margin=margin,
                                  alpha=alpha, clusters=clusters, min_pairs=min_pairs,
                                  n_boot=n_boot, seed=seed)  # fmt: skip
        verdict, reasons = decide_verdict(difference, equivalence, lower_is_safer)
        return verdict, reasons, difference, equivalence

    pair_sft, pair_prod = (sft, prod) if pairs is None else pairs
    scored_verdict, reasons, difference, equivalence = compare(pair_sft, pair_prod)
    missing = missingness(pair_sft, pair_prod, scored_verdict, lambda s, p: compare(s, p)[0],
                          margin=margin, lower_is_safer=lower_is_safer)  # fmt: skip
    reasons = [*reasons, *missing.reasons]
    verdict: Verdict = "inconclusive" if reasons else scored_verdict
    if outside is not None:  # the share compares all three stages: inside the subset on all
        base, sft, prod = _inside_all(base, sft, prod)
    attribution = attribution_share(base, sft, prod, clusters=clusters, level=level,
                                     n_boot=n_boot, seed=seed)  # fmt: skip
    text = verdict_text(metric if label is None else label, difference, equivalence,
                        verdict, lower_is_safer, reasons, scored_verdict, neutral)  # fmt: skip
    if n_outside:
        text += (f" {n_outside} samples fell outside the metric's subset on SFT-only or "
                 "production and are not compared.")  # fmt: skip
    return MetricComparison(
        metric=metric,
        rates=rates,
        difference=difference,
        equivalence=equivalence,
        attribution=attribution,
        missing=missing,
        verdict_scored_only=scored_verdict,
        verdict=verdict,
        verdict_reasons=reasons,
        verdict_text=text,
    )


def _inside_all(*stages: Mapping[str, Outcome]) -> tuple[dict[str, Outcome], ...]:
    """Each stage's outcomes on the samples that every one of `stages` holds."""
    shared = set.intersection(*(set(per) for per in stages))
    return tuple({sid: o for sid, o in per.items() if sid in shared} for per in stages)
