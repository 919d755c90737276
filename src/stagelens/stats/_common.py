"""Helpers shared by the paired and attribution estimators (private)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

Outcome = bool | None

# Bound each chunk of bootstrap indices to about this many int64 cells (~16 MB), so memory stays
# flat however large n_boot * n gets, while chunks stay big enough for numpy to be fast.
_CHUNK_CELLS = 2_000_000


def check_level(level: float, name: str = "level") -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {level!r}")


def check_n_boot(n_boot: int) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot!r}")


def scored_in_all(*stages: Mapping[str, Outcome]) -> tuple[list[str], int]:
    """Prompt ids scored in every mapping, and how many ids (in any mapping) were left out.

    The ids are sorted so that a seeded bootstrap does not depend on dict insertion order.
    """
    every: set[str] = set()
    for stage in stages:
        every.update(stage)
    kept = sorted(pid for pid in every if all(stage.get(pid) is not None for stage in stages))
    return kept, len(every) - len(kept)


def as_matrix(ids: list[str], *stages: Mapping[str, Outcome]) -> NDArray[np.int64]:
    """One row per stage, one 0/1 column per prompt id (all ids must be scored)."""
    return np.array([[1 if stage[pid] else 0 for pid in ids] for stage in stages], dtype=np.int64)


def bootstrap_sums(data: NDArray[np.int64], n_boot: int, seed: int) -> NDArray[np.int64]:
    """Resample columns of ``data`` (rows: series, columns: prompts) with replacement.

    The same resampled prompt indices are used for every row, which keeps the pairing. Returns
    an (n_boot, rows) array of per-replicate sums; callers divide by n. Sums stay integers so
    that a replicate whose two rates are equal compares exactly equal.
    """
    rows, n = data.shape
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, rows), dtype=np.int64)
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        idx = rng.integers(0, n, size=(stop - start, n))
        for r in range(rows):
            out[start:stop, r] = data[r][idx].sum(axis=1)
    return out


def percentile_ci(values: NDArray[np.float64], level: float) -> tuple[float, float]:
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)
