"""Helpers shared by the estimators (private)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

Outcome = bool | None

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


def percentile_ci(values: NDArray[np.float64], level: float) -> tuple[float, float]:
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)
