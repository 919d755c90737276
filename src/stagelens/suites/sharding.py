"""A suite's slice of its dataset for a sharded run: shard "i/k" is the i-th of k contiguous
slices (sizes differ by at most one; every sample in exactly one shard). The suite task takes
``shard: str | None = None`` and calls `apply_shard` (or, as `user_audit` does to build only
its slice's samples, `shard_samples` on its source's rows, which carry their ids);
`stagelens.evaluate.shards` runs and merges the shards."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from inspect_ai.dataset import Dataset, Sample

T = TypeVar("T")
SHARD_ARG = "shard"


def parse_shard(shard: str) -> tuple[int, int]:
    """("i/k") -> (i, k), with 0 <= i < k."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", shard)
    if match is None:
        raise ValueError(f"shard {shard!r}: expected 'i/k' (shard i of k, counted from 0)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or index >= count:
        raise ValueError(f"shard {shard!r}: need k >= 1 and 0 <= i < k")
    return index, count


def shard_samples(samples: Sequence[T], shard: str) -> list[T]:
    """Shard "i/k" of `samples`: the i-th of k contiguous slices, sizes differing by at most one.

    Contiguous rather than strided so a shard is one run of the source order (a sampled
    audit's prompts stay in file order within a shard); deterministic for a given order, so
    apply it after any seeded shuffle or selection, which every shard must repeat identically.
    """
    index, count = parse_shard(shard)
    n = len(samples)
    return list(samples[index * n // count : (index + 1) * n // count])


def apply_shard(dataset: Dataset | Sequence[Sample], shard: str | None) -> Dataset:
    """The dataset a suite task evaluates for its ``shard`` argument (None: all of it).

    Samples without an id get their 1-based position in the whole dataset, the id Inspect
    would have given them unsharded, so ids stay unique across shards and a merged log's ids
    equal an unsharded run's (and `eval_retry` can match samples by id).
    """
    from inspect_ai.dataset import Dataset, MemoryDataset

    samples = list(dataset)
    named = dataset if isinstance(dataset, Dataset) else None
    with_ids = [s if s.id is not None else s.model_copy(update={"id": pos + 1})
                for pos, s in enumerate(samples)]  # fmt: skip
    if shard is not None:
        with_ids = shard_samples(with_ids, shard)
        if samples and not with_ids:  # Inspect refuses an empty dataset, less clearly
            raise ValueError(f"shard {shard} of {len(samples)} samples is empty: "
                             f"use at most {len(samples)} shards")  # fmt: skip
    return MemoryDataset(
        with_ids,
        name=named.name if named is not None else None,
        location=named.location if named is not None else None,
        shuffled=named.shuffled if named is not None else False,
    )


__all__ = ["SHARD_ARG", "apply_shard", "parse_shard", "shard_samples"]
