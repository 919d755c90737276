"""SFT of a real model family with TRL's SFTTrainer, as the recipe of an experiment says.

`run_sft_recipe` reads and checks the mixture, checks that the recipe's end-of-turn token
is one token of the base's tokenizer, trains (full or LoRA, the adapter merged back into
the weights) and publishes a plain Hugging Face checkpoint, chat template included,
through the checkpoint cache. A checkpoint already at `out` with the same key (recipe,
base and data hashes) is returned without training. The same code runs on CPU, on one
GPU and under `accelerate launch` (data parallel; the main process writes the checkpoint).
"""

from __future__ import annotations

import copy
import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagelens.progress import Progress
from stagelens.records import Provenance, TrainingRecord
from stagelens.training.cache import config_key, load_manifest, save_checkpoint
from stagelens.training.mixture import load_mixture
from stagelens.training.recipe import LoRA, SFTRecipeSpec
from stagelens.training.trl_common import final_loss, progress_callback, quiet

STAGE = "sft"


@dataclass(frozen=True)
class SFTResult:
    checkpoint: Path
    record: TrainingRecord
    key: str


def run_sft_recipe(
    base: str | Path,
    recipe: SFTRecipeSpec,
    out: Path,
    *,
    gguf_file: str | None = None,
    progress: Progress = print,
) -> SFTResult:
    """Fine-tune `base` (hub id or local dir, `gguf_file` inside it) on the recipe's mixture."""
    rows, parts = load_mixture(recipe, seed=recipe.seed)  # raises on bad data before anything else
    data = _mixture_provenance(parts, len(rows))
    config = recipe.model_dump(mode="json")
    key = config_key(
        {"recipe": config, "base": str(base), "gguf_file": gguf_file, "data": data.sha256}
    )
    if _occupied(out) and (cached := load_manifest(out, key)) is not None:
        progress(f"sft: reusing checkpoint {out} (key {key})")
        return SFTResult(out, cached.training[-1], key)

    tokenizer = _load_tokenizer(base, gguf_file, recipe)
    model = _load_model(base, gguf_file)
    with tempfile.TemporaryDirectory(prefix="stagelens-sft-") as scratch:
        trainer = _trainer(model, tokenizer, rows, recipe, scratch, progress)
        start = time.monotonic()
        trainer.train()
        seconds = time.monotonic() - start
    record = TrainingRecord(
        method=f"sft (TRL SFTTrainer, {recipe.method})",
        seed=recipe.seed,
        steps=trainer.state.global_step,
        seconds=seconds,
        final_loss=final_loss(trainer.state.log_history),
        config=config,
        data=data,
    )
    accelerator = trainer.accelerator
    trained = accelerator.unwrap_model(trainer.model)
    if recipe.method == "lora":
        trained = trained.merge_and_unload()  # plain weights: no adapter to ship or load
    if accelerator.is_main_process:

        def write(directory: Path) -> None:
            trained.save_pretrained(directory)
            tokenizer.save_pretrained(directory)

        save_checkpoint(out, write, stage=STAGE, key=key, config=config, training=[record])
        progress(f"sft: wrote checkpoint {out}")
    accelerator.wait_for_everyone()
    return SFTResult(out, record, key)


def _occupied(path: Path) -> bool:
    """Whether something is at `path`; an empty directory is free to publish into."""
    return path.exists() and not (path.is_dir() and not any(path.iterdir()))


def _mixture_provenance(parts: list[Provenance], n_rows: int) -> Provenance:
    digest = hashlib.sha256()
    for part in parts:  # hub parts have no file hash: their id and split stand in for it
        digest.update((part.sha256 or part.source).encode())
    licences = sorted({part.licence for part in parts})
    return Provenance(
        name="SFT mixture",
        source=f"{len(parts)} parts: " + ", ".join(part.name for part in parts),
        licence=licences[0] if len(licences) == 1 else "mixed: " + ", ".join(licences),
        sha256=digest.hexdigest(),
        n=n_rows,
        notes=" | ".join(f"{p.name} <{p.source}> n={p.n}: {p.notes}" for p in parts),
    )


def load_base(base: str | Path, recipe: SFTRecipeSpec, gguf_file: str | None = None) -> Any:
    """The base model (float32) and its tokenizer as SFT with `recipe` starts from them."""
    return _load_model(base, gguf_file), _load_tokenizer(base, gguf_file, recipe)


def _load_tokenizer(base: str | Path, gguf_file: str | None, recipe: SFTRecipeSpec) -> Any:
    """The base's tokenizer with the recipe's chat template and end-of-turn token, checked."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base), gguf_file=gguf_file)
    eos = recipe.eos_token
    if (
        eos not in tokenizer.get_vocab()
        or len(tokenizer.encode(eos, add_special_tokens=False)) != 1
    ):
        raise ValueError(
            f"the recipe's eos_token {eos!r} is not a single token of the tokenizer of {base}; "
            "choose a token of its vocabulary (e.g. its existing end-of-turn token)"
        )
    tokenizer.chat_template = recipe.chat_template
    tokenizer.eos_token = eos
    if tokenizer.pad_token is None:
        tokenizer.pad_token = eos
    turn = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    if eos not in tokenizer.apply_chat_template(turn, tokenize=False):
        raise ValueError(
            f"the recipe's chat_template does not end an assistant turn with eos_token {eos!r}: "
            "the model would never learn to stop"
        )
    return tokenizer


def _load_model(base: str | Path, gguf_file: str | None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    # full-precision master weights; on GPUs the trainer adds bf16 autocast
    model = AutoModelForCausalLM.from_pretrained(
        str(base), gguf_file=gguf_file, dtype=torch.float32
    )
    return _plain(model)


def _trainer(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    recipe: SFTRecipeSpec,
    scratch: str,
    progress: Progress,
) -> Any:
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    accelerated = torch.cuda.is_available() or torch.backends.mps.is_available()
    args = SFTConfig(
        output_dir=scratch,  # nothing is saved there: stagelens publishes the checkpoint
        num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps or -1,
        learning_rate=recipe.learning_rate,
        per_device_train_batch_size=recipe.batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        max_length=recipe.max_length,
        seed=recipe.seed,
        data_seed=recipe.seed,
        completion_only_loss=True,
        eos_token=recipe.eos_token,
        # CPU-only: force it, in full precision. With a GPU, device placement is left to
        # the trainer (and to `accelerate launch` for several), with bf16 where supported.
        use_cpu=not accelerated,
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        lr_scheduler_type="cosine",
        warmup_steps=0.03,  # a fraction of the run
        logging_steps=0.02,  # about 50 loss reports per run
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    peft_config = None
    if recipe.method == "lora":
        from peft import LoraConfig

        lora = recipe.lora or LoRA()
        peft_config = LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=lora.target_modules,
            task_type="CAUSAL_LM",
        )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[progress_callback("sft", progress)],
    )
    quiet(trainer)
    return trainer


def _plain(model: Any) -> Any:
    """`model`, or a plain copy of one loaded from a GGUF: the dequantized weights stay marked
    as GGUF-quantized, and the trainer refuses to train such a model, save_pretrained to save it."""
    if getattr(model, "hf_quantizer", None) is None:
        return model
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=model.dtype)
    plain.load_state_dict(model.state_dict())
    plain.generation_config = copy.deepcopy(model.generation_config)
    return plain
