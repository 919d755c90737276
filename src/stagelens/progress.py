"""How a long-running step tells a person what it is doing.

`Progress` takes one line of text per call (`print` by default, a `Console` on the command
line, a list's `append` in tests). Every layer that trains or evaluates takes one.

`Meter` counts work of a known size (samples of a suite, training steps) and reports it
through a `Progress`: on a terminal as one status line redrawn in place, anywhere else (a
log file, a pipe, a test) as a plain line when it starts, every `every` seconds, and at the
end, so that a log file stays readable and still shows that work is moving.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[str], None]

BAR_WIDTH = 24
REDRAW_SECONDS = 0.2  # a terminal's status line is redrawn at most this often
PLAIN_EVERY_SECONDS = 30.0
ETA_AFTER_SHARE = 0.05  # time left is shown once this share of the run's work is done


class Console:
    """A `Progress` that writes lines to a stream and, when the stream is a terminal, can
    keep one status line at the bottom that later lines do not leave half-drawn."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self._status = ""

    def __call__(self, message: str) -> None:
        self._clear()
        self.stream.write(message + "\n")
        if self._status:
            self.stream.write(self._status)
        self.stream.flush()

    def status(self, text: str) -> None:
        """Replace the status line (terminals only)."""
        self._clear()
        self._status = text
        self.stream.write(text)
        self.stream.flush()

    def end_status(self) -> None:
        self._clear()
        self._status = ""
        self.stream.flush()

    def _clear(self) -> None:
        if self._status:
            self.stream.write("\r\x1b[2K")


def _clock_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Meter:
    """Progress of `total` units (samples, steps) under a label, with rate and ETA."""

    def __init__(
        self,
        progress: Progress,
        label: str,
        total: int,
        *,
        unit: str = "samples",
        done: int = 0,
        every: float = PLAIN_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.progress, self.label, self.total, self.unit = progress, label, max(0, total), unit
        self.start_done = self.done = done  # `done`: units finished before this run (resumed)
        self.every, self.clock = every, clock
        self.started = self._last = clock()
        self.note = ""  # appended to each report (e.g. the latest training loss)
        self.console = progress if isinstance(progress, Console) and progress.live else None
        self._finished = False
        self._report(force=True)

    def advance(self, units: int = 1, note: str | None = None) -> None:
        self.done = min(self.total, self.done + units) if self.total else self.done + units
        if note is not None:
            self.note = note
        self._report(force=False)

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self.console is not None:
            self.console.end_status()
        elapsed = self.clock() - self.started
        note = f" · {self.note}" if self.note else ""
        self.progress(
            f"{self.label}: {self.done}/{self.total} {self.unit} in {_clock_text(elapsed)}{note}"
        )

    def heartbeat(self) -> None:
        """Report even though no unit finished: a batched model can run for minutes before
        its first sample ends, and a log that stays silent that long looks hung."""
        if self._finished:
            return
        now = self.clock()
        if self.console is not None:
            self._report(force=True)
        elif now - self._last >= self.every:
            self._last = now
            running = _clock_text(now - self.started)
            self.progress(f"{self.label}: {self.line()} · running {running}")

    def line(self) -> str:
        """The current state in words: counts, share, rate and time left."""
        elapsed = self.clock() - self.started
        ran = self.done - self.start_done
        parts = [f"{self.done}/{self.total} {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        if ran > 0 and elapsed > 0:
            rate = ran / elapsed
            parts.append(f"{rate:.1f}/s" if rate >= 1 else f"{60 * rate:.1f}/min")
            # the first units of a batched run arrive together: an ETA from them is noise
            if self.total and ran >= ETA_AFTER_SHARE * (self.total - self.start_done):
                parts.append(f"ETA {_clock_text((self.total - self.done) / rate)}")
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)

    def _report(self, force: bool) -> None:
        now = self.clock()
        if self.console is not None:
            if force or now - self._last >= REDRAW_SECONDS or self.done == self.total:
                self._last = now
                share = self.done / self.total if self.total else 0.0
                filled = round(BAR_WIDTH * share)
                bar = "#" * filled + "." * (BAR_WIDTH - filled)
                self.console.status(f"{self.label} [{bar}] {self.line()}")
            return
        if force or now - self._last >= self.every:
            self._last = now
            self.progress(f"{self.label}: {self.line()}")


__all__ = ["Console", "Meter", "Progress"]
