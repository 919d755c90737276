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


def test_a_batch_s_samples_finish_before_the_next_batch_blocks_the_loop() -> None:
    """Generation blocks the event loop; without a pause between batches no sample of a long
    run finished (nor was logged) until the last batch was done."""
    import asyncio
    from typing import Any

    from stagelens.evaluate.provider import BatchedHuggingFaceAPI, _Batcher

    events: list[str] = []

    class Fake(BatchedHuggingFaceAPI):
        def __init__(self) -> None:  # no model: only the scheduler is under test
            self._batcher = _Batcher(max_batch=2)
            self._batch_tokens = 10**6
            self.tokenizer_call_args = None
            self.tokenizer = lambda text, **_: {"input_ids": text.split()}

        def _generate_now(self, prompts: list[str], options: dict[str, Any]) -> list[Any]:
            events.append("generate " + " ".join(sorted(prompts)))
            return [(p.upper(), 1, 1) for p in prompts]

    async def sample(api: Fake, prompt: str) -> None:
        text, _, _ = await api._submit(prompt, {})
        await asyncio.sleep(0.01)  # scoring and logging take the loop a few turns
        events.append(f"done {text}")

    async def main() -> None:
        api = Fake()
        await asyncio.gather(*(sample(api, p) for p in ("a", "b", "c", "d")))

    asyncio.run(main())
    assert events[0] == "generate a b"
    second = events.index("generate c d")
    assert set(events[1:second]) == {"done A", "done B"}  # finished before the next batch
    assert set(events[second + 1 :]) == {"done C", "done D"}
