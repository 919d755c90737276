"""Cluster bootstrap: intervals for samples that are not independent.

Samples that share a cluster (several wordings of one scenario, several epochs of one prompt,
several episodes of one problem) are correlated, so an interval that treats them as
independent is too narrow. Each bootstrap replicate draws whole clusters with replacement;
a mean is the ratio (sum of values) / (number of scored samples) over the drawn clusters, so
clusters with a missing cell weigh by what they hold. With every cluster a single sample this
is the ordinary (pairs) bootstrap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from stagelens.stats._common import check_level, check_n_boot, percentile_ci
from stagelens.stats.types import ClusteredMean

# Bound each chunk of resampled indices to about this many int64 cells (~16 MB), so memory stays
# flat however large n_boot * clusters gets, while chunks stay big enough for numpy to be fast.
_CHUNK_CELLS = 2_000_000
# Fewer clusters than this give no interval: resampling one cluster always draws the same.
MIN_CLUSTERS = 2


def clustered(ids: Sequence[str], clusters: Mapping[str, str] | None) -> bool:
    """True when some cluster holds more than one of ``ids`` (then intervals must resample
    clusters, not samples)."""
    if clusters is None:
        return False
    seen: set[str] = set()
    for sid in ids:
        cluster = clusters.get(sid, sid)
        if cluster in seen:
            return True
        seen.add(cluster)
    return False


def cluster_matrix(
    ids: Sequence[str], clusters: Mapping[str, str] | None, rows: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-cluster sums of each row of ``rows`` (rows x len(ids)), and per-cluster counts.

    Clusters are ordered by their first sample in ``ids`` (callers sort ids), so a seeded
    bootstrap does not depend on dict order. A sample missing from ``clusters`` is its own.
    """
    order: dict[str, int] = {}
    index = np.empty(len(ids), dtype=np.int64)
    for i, sid in enumerate(ids):
        cluster = clusters.get(sid, sid) if clusters is not None else sid
        index[i] = order.setdefault(cluster, len(order))
    g = len(order)
    sums = np.zeros((rows.shape[0], g), dtype=np.float64)
    for r in range(rows.shape[0]):
        np.add.at(sums[r], index, rows[r])
    counts = np.bincount(index, minlength=g).astype(np.float64)
    return sums, counts


def bootstrap_cluster_sums(
    sums: NDArray[np.float64], counts: NDArray[np.float64], n_boot: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Resample clusters (columns) with replacement, the same draw for every row.

    Returns (n_boot, rows) replicate sums and (n_boot,) replicate sample counts. Integer-valued
    inputs give exactly integer sums (float64 holds them exactly), so equal rates compare equal.
    """
    check_n_boot(n_boot)
    rows, g = sums.shape
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, rows), dtype=np.float64)
    out_n = np.empty(n_boot, dtype=np.float64)
    chunk = max(1, _CHUNK_CELLS // max(g, 1))
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        idx = rng.integers(0, g, size=(stop - start, g))
        for r in range(rows):
            out[start:stop, r] = sums[r][idx].sum(axis=1)
        out_n[start:stop] = counts[idx].sum(axis=1)
    return out, out_n


def cluster_bootstrap_mean(
    values: Mapping[str, float | None],
    clusters: Mapping[str, str],
    *,
    level: float = 0.95,
    n_boot: int = 10000,
    seed: int = 0,
) -> ClusteredMean:
    """Mean of the scored values with a percentile cluster-bootstrap interval (None with fewer
    than `MIN_CLUSTERS` clusters).

    ``values``: sample id -> value (None: unscored, left out and counted); ``clusters``:
    sample id -> cluster id (a sample missing from it is a cluster of its own).
    """
    check_level(level)
    check_n_boot(n_boot)
    ids = sorted(values)  # unscored samples stay: their clusters are drawn like any other
    scored = [sid for sid in ids if values[sid] is not None]
    n_unscored = len(ids) - len(scored)
    method = f"cluster bootstrap percentile, B={n_boot}"
    if not scored:
        return ClusteredMean(estimate=None, ci_low=None, ci_high=None, n=0, n_clusters=0,
                             n_unscored=n_unscored, method=method, level=level, n_boot=n_boot,
                             seed=seed)  # fmt: skip
    value = np.array([[float(values[sid] or 0.0) for sid in ids]], dtype=np.float64)
    present = np.array([[float(values[sid] is not None) for sid in ids]], dtype=np.float64)
    # the scored count is a row of its own, so a cluster with gaps weighs by what it holds
    sums, counts = cluster_matrix(ids, clusters, np.vstack([value, present]))
    reps, _ = bootstrap_cluster_sums(sums, counts, n_boot, seed)
    # A cluster whose samples are all unscored is drawn like the others (the benchmark's
    # scenarios are the units), and adds nothing to either sum; a replicate that drew only
    # such clusters has no mean and is left out.
    g = int(sums.shape[1])
    low = high = None
    if g >= MIN_CLUSTERS:  # one cluster drawn over and over says nothing about the spread
        ok = reps[:, 1] > 0
        low, high = percentile_ci(reps[ok, 0] / reps[ok, 1], level)
    return ClusteredMean(
        estimate=float(value.sum() / len(scored)),
        ci_low=low,
        ci_high=high,
        n=len(scored),
        n_clusters=g,
        n_unscored=n_unscored,
        method=f"{method}, {g} clusters",
        level=level,
        n_boot=n_boot,
        seed=seed,
    )
