"""What every TRL trainer of stagelens shares: progress lines, quiet logging, the final loss."""

from __future__ import annotations

from typing import Any

from stagelens.progress import Meter, Progress


def progress_callback(label: str, progress: Progress) -> Any:
    """A `TrainerCallback` that reports steps done of the total, with rate, time left and the
    latest logged loss (a `Meter`: a live bar on a terminal, a plain line every 30 s in a log).

    Only the main process reports, so `accelerate launch` on several GPUs prints one line
    per report, not one per process.
    """
    from transformers import TrainerCallback

    class _Report(TrainerCallback):  # type: ignore[misc]
        meter: Meter | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            if state.is_world_process_zero:
                self.meter = Meter(progress, label, state.max_steps, unit="steps",
                                   done=state.global_step)  # fmt: skip

        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            if self.meter is not None:
                self.meter.advance(state.global_step - self.meter.done)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if self.meter is not None and logs and "loss" in logs:
                self.meter.note = f"loss {logs['loss']:.3f}"

        def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            if self.meter is not None:
                self.meter.finish()
                self.meter = None

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
