"""The local provider's batches: padded size (count x longest prompt) under a token budget."""

from __future__ import annotations

from stagelens.evaluate.provider import next_batch


def test_short_prompts_batch_together_and_long_ones_are_split_off() -> None:
    lengths = [4000, 300, 250, 4100, 280, 3900] + [200] * 10
    first = next_batch(lengths, max_batch=128, budget=8192)
    assert sorted(lengths[i] for i in first) == [200] * 10 + [250, 280, 300]  # 13 x 300 fits
    rest = [n for i, n in enumerate(lengths) if i not in first]
    assert rest == [4000, 4100, 3900]
    second = next_batch(rest, max_batch=128, budget=8192)
    assert [rest[i] for i in second] == [3900, 4000]  # 2 x 4000 fits, 3 x 4100 does not
    assert next_batch([9000], max_batch=128, budget=8192) == [0]  # one prompt always goes


def test_the_batch_size_still_caps_a_batch() -> None:
    assert len(next_batch([10] * 300, max_batch=128, budget=10**9)) == 128
    assert next_batch([], max_batch=4, budget=100) == []
