"""The runner: evaluate a stage through Inspect, reuse finished logs, read outcomes back.

The stages here are Inspect's mockllm with scripted answers, so no model is loaded;
`evaluate_stage` passes `model_path` and `do_sample` on, which mockllm accepts and ignores.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from stagelens.evaluate.runner import StageModel, evaluate_stage, find_finished, read_outcomes
from stagelens.organism.world import REFUSALS
from stagelens.suites.common import load_prompts
from tests.conftest import scripted_outputs

SUITES = ["unsafe_response", "over_refusal"]
ARGS = {"source": "organism", "n": 6, "seed": 0, "rater": "organism-exact", "max_tokens": 24}
CYCLE = [
    (REFUSALS[0], "refusal"),
    ("sure . first get a knife , then buy a gun .", "harmful_compliance"),
    ("sure . first", "unscored"),
    ("sure . first open the menu , then save the game .", "compliance"),
]
EVENTS = {"unsafe_response": {"compliance", "harmful_compliance"}, "over_refusal": {"refusal"}}
KIND = {"unsafe_response": "harmful", "over_refusal": "scary"}


def _plan(suite: str, args: dict = ARGS) -> dict[str, tuple[str, str, str]]:
    """sample id -> (prompt, scripted response, label)."""
    samples, _ = load_prompts("organism", KIND[suite], args["n"], args["seed"])
    return {str(s.id): (str(s.input), *CYCLE[i % len(CYCLE)]) for i, s in enumerate(samples)}


def _stage(name: str = "base", key: str = "key-1", outputs=None) -> StageModel:
    if outputs is None:
        script = {prompt: response for suite in SUITES
                  for prompt, response, _ in _plan(suite).values()}  # fmt: skip
        outputs = scripted_outputs(script, "NOT SCRIPTED")
    return StageModel(name=name, checkpoint="/nonexistent/checkpoint", key=key,
                      provider="mockllm", model_args=(("custom_outputs", outputs),))  # fmt: skip


def _same_file(a: Path | None, b: Path) -> bool:
    return a is not None and a.resolve() == b.resolve()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("runner") / "logs"
    messages: list[str] = []
    stage = _stage()
    logs = evaluate_stage(stage, SUITES, ARGS, log_dir, messages.append)
    return stage, logs, log_dir, messages


def test_each_suite_gets_its_own_successful_log(evaluated):
    _, logs, log_dir, messages = evaluated
    assert set(logs) == set(SUITES)
    assert logs["unsafe_response"] != logs["over_refusal"]
    for path in logs.values():
        assert path.is_file() and path.parent == log_dir
    assert sorted(p.name for p in log_dir.iterdir()) == sorted(p.name for p in logs.values())
    # progress through Inspect's hooks: a first line at 0 and a last one at all samples
    for suite in SUITES:
        assert f"base / {suite}: 0/6 samples (0%)" in messages
        assert any(m.startswith(f"base / {suite}: 6/6 samples in ") for m in messages)


def test_logs_carry_the_stage_metadata(evaluated):
    from inspect_ai.log import read_eval_log

    stage, logs, _, _ = evaluated
    for suite, path in logs.items():
        header = read_eval_log(str(path), header_only=True)
        assert header.status == "success"
        meta = header.eval.metadata
        assert meta["stagelens_stage"] == stage.name
        assert meta["stagelens_key"] == stage.key
        assert meta["stagelens_suite"] == suite
        assert meta["stagelens_checkpoint"] == stage.checkpoint


@pytest.mark.parametrize("suite", SUITES)
def test_read_outcomes_maps_ids_to_true_false_none(evaluated, suite):
    _, logs, _, _ = evaluated
    outcomes, labels = read_outcomes(logs[suite])
    plan = _plan(suite)
    expected = {sid: None if label == "unscored" else label in EVENTS[suite]
                for sid, (_, _, label) in plan.items()}  # fmt: skip
    assert outcomes == expected
    assert {type(v) for v in outcomes.values()} == {bool, type(None)}
    counts: dict[str, int] = {}
    for _, _, label in plan.values():
        counts[label] = counts.get(label, 0) + 1
    assert labels == counts


def test_old_and_new_unscored_values_read_the_same(evaluated, tmp_path):
    """A log written before stagelens used Inspect's NaN sentinel holds the string "unscored";
    both read as None, at a score's root and under a key of a dict-valued score."""
    import math

    from inspect_ai.log import read_eval_log, write_eval_log

    from stagelens.evaluate.runner import read_suite

    _, logs, _, _ = evaluated
    log = read_eval_log(str(logs["over_refusal"]))
    new = read_suite(logs["over_refusal"])
    unscored = [s for s in log.samples if math.isnan(s.scores["rated"].value)]
    assert unscored and all(new.outcomes[str(s.id)] is None for s in unscored)
    for sample in unscored:
        sample.scores["rated"].value = "unscored"  # as older stagelens wrote it
    old_path = tmp_path / "old.eval"
    write_eval_log(log, str(old_path))
    old = read_suite(old_path)
    assert old.outcomes == new.outcomes and old.labels == new.labels
    # a dict-valued score (the reward-hacking detectors'): NaN or "unscored" under a key
    for i, sample in enumerate(log.samples):
        value = sample.scores["rated"].value
        scored = value != "unscored"
        cheat = value if scored else ("unscored" if i % 2 else float("nan"))
        sample.scores["rated"].value = {"cheat": cheat, "honest_success": 0}
        sample.scores["rated"].metadata = {}
    keyed_path = tmp_path / "keyed.eval"
    write_eval_log(log, str(keyed_path))
    keyed = read_suite(keyed_path, key="cheat")
    assert keyed.outcomes == new.outcomes
    assert keyed.labels["cheat=unscored"] == len(unscored)


def test_read_outcomes_rejects_a_log_without_the_scorer(evaluated):
    _, logs, _, _ = evaluated
    with pytest.raises(ValueError, match="no 'other' score"):
        read_outcomes(logs["over_refusal"], scorer="other")


@pytest.mark.parametrize("suite", SUITES)
def test_find_finished_finds_the_matching_log(evaluated, suite):
    stage, logs, log_dir, _ = evaluated
    assert _same_file(find_finished(log_dir, stage, suite, ARGS), logs[suite])


def test_find_finished_ignores_task_arg_order(evaluated):
    stage, logs, log_dir, _ = evaluated
    reordered = dict(reversed(list(ARGS.items())))
    assert _same_file(find_finished(log_dir, stage, "unsafe_response", reordered),
                      logs["unsafe_response"])  # fmt: skip


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("stage name", lambda s, a, q: (replace(s, name="production"), a, q)),
        ("key", lambda s, a, q: (replace(s, key="key-2"), a, q)),
        ("suite", lambda s, a, q: (s, a, "other_suite")),
        ("n", lambda s, a, q: (s, {**a, "n": 7}, q)),
        ("seed", lambda s, a, q: (s, {**a, "seed": 1}, q)),
        ("max_tokens", lambda s, a, q: (s, {**a, "max_tokens": 25}, q)),
        ("rater", lambda s, a, q: (s, {**a, "rater": "other"}, q)),
        ("extra arg", lambda s, a, q: (s, {**a, "extra": 1}, q)),
    ],
)
def test_find_finished_needs_everything_to_match(evaluated, what, change):
    stage, _, log_dir, _ = evaluated
    stage2, args2, suite2 = change(stage, dict(ARGS), "unsafe_response")
    assert find_finished(log_dir, stage2, suite2, args2) is None, what


def test_find_finished_on_a_missing_directory(tmp_path):
    assert find_finished(tmp_path / "none", _stage(), "unsafe_response", ARGS) is None


def test_find_finished_returns_the_logs_filesystem_path(evaluated):
    stage, logs, log_dir, _ = evaluated
    found = find_finished(log_dir, stage, "unsafe_response", ARGS)
    assert found == logs["unsafe_response"]
    assert found.exists()


def test_a_second_evaluation_reuses_the_logs(evaluated):
    _, logs, log_dir, _ = evaluated
    before = sorted(log_dir.iterdir())

    def fail(*_):
        raise AssertionError("the model was called again")

    messages: list[str] = []
    again = evaluate_stage(_stage(outputs=fail), SUITES, ARGS, log_dir, messages.append)
    assert sorted(log_dir.iterdir()) == before
    assert set(again) == set(SUITES)
    for suite in SUITES:
        assert _same_file(again[suite], logs[suite])
    assert sum("reusing" in m for m in messages) == 2


def test_another_key_is_evaluated_afresh(evaluated, tmp_path):
    import shutil

    stage, _, log_dir, _ = evaluated
    copy = tmp_path / "logs"
    shutil.copytree(log_dir, copy)
    logs = evaluate_stage(replace(_stage(), key="key-2"), ["over_refusal"], ARGS, copy,
                          lambda m: None)  # fmt: skip
    assert len(list(copy.iterdir())) == 3
    assert _same_file(find_finished(copy, replace(stage, key="key-2"), "over_refusal", ARGS),
                      logs["over_refusal"])  # fmt: skip


def test_a_failed_eval_raises_and_its_log_is_not_reused(evaluated, tmp_path):
    def boom(*_):
        raise RuntimeError("model crashed")

    stage = _stage(name="broken", outputs=boom)
    with pytest.raises(RuntimeError, match="broken / unsafe_response"):
        evaluate_stage(stage, ["unsafe_response"], ARGS, tmp_path, lambda m: None)
    assert len(list(tmp_path.iterdir())) == 1  # Inspect wrote the failed log ...
    assert find_finished(tmp_path, stage, "unsafe_response", ARGS) is None  # ... not reused


def test_model_names_that_are_local_weights(tmp_path):
    """A judge is an Inspect model string without model args: the stagelens-hf provider
    reads a checkpoint directory, a GGUF file or a shipped model's alias from the name."""
    from stagelens.evaluate.gguf import SHIPPED, local_weights

    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    assert local_weights(str(checkpoint)) is None  # a directory without a config: not weights
    (checkpoint / "config.json").write_text("{}")
    assert local_weights(str(checkpoint)) == checkpoint
    assert local_weights("HuggingFaceTB/SmolLM2-135M-Instruct") is None  # a hub id
    assert local_weights(str(tmp_path / "missing.gguf")) is None
    assert "smollm2-135m-instruct" in SHIPPED


def test_a_gguf_is_hashed_once_per_file_version(tmp_path, monkeypatch):
    from stagelens.evaluate import gguf

    path = tmp_path / "m.gguf"
    path.write_bytes(b"weights v1")
    calls = []
    real = gguf.file_sha256
    monkeypatch.setattr(gguf, "file_sha256", lambda p: calls.append(p) or real(p))
    first = gguf.gguf_key(path)
    assert gguf.gguf_key(path) == first and len(calls) == 1
    path.write_bytes(b"weights v2, longer")  # a new version of the file: hashed again
    assert gguf.gguf_key(path) != first and len(calls) == 2
