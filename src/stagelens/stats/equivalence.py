"""Equivalence of two stages: two one-sided paired t-tests (TOST) on per-prompt differences."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from stagelens.stats._common import as_matrix, check_level, scored_in_all
from stagelens.stats.types import Equivalence

_METHOD = "TOST, paired t (statsmodels ttost_paired)"
# When every paired difference is the same, the standard error is 0 and statsmodels' t statistics
# are infinite (nan when the difference sits exactly on a bound), with runtime warnings. A constant
# difference is known exactly, so the test reduces to comparing it with the margin; this agrees
# with statsmodels' limit wherever that is finite.
_METHOD_DEGENERATE = (
    "TOST, paired t; all paired differences equal (zero variance): p = 0 if |diff| < margin else 1"
)


def tost_paired(
    a: Mapping[str, bool | None],
    b: Mapping[str, bool | None],
    *,
    a_name: str,
    b_name: str,
    margin: float = 0.05,
    alpha: float = 0.05,
) -> Equivalence:
    """TOST of H0: |mean(a - b)| >= margin on the prompts scored in both stages.

    The p-value is the larger of the two one-sided paired t-test p-values, as in statsmodels'
    ``ttost_paired(x_a, x_b, -margin, margin)``; ``ci_low``/``ci_high`` is the (1 - 2 alpha)
    paired t interval, which lies inside (-margin, margin) exactly when p < alpha.
    """
    if not margin > 0.0:
        raise ValueError(f"margin must be positive, got {margin!r}")
    check_level(alpha, "alpha")
    if alpha >= 0.5:
        raise ValueError(f"alpha must be below 0.5 for a (1 - 2 alpha) interval, got {alpha!r}")
    ids, _ = scored_in_all(a, b)
    n = len(ids)
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    method = _METHOD
    if n > 0:
        data = as_matrix(ids, a, b)
        d = (data[0] - data[1]).astype(np.float64)
        diff = float(d.mean())
        if n >= 2:
            if np.all(d == d[0]):
                method = _METHOD_DEGENERATE
                p_value = 0.0 if abs(diff) < margin else 1.0
                low = high = diff
            else:
                p_value, low, high = _tost(diff, float(d.std(ddof=1)), n, margin, alpha)
    return Equivalence(
        a=a_name,
        b=b_name,
        margin=margin,
        diff=diff,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        alpha=alpha,
        equivalent=p_value is not None and p_value < alpha,
        n_pairs=n,
        method=method,
    )


def _tost(
    mean: float, sd: float, n: int, margin: float, alpha: float
) -> tuple[float, float, float]:
    from scipy import stats

    se = sd / math.sqrt(n)
    df = n - 1
    # sf/cdf rather than 1 - cdf keeps precision in the tails, as statsmodels does.
    p_lower = float(stats.t.sf((mean + margin) / se, df))
    p_upper = float(stats.t.cdf((mean - margin) / se, df))
    half = float(stats.t.ppf(1.0 - alpha, df)) * se
    return max(p_lower, p_upper), mean - half, mean + half
