"""An interrupted suite resumes at sample granularity: finished samples are not paid again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagelens.evaluate.provider import BatchedHuggingFaceAPI
from stagelens.evaluate.runner import StageModel, evaluate_stage, read_outcomes
from stagelens.organism.data import pretraining_texts
from stagelens.organism.model import ModelShape, build_model, train_tokenizer
from stagelens.organism.world import World

pytestmark = pytest.mark.integration

ARGS = {"source": "organism", "n": 16, "seed": 0, "rater": "organism-exact", "max_tokens": 8}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = train_tokenizer(pretraining_texts(World(0), 200, 50, 0))
    shape = ModelShape(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                       num_attention_heads=2)  # fmt: skip
    path = tmp_path_factory.mktemp("tiny")
    build_model(tokenizer, shape, 0).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_interrupted_suite_retries_only_unfinished_samples(
    checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspect_ai.log import read_eval_log

    # batches of 4, so some samples finish before the failure
    stage = StageModel("base", str(checkpoint), "k1",
                       model_args=(("do_sample", False), ("batch_size", 4)))  # fmt: skip
    original = BatchedHuggingFaceAPI._generate_now
    generated: list[int] = []

    def failing_third_batch(self: Any, prompts: list[str], options: dict[str, Any]) -> Any:
        generated.append(len(prompts))
        if len(generated) == 3:
            raise RuntimeError("power cut")
        return original(self, prompts, options)

    monkeypatch.setattr(BatchedHuggingFaceAPI, "_generate_now", failing_third_batch)
    with pytest.raises(RuntimeError, match="resume"):
        evaluate_stage(stage, ["unsafe_response"], ARGS, tmp_path, lambda _: None, realtime=True)
    (failed,) = list(tmp_path.glob("*.eval"))
    kept = [s for s in read_eval_log(str(failed)).samples or [] if s.error is None]
    assert 0 < len(kept) < 16

    retried: list[int] = []

    def counting(self: Any, prompts: list[str], options: dict[str, Any]) -> Any:
        retried.append(len(prompts))
        return original(self, prompts, options)

    monkeypatch.setattr(BatchedHuggingFaceAPI, "_generate_now", counting)
    messages: list[str] = []
    logs = evaluate_stage(stage, ["unsafe_response"], ARGS, tmp_path, messages.append)
    assert any("resuming" in m for m in messages)
    assert sum(retried) == 16 - len(kept)  # only the unfinished samples were generated
    outcomes, _ = read_outcomes(logs["unsafe_response"])
    assert len(outcomes) == 16
    # the retried log holds every sample: the interrupted one is gone, not left beside it
    assert list(tmp_path.glob("*.eval")) == [logs["unsafe_response"]]
    assert not failed.exists()
    # progress starts from the kept samples and ends at all of them
    assert any(f"({len(kept)} samples kept)" in m for m in messages)
    assert f"base / unsafe_response: {len(kept)}/16 samples" in "\n".join(messages)
    assert any(m.startswith("base / unsafe_response: 16/16 samples in") for m in messages)
