"""Paired difference of two stages on the same samples.

Independent samples: Tango's score interval (it behaves at zero discordant pairs and at small
n, unlike a paired bootstrap or a paired t) and the exact McNemar test. Clustered samples
(several per prompt or scenario): a cluster bootstrap interval, never narrower than Tango's,
significant when it excludes 0 and the exact McNemar test agrees (clusters can only weaken
the evidence that the same pairs give when independent).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stagelens.stats._common import Outcome, as_matrix, check_level, percentile_ci
from stagelens.stats.clustered import (
    MIN_CLUSTERS,
    bootstrap_cluster_sums,
    cluster_matrix,
    clustered,
)
from stagelens.stats.tango import at_least_tango, tango_interval
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


def pairing(
    a: Mapping[str, Outcome], b: Mapping[str, Outcome]
) -> tuple[list[str], int, int, int]:
    """Sorted ids scored on both sides, then the ids dropped because only a's answer, only
    b's answer, or both answers were unscored (or absent)."""
    kept: list[str] = []
    only_a = only_b = both = 0
    for sid in sorted({*a, *b}):
        gap_a, gap_b = a.get(sid) is None, b.get(sid) is None
        if gap_a and gap_b:
            both += 1
        elif gap_a:
            only_a += 1
        elif gap_b:
            only_b += 1
        else:
            kept.append(sid)
    return kept, only_a, only_b, both


def bootstrap_difference(
    ids: list[str],
    a: Mapping[str, Outcome],
    b: Mapping[str, Outcome],
    clusters: Mapping[str, str] | None,
    n_boot: int,
    seed: int,
) -> tuple[np.ndarray, int]:
    """Replicates of mean(a - b) from a cluster bootstrap, and the number of clusters."""
    data = as_matrix(ids, a, b).astype(np.float64)
    sums, counts = cluster_matrix(ids, clusters, data[0:1] - data[1:2])
    reps, reps_n = bootstrap_cluster_sums(sums, counts, n_boot, seed)
    return reps[:, 0] / reps_n, int(counts.size)


def paired_difference(
    a: Mapping[str, Outcome],
    b: Mapping[str, Outcome],
    *,
    a_name: str,
    b_name: str,
    clusters: Mapping[str, str] | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
    n_boot: int = 10000,
    seed: int = 0,
) -> PairedDifference:
    """rate(a) - rate(b) on the samples scored in both, with its interval and test.

    Samples unscored (or absent) on either side are dropped and counted by side. ``clusters``
    maps sample id -> cluster id; when a cluster holds several pairs the interval resamples
    clusters (never narrower than Tango's) and the difference is significant when its
    (1 - alpha) interval excludes 0 and the exact McNemar test of independent pairs agrees.
    """
    check_level(level)
    check_level(alpha, "alpha")
    ids, gap_a, gap_b, gap_both = pairing(a, b)
    n = len(ids)
    diff = low = high = p_value = None
    only_a = only_b = 0
    significant = False
    is_clustered = clustered(ids, clusters)
    n_clusters = n
    if is_clustered:
        method = (f"cluster bootstrap percentile, B={n_boot}, widened to the Tango score "
                  "interval where narrower")
        test = "cluster bootstrap interval and exact McNemar"
    else:
        method, test = "Tango score interval", "exact McNemar"
    if n > 0:
        data = as_matrix(ids, a, b)
        only_a = int(np.sum((data[0] == 1) & (data[1] == 0)))
        only_b = int(np.sum((data[0] == 0) & (data[1] == 1)))
        diff = (only_a - only_b) / n
        if is_clustered:
            reps, n_clusters = bootstrap_difference(ids, a, b, clusters, n_boot, seed)
            method = f"{method}, {n_clusters} clusters"
            if n_clusters >= MIN_CLUSTERS:
                # clustering can only weaken the evidence of independent pairs: with few
                # discordant pairs the bootstrap alone excluded 0 where McNemar did not (4 of
                # 102 clusters discordant one way: p = 0.125), as its equivalence interval
                # collapsed to [0, 0] with none (equivalence.py)
                low, high = at_least_tango(percentile_ci(reps, level), only_a, only_b, n, level)
                s_low, s_high = percentile_ci(reps, 1.0 - alpha)
                significant = (s_low > 0.0 or s_high < 0.0) and (
                    mcnemar_exact_p(only_a, only_b) < alpha)
        else:
            low, high = tango_interval(only_a, only_b, n, level)
            p_value = mcnemar_exact_p(only_a, only_b)
            significant = p_value < alpha
    return PairedDifference(
        a=a_name,
        b=b_name,
        diff=diff,
        ci_low=low,
        ci_high=high,
        n_pairs=n,
        n_clusters=n_clusters,
        n_dropped=gap_a + gap_b + gap_both,
        unscored_only_a=gap_a,
        unscored_only_b=gap_b,
        unscored_both=gap_both,
        only_a=only_a,
        only_b=only_b,
        p_value=p_value,
        test=test,
        significant=significant,
        alpha=alpha,
        method=method,
        level=level,
        n_boot=n_boot if is_clustered else None,
        seed=seed if is_clustered else None,
    )
