"""Result types of the statistics layer.

Every number the toolkit reports travels with its sample size, the method that
produced its interval and the interval's level, so a report can never show a
bare rate.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Verdict = Literal["equivalent", "production_safer", "sft_only_safer", "inconclusive"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateEstimate(_Frozen):
    """Share of scored samples in which the metric's event happened."""

    rate: float | None  # None when no sample was scored
    ci_low: float | None
    ci_high: float | None
    k: int  # samples with the event
    n: int  # scored samples (the denominator)
    n_unscored: int  # samples the rater could not classify; not in n
    method: str  # e.g. "wilson"
    level: float  # e.g. 0.95


class PairedDifference(_Frozen):
    """rate(a) - rate(b) on the prompts scored for both a and b."""

    a: str  # stage name, e.g. "sft_only"
    b: str  # stage name, e.g. "production"
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    n_pairs: int
    n_dropped: int  # prompts left out because either side was unscored
    only_a: int  # discordant pairs: event in a, not in b
    only_b: int  # discordant pairs: event in b, not in a
    mcnemar_p: float | None  # exact (binomial) McNemar test, two-sided
    method: str  # e.g. "paired bootstrap percentile, B=10000"
    level: float
    n_boot: int
    seed: int


class Equivalence(_Frozen):
    """Two one-sided tests on the paired difference a - b with margin +-margin."""

    a: str
    b: str
    margin: float  # in rate units, e.g. 0.05 for 5 points
    diff: float | None
    ci_low: float | None  # (1 - 2 alpha) interval, the one TOST inspects
    ci_high: float | None
    p_value: float | None  # max of the two one-sided p-values
    alpha: float
    equivalent: bool
    n_pairs: int
    method: str  # e.g. "TOST, paired t (statsmodels ttost_paired)"


class Attribution(_Frozen):
    """Share of the base -> production change that SFT alone reproduces."""

    share: float | None  # (sft_only - base) / (production - base)
    ci_low: float | None
    ci_high: float | None
    n: int  # prompts scored for all three stages
    method: str
    level: float
    n_boot: int
    seed: int
    note: str | None = None  # why share or its interval is undefined, if it is


class MetricComparison(_Frozen):
    """Everything the report says about one metric."""

    metric: str
    rates: dict[str, RateEstimate]  # stage name -> rate
    difference: PairedDifference  # sft_only - production
    equivalence: Equivalence
    attribution: Attribution
    verdict: Verdict
    verdict_text: str  # one plain-language sentence
