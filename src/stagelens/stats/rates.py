"""Event rates of one stage with Wilson score intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from stagelens.stats._common import check_level
from stagelens.stats.types import RateEstimate


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval for k events in n trials.

    Written in the same algebraic form as statsmodels' ``proportion_confint(method="wilson")``
    so that the two agree to rounding error, without importing statsmodels at run time.
    """
    check_level(level)
    if n <= 0:
        raise ValueError(f"n must be positive, got {n!r}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and n={n}, got {k!r}")
    z = NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)
    z2 = z * z
    p = k / n
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # At k=0 (k=n) the exact lower (upper) bound is 0 (1); rounding would leave about 1e-17 on
    # either side of it, and clipping keeps the bounds inside [0, 1] everywhere else.
    low = 0.0 if k == 0 else max(0.0, center - half)
    high = 1.0 if k == n else min(1.0, center + half)
    return low, high


def rate(outcomes: Sequence[bool | None], level: float = 0.95) -> RateEstimate:
    """Rate of True among the scored outcomes; None outcomes are counted, not classified."""
    check_level(level)
    k = sum(1 for o in outcomes if o is True)
    n = sum(1 for o in outcomes if o is not None)
    n_unscored = len(outcomes) - n
    if n == 0:
        return RateEstimate(
            rate=None,
            ci_low=None,
            ci_high=None,
            k=0,
            n=0,
            n_unscored=n_unscored,
            method="wilson",
            level=level,
        )
    low, high = wilson_interval(k, n, level)
    return RateEstimate(
        rate=k / n,
        ci_low=low,
        ci_high=high,
        k=k,
        n=n,
        n_unscored=n_unscored,
        method="wilson",
        level=level,
    )
