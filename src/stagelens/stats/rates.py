"""Event rates of one stage with Wilson score intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

from stagelens.stats._common import check_level
from stagelens.stats.clustered import cluster_bootstrap_mean, clustered
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


def rate(
    outcomes: Mapping[str, bool | None] | Sequence[bool | None],
    level: float = 0.95,
    *,
    clusters: Mapping[str, str] | None = None,
    n_boot: int = 10000,
    seed: int = 0,
) -> RateEstimate:
    """Rate of True among the scored outcomes; None outcomes are counted, not classified.

    ``outcomes`` maps sample id -> outcome (a plain sequence is read as independent samples).
    With ``clusters`` (sample id -> cluster id) in which some cluster holds several scored
    samples, the interval is a cluster bootstrap; otherwise it is Wilson's.
    """
    check_level(level)
    mapping = outcomes if isinstance(outcomes, Mapping) else dict(enumerate(outcomes))
    values = list(mapping.values())
    k = sum(1 for o in values if o is True)
    n = sum(1 for o in values if o is not None)
    n_unscored = len(values) - n
    common = {
        "k": k,
        "n": n,
        "n_unscored": n_unscored,
        "n_total": len(values),
        "unscored_share": n_unscored / len(values) if values else None,
        "level": level,
    }
    if n == 0:
        return RateEstimate(rate=None, ci_low=None, ci_high=None, method="wilson", **common)
    scored = sorted(str(sid) for sid, o in mapping.items() if o is not None)
    if isinstance(outcomes, Mapping) and clustered(scored, clusters):
        assert clusters is not None
        as_float = {str(sid): None if o is None else float(o) for sid, o in mapping.items()}
        boot = cluster_bootstrap_mean(as_float, clusters, level=level, n_boot=n_boot, seed=seed)
        return RateEstimate(rate=k / n, ci_low=boot.ci_low, ci_high=boot.ci_high,
                            n_clusters=boot.n_clusters, method=boot.method,
                            **common)  # fmt: skip
    low, high = wilson_interval(k, n, level)
    return RateEstimate(rate=k / n, ci_low=low, ci_high=high, method="wilson", **common)
