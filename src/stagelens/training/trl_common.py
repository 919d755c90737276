"""What every TRL trainer of stagelens shares: progress lines, quiet logging, the final loss."""

from __future__ import annotations

from typing import Any

from stagelens.progress import Progress


def progress_callback(label: str, progress: Progress) -> Any:
    """A `TrainerCallback` that reports each logged loss as ``"{label} step i/n loss x"``.

    Only the main process reports, so `accelerate launch` on several GPUs prints one line
    per logging step, not one per process.
    """
    from transformers import TrainerCallback

    class _Report(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "loss" in logs and state.is_world_process_zero:
                progress(
                    f"{label} step {state.global_step}/{state.max_steps} loss {logs['loss']:.3f}"
                )

    return _Report()


def quiet(trainer: Any) -> None:
    """Remove the trainer's own printing: TRL prints every log dict and a tqdm bar, and
    stagelens reports progress through `progress_callback` instead."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def final_loss(history: list[dict[str, Any]]) -> float | None:
    """The last training loss in a trainer's ``state.log_history``; None when none was logged."""
    losses = [entry["loss"] for entry in history if "loss" in entry]
    return float(losses[-1]) if losses else None
