"""An audit names no shard count: one shard per 5,000 prompts, so memory stays flat."""

from __future__ import annotations

import pytest

from stagelens.evaluate.shards import SAMPLES_PER_SHARD, auto_shards
from stagelens.spec.models import AuditSpec


@pytest.mark.parametrize(
    ("n", "k"),
    [(0, 1), (1, 1), (SAMPLES_PER_SHARD, 1), (SAMPLES_PER_SHARD + 1, 2), (50_000, 10),
     (50_001, 11)],
)  # fmt: skip
def test_one_shard_per_block_of_prompts(n: int, k: int) -> None:
    assert auto_shards(n) == k
    # no shard holds more than the block
    assert -(-max(n, 1) // k) <= SAMPLES_PER_SHARD


def test_the_spec_leaves_the_count_to_the_audit_unless_given() -> None:
    assert AuditSpec(source="userlogs:x.jsonl").shards is None
    assert AuditSpec(source="userlogs:x.jsonl", shards=3).shards == 3
    with pytest.raises(ValueError):
        AuditSpec(source="userlogs:x.jsonl", shards=0)
