"""Tango's asymptotic score interval and tests for a difference of paired proportions.

For pairs (x_a, x_b) of 0/1 outcomes with b = #(1, 0) and c = #(0, 1) discordant pairs among
n, the difference is delta = p_a - p_b = (b - c) / n. Tango (1998, Stat Med 17:891-908) tests
delta = d with the score statistic

    T(d) = (b - c - n d) / sqrt(n (2 q(d) + d (1 - d)))

where q(d) is the maximum-likelihood estimate of P(0, 1) under delta = d, a root of
2n q^2 + W q - c d (1 - d) = 0 with W = -b - c + (2n - b + c) d. The interval is
{d : |T(d)| < z}; T decreases in d, so each bound is one root. Unlike the Wald or a paired-t
interval it does not collapse to a point when b = c = 0: with n pairs and no discordant one
the 90% interval is about +-2.7 / n wide, so a handful of identical pairs proves nothing.
Fagerland, Lydersen & Laake (2014, Stat Med 33:2850) recommend it for paired proportions.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EDGE = 1e-12  # distance from +-1 at which the root search starts


def _q(b: int, c: int, n: int, d: float) -> float:
    w = -b - c + (2 * n - b + c) * d
    disc = w * w + 8.0 * n * c * d * (1.0 - d)
    return (math.sqrt(max(disc, 0.0)) - w) / (4.0 * n)


def tango_statistic(b: int, c: int, n: int, d: float) -> float:
    """Tango's score statistic for H0: delta = d (positive when the data lie above d)."""
    _check_counts(b, c, n)
    if not -1.0 <= d <= 1.0:
        raise ValueError(f"d must lie in [-1, 1], got {d!r}")
    num = b - c - n * d
    var = n * (2.0 * _q(b, c, n, d) + d * (1.0 - d))
    if var <= 0.0:
        # only at d = 0 with b = c = 0 (0/0, the limit is 0) or at d = +-1
        return 0.0 if num == 0 else math.copysign(math.inf, num)
    return num / math.sqrt(var)


def tango_interval(b: int, c: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Tango score interval for delta = (b - c) / n at ``level``."""
    from scipy.optimize import brentq

    _check_counts(b, c, n)
    if n == 0:
        raise ValueError("n must be positive")
    z = NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)
    estimate = (b - c) / n

    def above(d: float) -> float:
        return tango_statistic(b, c, n, d) - z

    def below(d: float) -> float:
        return tango_statistic(b, c, n, d) + z

    lo_end, hi_end = -1.0 + _EDGE, 1.0 - _EDGE
    low = -1.0 if estimate == -1.0 or above(lo_end) <= 0 else float(
        brentq(above, lo_end, estimate, xtol=1e-14, rtol=1e-15, maxiter=500)
    )
    high = 1.0 if estimate == 1.0 or below(hi_end) >= 0 else float(
        brentq(below, estimate, hi_end, xtol=1e-14, rtol=1e-15, maxiter=500)
    )
    return low, high


def at_least_tango(
    interval: tuple[float, float], b: int, c: int, n: int, level: float
) -> tuple[float, float]:
    """A clustered interval widened to Tango's where narrower: clusters can only weaken the
    evidence the same pairs give when independent, and a cluster bootstrap with no (or few)
    discordant pairs collapses towards [0, 0]."""
    t_low, t_high = tango_interval(b, c, n, level)
    return min(interval[0], t_low), max(interval[1], t_high)


def tango_tost_p(b: int, c: int, n: int, margin: float) -> float:
    """p-value of the two one-sided score tests of H0: |delta| >= margin (the larger one)."""
    normal = NormalDist()
    p_low = 1.0 - normal.cdf(tango_statistic(b, c, n, -margin))  # H0: delta <= -margin
    p_high = normal.cdf(tango_statistic(b, c, n, margin))  # H0: delta >= margin
    return max(p_low, p_high)


def _check_counts(b: int, c: int, n: int) -> None:
    if b < 0 or c < 0 or b + c > n:
        raise ValueError(f"need 0 <= b, c and b + c <= n; got b={b}, c={c}, n={n}")
