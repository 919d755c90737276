"""Everything the report says about one metric, from per-stage per-sample outcomes."""

from __future__ import annotations

from collections.abc import Mapping

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
) -> MetricComparison:
    """Rates of every stage, sft_only - production difference, equivalence, attribution,
    missing-answer bounds and the verdict.

    ``outcomes`` maps stage name -> sample id -> outcome (True: the metric's event happened,
    None: unscored). ``clusters`` maps sample id -> cluster id (prompt, scenario); where a
    cluster holds several samples every interval resamples clusters. ``label`` (default:
    ``metric``) prefixes the verdict sentence.
    """
    for stage in REQUIRED_STAGES:
        if stage not in outcomes:
            got = ", ".join(sorted(outcomes)) or "none"
            raise ValueError(
                f"metric {metric!r}: outcomes lack the {stage!r} stage "
                f"(needs {', '.join(REQUIRED_STAGES)}; got {got})"
            )
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

    scored_verdict, reasons, difference, equivalence = compare(sft, prod)
    missing = missingness(sft, prod, scored_verdict, lambda s, p: compare(s, p)[0],
                          margin=margin, lower_is_safer=lower_is_safer)  # fmt: skip
    reasons = [*reasons, *missing.reasons]
    verdict: Verdict = "inconclusive" if reasons else scored_verdict
    attribution = attribution_share(base, sft, prod, clusters=clusters, level=level,
                                     n_boot=n_boot, seed=seed)  # fmt: skip
    text = verdict_text(metric if label is None else label, difference, equivalence,
                        verdict, lower_is_safer, reasons, scored_verdict)  # fmt: skip
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
