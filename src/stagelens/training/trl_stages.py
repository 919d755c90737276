"""SFT and DPO stages through TRL, the same trainers users run on real model families."""

from __future__ import annotations

import tempfile
import time
from typing import TYPE_CHECKING, Any

from stagelens.progress import Progress
from stagelens.training.config import DPORecipe, SFTRecipe
from stagelens.training.trl_common import final_loss, progress_callback, quiet

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


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
            callbacks=[progress_callback("sft", progress)],
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
            callbacks=[progress_callback("dpo", progress)],
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
    quiet(trainer)
    start = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - start
    model.eval()
    return steps, seconds, final_loss(trainer.state.log_history)
