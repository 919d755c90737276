"""SFT and DPO stages through TRL, the same trainers users run on real model families."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stagelens.training.config import DPORecipe, SFTRecipe

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback

Progress = Callable[[str], None]

# Settings shared by both trainers: no checkpoints or trackers of the trainer's own
# (stagelens caches the finished stage itself), and CPU in full precision, since a
# sub-1M-parameter model gains nothing from a GPU and TRL would default to bf16.
_COMMON: dict[str, Any] = dict(
    use_cpu=True,
    bf16=False,
    save_strategy="no",
    report_to=[],
    logging_steps=25,
    dataloader_num_workers=0,
    disable_tqdm=True,
    lr_scheduler_type="cosine",
    warmup_steps=10,
)


def _progress_callback(label: str, total: int, progress: Progress) -> TrainerCallback:
    from transformers import TrainerCallback

    class _Report(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "loss" in logs:
                progress(f"{label} step {state.global_step}/{total} loss {logs['loss']:.3f}")

    return _Report()


def _final_loss(history: list[dict[str, Any]]) -> float | None:
    losses = [entry["loss"] for entry in history if "loss" in entry]
    return float(losses[-1]) if losses else None


def run_sft(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[dict[str, Any]],
    recipe: SFTRecipe,
    seed: int,
    progress: Progress,
) -> tuple[int, float, float | None]:
    """Supervised fine-tuning on prompt-completion conversations (loss on completions)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    with tempfile.TemporaryDirectory(prefix="stagelens-sft-") as scratch:
        args = SFTConfig(
            **_run_args(scratch, recipe, seed),
            max_length=tokenizer.model_max_length,
            completion_only_loss=True,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=[_progress_callback("sft", recipe.steps, progress)],
        )
        return _fit(trainer, model, recipe.steps)


def run_dpo(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[dict[str, Any]],
    recipe: DPORecipe,
    seed: int,
    progress: Progress,
) -> tuple[int, float, float | None]:
    """Preference optimisation against a frozen copy of the SFT model."""
    import copy

    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    with tempfile.TemporaryDirectory(prefix="stagelens-dpo-") as scratch:
        args = DPOConfig(
            **_run_args(scratch, recipe, seed),
            beta=recipe.beta,
            loss_type=list(recipe.loss_type),
            loss_weights=list(recipe.loss_weights),
            max_length=tokenizer.model_max_length,
        )
        trainer = DPOTrainer(
            model=model,
            # an in-memory model has no hub id for TRL to reload a reference from
            ref_model=copy.deepcopy(model).eval(),
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=[_progress_callback("dpo", recipe.steps, progress)],
        )
        return _fit(trainer, model, recipe.steps)


def _run_args(scratch: str, recipe: SFTRecipe | DPORecipe, seed: int) -> dict[str, Any]:
    return dict(
        output_dir=scratch,
        max_steps=recipe.steps,
        per_device_train_batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate,
        seed=seed,
        data_seed=seed,
        **_COMMON,
    )


def _fit(trainer: Any, model: Any, steps: int) -> tuple[int, float, float | None]:
    """Train, then report (steps, seconds, final loss) and leave the model in eval mode."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    # TRL prints every log dict; stagelens reports progress through its own callback
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    start = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - start
    model.eval()
    return steps, seconds, _final_loss(trainer.state.log_history)
