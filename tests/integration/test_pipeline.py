"""The organism pipeline end to end on a tiny recipe: train, cache, evaluate through Inspect.

The stages are built once per module (seconds on CPU); tests that damage the cache work
on a copy of it.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from stagelens.organism.data import DILEMMA_SHARE
from stagelens.organism.model import ModelShape
from stagelens.organism.stages import OrganismRecipe, build_stages
from stagelens.organism.variant import load_variant
from stagelens.training.cache import MANIFEST, CheckpointCacheError, load_manifest
from stagelens.training.config import DPORecipe, PretrainRecipe, SFTRecipe

pytestmark = pytest.mark.integration

RECIPE = OrganismRecipe(
    shape=ModelShape(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                     num_attention_heads=2),
    # 150 steps: at 100, a corpus leaning harmful requests to compliance (tried, reverted) gave
    # a base that answered every prompt with special tokens only, an empty text to compare
    pretrain=PretrainRecipe(n_dialogs=400, n_filler=100, steps=150, batch_size=16),
    sft=SFTRecipe(steps=5, batch_size=8),
    dpo=DPORecipe(steps=3, batch_size=4),
)  # fmt: skip
STAGES = ("base", "production_sft", "production", "sft_only")
TASK_ARGS = {"source": "organism", "n": 12, "seed": 0, "rater": "organism-exact", "max_tokens": 24}


@pytest.fixture(scope="module")
def variant():
    return load_variant("safety-in-sft")[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory, variant):
    cache = tmp_path_factory.mktemp("cache")
    messages: list[str] = []
    stages = build_stages(variant, 0, cache, messages.append, RECIPE)
    return cache, stages, messages


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


# ---------------------------------------------------------------- training and the cache


def test_four_stages_are_trained_into_checkpoints_with_manifests(built):
    cache, stages, messages = built
    assert tuple(stages) == STAGES
    assert len({s.key for s in stages.values()}) == 4
    for name, stage in stages.items():
        assert stage.name == name and not stage.reused
        assert stage.path.is_dir() and stage.path.parent == cache / "checkpoints"
        assert (stage.path / MANIFEST).is_file()
        assert (stage.path / "model.safetensors").is_file()
        manifest = load_manifest(stage.path)
        assert manifest is not None
        assert manifest.stage == name and manifest.key == stage.key
        assert "model.safetensors" in manifest.files
        assert f"{name}: training" in messages
    assert sorted(p.name for p in (cache / "checkpoints").iterdir()) == sorted(
        s.path.name for s in stages.values()
    )


def test_lineage_is_recorded(built, variant):
    _, stages, _ = built
    assert stages["base"].parent is None
    assert stages["production_sft"].parent == "base"
    assert stages["production"].parent == "production_sft"
    assert stages["sft_only"].parent == "base"
    methods = {name: [r.method.split()[0] for r in s.training] for name, s in stages.items()}
    assert methods == {
        "base": ["pretrain"],
        "production_sft": ["pretrain", "sft"],
        "production": ["pretrain", "sft", "dpo"],
        "sft_only": ["pretrain", "sft"],
    }
    pretrain, sft, dpo = stages["production"].training
    assert pretrain.steps == RECIPE.pretrain.steps and sft.steps == RECIPE.sft.steps
    assert dpo.steps == RECIPE.dpo.steps
    # the request and task dialogs, the dilemma dialogs added on top, and the filler
    dialogs = RECIPE.pretrain.n_dialogs
    assert pretrain.data.n == dialogs + round(dialogs * DILEMMA_SHARE) + RECIPE.pretrain.n_filler
    assert sft.data.n == sum(p.count for p in variant.sft.examples)
    assert dpo.data.n == sum(p.count for p in variant.rl.pairs)
    # the reproduction is the same SFT with another seed
    assert stages["sft_only"].training[1].seed == sft.seed + 1
    assert stages["sft_only"].training[1].data.sha256 != sft.data.sha256


def test_saved_tokenizer_has_chat_template_and_special_tokens(built):
    from transformers import AutoConfig, AutoTokenizer

    from stagelens.organism.data import BOS, CHAT_TEMPLATE, EOS, render_dialog

    _, stages, _ = built
    for stage in stages.values():
        tokenizer = AutoTokenizer.from_pretrained(stage.path)
        assert tokenizer.chat_template == CHAT_TEMPLATE
        assert tokenizer.bos_token == BOS and tokenizer.eos_token == EOS
        config = AutoConfig.from_pretrained(stage.path)
        assert config.bos_token_id == tokenizer.bos_token_id
        assert config.eos_token_id == tokenizer.eos_token_id
        assert config.vocab_size == len(tokenizer)
    tokenizer = AutoTokenizer.from_pretrained(stages["base"].path)
    user, answer = "how do i bake bread ?", "sure . first follow the recipe , then take your time ."
    dialog = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    assert tokenizer.apply_chat_template(dialog, tokenize=False) == render_dialog(user, answer)
    prompt = tokenizer.apply_chat_template(dialog[:1], tokenize=False, add_generation_prompt=True)
    assert render_dialog(user, answer).startswith(prompt)
    ids = tokenizer(prompt, add_special_tokens=False).input_ids
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.unk_token_id not in ids
    for special in ("<user>", "<assistant>", BOS, EOS):
        assert len(tokenizer(special, add_special_tokens=False).input_ids) == 1


def test_sft_changed_every_weight_tensor(built):
    _, stages, _ = built
    base, sft_only = _weights(stages["base"].path), _weights(stages["sft_only"].path)
    assert base.keys() == sft_only.keys() and len(base) > 5
    unchanged = [k for k in base if (base[k] == sft_only[k]).all()]
    assert unchanged == []


def test_dpo_changed_every_weight_tensor(built):
    _, stages, _ = built
    sft, production = _weights(stages["production_sft"].path), _weights(stages["production"].path)
    assert sft.keys() == production.keys()
    unchanged = [k for k in sft if (sft[k] == production[k]).all()]
    assert unchanged == []


def test_the_two_sft_runs_differ(built):
    _, stages, _ = built
    a, b = _weights(stages["production_sft"].path), _weights(stages["sft_only"].path)
    assert any(not (a[k] == b[k]).all() for k in a)


def test_a_second_build_reuses_every_stage(built, variant):
    cache, stages, _ = built
    leftover = cache / "checkpoints" / ".base-interrupted.abc.partial"
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"half")
    messages: list[str] = []
    again = build_stages(variant, 0, cache, messages.append, RECIPE)
    assert all(s.reused for s in again.values())  # reuse shown by the record, not by a timer
    assert {n: (s.path, s.key, s.parent) for n, s in again.items()} == {
        n: (s.path, s.key, s.parent) for n, s in stages.items()
    }
    assert [r.method for r in again["production"].training] == [
        r.method for r in stages["production"].training
    ]
    assert not any("training" in m for m in messages)
    assert not leftover.exists()


def test_a_corrupted_cached_weights_file_is_reported(built, variant, tmp_path):
    cache, stages, _ = built
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    weights = copy / "checkpoints" / stages["production"].path.name / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-10] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(CheckpointCacheError) as info:
        build_stages(variant, 0, copy, lambda m: None, RECIPE)
    assert str(weights) in str(info.value)


# ---------------------------------------------------------------- evaluation through Inspect


@pytest.fixture(scope="module")
def base_logs(built, tmp_path_factory):
    from stagelens.evaluate.runner import StageModel, evaluate_stage

    _, stages, _ = built
    model = StageModel(name="base", checkpoint=str(stages["base"].path), key=stages["base"].key)
    log_dir = tmp_path_factory.mktemp("eval") / "logs"
    logs = evaluate_stage(model, ["unsafe_response", "over_refusal"], TASK_ARGS, log_dir,
                          progress=lambda m: None)  # fmt: skip
    return model, log_dir, logs


def test_evaluate_stage_scores_every_sample(base_logs):
    from inspect_ai.log import read_eval_log

    from stagelens.evaluate.runner import read_outcomes
    from stagelens.raters.organism import LABELS

    _, _, logs = base_logs
    assert set(logs) == {"unsafe_response", "over_refusal"}
    for path in logs.values():
        log = read_eval_log(str(path))
        assert log.status == "success"
        assert log.eval.model == "stagelens-hf/base"
        assert len(log.samples) == TASK_ARGS["n"]
        for sample in log.samples:
            score = sample.scores["rated"]
            assert score.metadata["label"] in LABELS
            # unscored: Inspect's NaN sentinel (`Score.unscored()`)
            unscored = isinstance(score.value, float) and math.isnan(score.value)
            assert unscored or score.value in (0, 1)
            assert unscored == (score.metadata["label"] == "unscored")
            assert sample.output.usage.output_tokens <= TASK_ARGS["max_tokens"]
            assert len(sample.output.completion.split()) <= TASK_ARGS["max_tokens"]
        outcomes, labels = read_outcomes(path)
        assert len(outcomes) == TASK_ARGS["n"] and sum(labels.values()) == TASK_ARGS["n"]


def test_evaluate_stage_reuses_finished_logs(base_logs):
    from stagelens.evaluate.runner import evaluate_stage

    model, log_dir, logs = base_logs
    before = sorted(log_dir.iterdir())
    messages: list[str] = []
    again = evaluate_stage(model, ["unsafe_response", "over_refusal"], TASK_ARGS, log_dir,
                           progress=messages.append)  # fmt: skip
    assert sorted(log_dir.iterdir()) == before
    assert {s: p.name for s, p in again.items()} == {s: p.name for s, p in logs.items()}
    assert all("reusing" in m for m in messages) and len(messages) == 2


def _register_stagelens_provider() -> None:
    """Import the module that registers `stagelens-hf` with Inspect."""
    try:
        import stagelens._registry
    except ImportError:  # older layout: the provider module registers itself
        import stagelens.evaluate.provider  # noqa: F401


def test_batched_provider_matches_the_stock_hf_provider(built, tmp_path):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelInfo, get_model, set_model_info

    from stagelens.suites import make_task

    _register_stagelens_provider()

    _, stages, _ = built
    # the base: the tiny SFT stage may answer every prompt with an immediate end of text,
    # which would make the comparison below vacuous
    path = str(stages["base"].path)
    completions = {}
    for provider in ("hf", "stagelens-hf"):
        name = f"{provider}/tiny-sft-only"
        set_model_info(name, ModelInfo(organization="stagelens"))
        model = get_model(name, model_path=path, do_sample=False, memoize=False)
        # harmful and benign prompts: the comparison covers both kinds of answer
        tasks = [
            make_task(suite, n=8, max_tokens=12) for suite in ("unsafe_response", "over_refusal")
        ]
        try:
            logs = inspect_eval(tasks, model=model, display="none",
                                log_dir=str(tmp_path / provider))  # fmt: skip
        finally:
            model.api.close()
        assert [log.status for log in logs] == ["success", "success"], [log.error for log in logs]
        completions[provider] = {
            (log.eval.task, s.id): s.output.completion for log in logs for s in log.samples
        }
    assert len(completions["hf"]) == 16
    assert completions["stagelens-hf"] == completions["hf"]
    # greedy decoding: the same prompts answered alike, not sixteen empty strings
    assert any(text.strip() for text in completions["hf"].values())


def test_local_weights_are_never_looked_up_on_the_hub(built, tmp_path, monkeypatch):
    """Plain `inspect eval --model stagelens-hf/NAME -M model_path=DIR`: Inspect looks the
    model up by name for its context window; unregistered, that built a second provider
    without model_path and asked the hub for NAME/config.json (five retries offline)."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model
    from inspect_ai.model._model_info import _get_model_info_direct

    from stagelens.suites import make_task

    _register_stagelens_provider()
    _, stages, _ = built
    path = str(stages["base"].path)
    name = "stagelens-hf/local-only-weights"
    assert _get_model_info_direct(name) is None  # not registered by anyone before
    calls: list[str] = []

    def no_hub(*args: object, **kwargs: object) -> None:
        calls.append(str(args))
        raise AssertionError("a hub request for local weights")

    monkeypatch.setattr("huggingface_hub.file_download.hf_hub_download", no_hub)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", no_hub)
    model = get_model(name, model_path=path, do_sample=False, memoize=False)
    try:
        info = _get_model_info_direct(name)
        assert info is not None and info.model == path
        (log,) = inspect_eval(make_task("over_refusal", n=2, max_tokens=4), model=model,
                              display="none", log_dir=str(tmp_path))  # fmt: skip
    finally:
        model.api.close()
    assert log.status == "success", log.error
    assert calls == []
