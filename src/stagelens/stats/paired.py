"""Paired difference of two stages: exact McNemar test and paired bootstrap interval."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stagelens.stats._common import (
    as_matrix,
    bootstrap_sums,
    check_level,
    check_n_boot,
    percentile_ci,
    scored_in_all,
)
from stagelens.stats.types import PairedDifference


def mcnemar_exact_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs against 1/2.

    Same definition as statsmodels' ``mcnemar(table, exact=True)``: twice the lower tail at
    min(only_a, only_b), capped at 1 (so no discordant pair gives p = 1).
    """
    from scipy import stats

    if only_a < 0 or only_b < 0:
        raise ValueError("discordant counts must be non-negative")
    m = only_a + only_b
    if m == 0:
        return 1.0
    return min(1.0, 2.0 * float(stats.binom.cdf(min(only_a, only_b), m, 0.5)))


def paired_difference(
    a: Mapping[str, bool | None],
    b: Mapping[str, bool | None],
    *,
    a_name: str,
    b_name: str,
    level: float = 0.95,
    n_boot: int = 10000,
    seed: int = 0,
) -> PairedDifference:
    """rate(a) - rate(b) on the prompts scored in both, with exact McNemar p and bootstrap CI.

    Prompts unscored on either side, or present in only one mapping, are dropped and counted in
    ``n_dropped``. The interval is a percentile bootstrap that resamples prompt pairs, so the
    correlation between the two stages on the same prompt is kept.
    """
    check_level(level)
    check_n_boot(n_boot)
    ids, n_dropped = scored_in_all(a, b)
    n = len(ids)
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    only_a = only_b = 0
    if n > 0:
        data = as_matrix(ids, a, b)
        only_a = int(np.sum((data[0] == 1) & (data[1] == 0)))
        only_b = int(np.sum((data[0] == 0) & (data[1] == 1)))
        diff = (only_a - only_b) / n
        p_value = mcnemar_exact_p(only_a, only_b)
        # Bootstrap the per-prompt difference directly: one series instead of two halves the work.
        sums = bootstrap_sums(data[0:1] - data[1:2], n_boot, seed)
        low, high = percentile_ci(sums[:, 0] / n, level)
    return PairedDifference(
        a=a_name,
        b=b_name,
        diff=diff,
        ci_low=low,
        ci_high=high,
        n_pairs=n,
        n_dropped=n_dropped,
        only_a=only_a,
        only_b=only_b,
        mcnemar_p=p_value,
        method=f"paired bootstrap percentile, B={n_boot}",
        level=level,
        n_boot=n_boot,
        seed=seed,
    )
