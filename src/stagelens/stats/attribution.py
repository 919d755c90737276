"""How much of the base -> production change the SFT stage alone reproduces."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stagelens.stats._common import (
    as_matrix,
    check_level,
    check_n_boot,
    percentile_ci,
    scored_in_all,
)
from stagelens.stats.clustered import (
    MIN_CLUSTERS,
    bootstrap_cluster_sums,
    cluster_matrix,
    clustered,
)
from stagelens.stats.types import Attribution

UNDEFINED_NOTE = "production equals base on this metric; the share is undefined"
# Rates are k/n with n <= a few thousand, so any real difference is far above this.
_ZERO = 1e-12


def attribution_share(
    base: Mapping[str, bool | None],
    sft_only: Mapping[str, bool | None],
    production: Mapping[str, bool | None],
    *,
    clusters: Mapping[str, str] | None = None,
    level: float = 0.95,
    n_boot: int = 10000,
    seed: int = 0,
) -> Attribution:
    """share = (r_sft - r_base) / (r_prod - r_base) on the prompts scored in all three stages.

    The share is not clipped: above 1 means SFT overshoots production, below 0 means SFT moved
    the rate the other way. The percentile bootstrap resamples prompts jointly for the three
    stages (whole clusters when ``clusters`` groups several samples); replicates in which
    production equals base have no share and are left out (their count goes into ``note``).
    """
    check_level(level)
    check_n_boot(n_boot)
    ids, _ = scored_in_all(base, sft_only, production)
    n = len(ids)
    unit = "cluster" if clustered(ids, clusters) else "prompt"
    method = f"ratio of rate differences, joint {unit} bootstrap percentile, B={n_boot}"
    share: float | None = None
    low: float | None = None
    high: float | None = None
    note: str | None = None
    if n == 0:
        note = "no prompt was scored for all three stages; the share is undefined"
    else:
        data = as_matrix(ids, base, sft_only, production)
        k_base, k_sft, k_prod = (int(k) for k in data.sum(axis=1))
        if abs(k_prod - k_base) / n < _ZERO:
            note = UNDEFINED_NOTE
        else:
            share = (k_sft - k_base) / (k_prod - k_base)
            sums, counts = cluster_matrix(ids, clusters, data.astype(np.float64))
            if counts.size < MIN_CLUSTERS:
                note = f"{counts.size} cluster or sample: no bootstrap interval"
            else:
                low, high, note = _interval(sums, counts, n_boot, seed, level)
    return Attribution(
        share=share,
        ci_low=low,
        ci_high=high,
        n=n,
        method=method,
        level=level,
        n_boot=n_boot,
        seed=seed,
        note=note,
    )


def _interval(
    sums: np.ndarray, counts: np.ndarray, n_boot: int, seed: int, level: float
) -> tuple[float | None, float | None, str | None]:
    reps, _ = bootstrap_cluster_sums(sums, counts, n_boot, seed)
    # The three stages share each replicate's denominator, so the ratio of the count
    # differences is the share.
    num = reps[:, 1] - reps[:, 0]
    den = reps[:, 2] - reps[:, 0]
    ok = den != 0
    excluded = int(n_boot - np.count_nonzero(ok))
    if excluded == n_boot:
        why = f"all {n_boot} bootstrap replicates had production equal to base; no interval"
        return None, None, why
    low, high = percentile_ci(num[ok] / den[ok], level)
    note = None
    if excluded:
        note = (
            f"{excluded} of {n_boot} bootstrap replicates had production equal to base and were "
            "excluded from the interval"
        )
    return low, high, note
