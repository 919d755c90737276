"""Samples done / total while Inspect evaluates a suite, through an Inspect hook.

The runner evaluates with Inspect's display off (its full-screen display fights the lines
stagelens prints and is unreadable in a log file), so progress comes from Inspect's hooks.
The hook is registered only by stagelens's runner (`register`), never by the plugin, so plain
`inspect eval` keeps Inspect's own display and prints no banner about a hook it never uses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from inspect_ai.hooks import Hooks, SampleEnd, TaskEnd, TaskStart, hooks

from stagelens.progress import Meter, Progress


@dataclass
class _Active:
    progress: Progress
    label: str
    done: int  # samples a resumed log already holds
    meters: dict[str, Meter] = field(default_factory=dict)  # Inspect eval id -> meter


_active: list[_Active] = []
HEARTBEAT_SECONDS = 5.0  # how often a silent meter is asked to report (it decides whether to)


@contextmanager
def metered(progress: Progress, label: str, done: int = 0) -> Iterator[None]:
    """Report the samples of the Inspect eval run inside this block under `label`."""
    state = _Active(progress, label, done)
    _active.append(state)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            for meter in list(state.meters.values()):
                meter.heartbeat()

    # a daemon: the beat never keeps a finished or interrupted run alive
    beating = threading.Thread(target=beat, name="stagelens-progress", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join(timeout=5)
        _active.remove(state)
        for meter in state.meters.values():
            meter.finish()  # an eval that raised never reached on_task_end


class SampleProgress(Hooks):
    def enabled(self) -> bool:
        return bool(_active)

    async def on_task_start(self, data: TaskStart) -> None:
        state = _active[-1]
        samples = data.spec.dataset.samples or 0
        epochs = data.spec.config.epochs or 1
        state.meters[data.eval_id] = Meter(
            state.progress, state.label, samples * epochs, done=min(state.done, samples * epochs)
        )

    async def on_sample_end(self, data: SampleEnd) -> None:
        meter = _active[-1].meters.get(data.eval_id) if _active else None
        if meter is not None:
            meter.advance()

    async def on_task_end(self, data: TaskEnd) -> None:
        meter = _active[-1].meters.pop(data.eval_id, None) if _active else None
        if meter is not None:
            meter.finish()


_registered: list[bool] = []


def register() -> None:
    """Register the hook with Inspect, once per process."""
    if _registered:
        return
    try:
        # Inspect prints a banner listing the registered hooks when it first loads them; load
        # them before ours exists, so a stagelens run's output is only stagelens's own lines
        from inspect_ai.hooks._startup import init_hooks

        init_hooks()
    except ImportError:  # a later Inspect moved it: the banner is the only cost
        pass
    hooks(name="stagelens_progress", description="stagelens: samples done per suite")(
        SampleProgress
    )
    _registered.append(True)


__all__ = ["SampleProgress", "metered", "register"]
