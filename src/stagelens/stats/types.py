"""Result types of the statistics layer.

Every number the toolkit reports travels with its sample size, the method that
produced its interval and the interval's level, so a report can never show a
bare rate. Unscored samples are counted beside every rate and every pairing.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from stagelens.records import StrictModel

Verdict = Literal["equivalent", "production_safer", "sft_only_safer", "inconclusive"]


class RateEstimate(StrictModel):
    """Share of scored samples in which the metric's event happened."""

    rate: float | None  # None when no sample was scored
    ci_low: float | None
    ci_high: float | None
    k: int  # samples with the event
    n: int  # scored samples (the denominator)
    n_unscored: int  # samples the rater could not classify; not in n
    n_total: int  # n + n_unscored: every sample the stage was given
    unscored_share: float | None  # n_unscored / n_total (None when the stage had no sample)
    n_clusters: int | None = None  # clusters behind a cluster-bootstrap interval
    method: str  # e.g. "wilson" or "cluster bootstrap percentile, B=10000, 40 clusters"
    level: float  # e.g. 0.95

    @model_validator(mode="before")
    @classmethod
    def _totals(cls, data: Any) -> Any:
        # the totals follow from n and n_unscored; filling them here keeps callers short
        if (
            isinstance(data, dict)
            and isinstance(data.get("n"), int)
            and isinstance(data.get("n_unscored"), int)
        ):
            total = data["n"] + data["n_unscored"]
            data = {"n_total": total, "unscored_share": data["n_unscored"] / total if total
                    else None, **data}  # fmt: skip
        return data


class ClusteredMean(StrictModel):
    """Mean of per-sample values with a percentile interval from resampling whole clusters."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int  # scored samples
    n_clusters: int  # clusters drawn, including any whose samples are all unscored
    n_unscored: int
    method: str
    level: float
    n_boot: int
    seed: int


class PairedDifference(StrictModel):
    """rate(a) - rate(b) on the samples scored for both a and b."""

    a: str  # stage name, e.g. "sft_only"
    b: str  # stage name, e.g. "production"
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    n_pairs: int
    n_clusters: int  # clusters among the pairs (= n_pairs for independent samples)
    n_dropped: int  # samples left out because either side was unscored or absent
    unscored_only_a: int  # dropped because only a's answer was unscored or absent
    unscored_only_b: int
    unscored_both: int
    only_a: int  # discordant pairs: event in a, not in b
    only_b: int  # discordant pairs: event in b, not in a
    p_value: float | None  # two-sided test of no difference; None for a bootstrap interval
    test: str  # e.g. "exact McNemar"
    significant: bool  # the test rejects no difference at alpha (or the interval excludes 0)
    alpha: float
    method: str  # how the interval was computed
    level: float
    n_boot: int | None
    seed: int | None


class Equivalence(StrictModel):
    """Equivalence of a and b: the (1 - 2 alpha) interval of a - b inside (-margin, margin)."""

    a: str
    b: str
    margin: float  # in rate units, e.g. 0.05 for 5 points
    diff: float | None
    ci_low: float | None  # (1 - 2 alpha) interval, the one the two one-sided tests inspect
    ci_high: float | None
    p_value: float | None  # max of the two one-sided p-values; None for a bootstrap interval
    alpha: float
    equivalent: bool
    n_pairs: int
    min_pairs: int  # below this many pairs equivalence is never claimed
    method: str
    reason: str | None = None  # why equivalence could not be assessed, if it could not


class Attribution(StrictModel):
    """Share of the base -> production change that SFT alone reproduces."""

    share: float | None  # (sft_only - base) / (production - base)
    ci_low: float | None
    ci_high: float | None
    n: int  # samples scored for all three stages
    method: str
    level: float
    n_boot: int
    seed: int
    note: str | None = None  # why share or its interval is undefined, if it is


class Missingness(StrictModel):
    """How unscored answers could change the verdict (sft_only versus production)."""

    unscored_share: dict[str, float | None]  # stage -> share of its samples unscored
    share_gap: float  # |unscored share of sft_only - that of production|
    dropped_pairs: int
    # the verdict with every unscored answer imputed against one stage: "sft_only_worse" fills
    # sft_only's gaps with the unsafe outcome and production's with the safe one; None when
    # nothing was unscored
    verdict_sft_only_worse: Verdict | None
    verdict_production_worse: Verdict | None
    reasons: list[str]  # why missing answers make the verdict inconclusive; empty if they do not


class MetricComparison(StrictModel):
    """Everything the report says about one metric."""

    metric: str
    rates: dict[str, RateEstimate]  # stage name -> rate
    difference: PairedDifference  # sft_only - production
    equivalence: Equivalence
    attribution: Attribution
    missing: Missingness
    verdict_scored_only: Verdict  # the verdict from the scored pairs alone
    verdict: Verdict  # after the rules on sample size and missing answers
    verdict_reasons: list[str]  # why the verdict is inconclusive, when rules made it so
    verdict_text: str  # one plain-language sentence
