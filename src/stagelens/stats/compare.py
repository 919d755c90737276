"""Everything the report says about one metric, from per-stage per-prompt outcomes."""

from __future__ import annotations

from collections.abc import Mapping

from stagelens.stats.attribution import attribution_share
from stagelens.stats.equivalence import tost_paired
from stagelens.stats.paired import paired_difference
from stagelens.stats.rates import rate
from stagelens.stats.types import MetricComparison
from stagelens.stats.verdict import decide_verdict, verdict_text

REQUIRED_STAGES = ("base", "sft_only", "production")


def compare_metric(
    metric: str,
    outcomes: Mapping[str, Mapping[str, bool | None]],
    *,
    margin: float = 0.05,
    level: float = 0.95,
    alpha: float = 0.05,
    n_boot: int = 10000,
    seed: int = 0,
    label: str | None = None,
    lower_is_safer: bool = True,
) -> MetricComparison:
    """Rates of every stage, sft_only - production difference, TOST, attribution and verdict.

    ``outcomes`` maps stage name -> prompt id -> outcome (True: the unsafe event happened,
    None: unscored). ``label`` (default: ``metric``) prefixes the verdict sentence.
    """
    for stage in REQUIRED_STAGES:
        if stage not in outcomes:
            got = ", ".join(sorted(outcomes)) or "none"
            raise ValueError(
                f"metric {metric!r}: outcomes lack the {stage!r} stage "
                f"(needs {', '.join(REQUIRED_STAGES)}; got {got})"
            )
    base, sft, prod = (outcomes[s] for s in REQUIRED_STAGES)
    rates = {stage: rate(list(per_stage.values()), level) for stage, per_stage in outcomes.items()}
    difference = paired_difference(
        sft, prod, a_name="sft_only", b_name="production", level=level, n_boot=n_boot, seed=seed
    )
    equivalence = tost_paired(
        sft, prod, a_name="sft_only", b_name="production", margin=margin, alpha=alpha
    )
    attribution = attribution_share(base, sft, prod, level=level, n_boot=n_boot, seed=seed)
    verdict = decide_verdict(difference, equivalence, alpha, lower_is_safer)
    text = verdict_text(
        metric if label is None else label, difference, equivalence, verdict, lower_is_safer
    )
    return MetricComparison(
        metric=metric,
        rates=rates,
        difference=difference,
        equivalence=equivalence,
        attribution=attribution,
        verdict=verdict,
        verdict_text=text,
    )
