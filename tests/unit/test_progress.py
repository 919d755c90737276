"""Progress of known-size work: a live bar on a terminal, plain timed lines elsewhere."""

from __future__ import annotations

import io

from stagelens.progress import Console, Meter


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_come_at_start_every_n_seconds_and_at_the_end() -> None:
    lines: list[str] = []
    clock = _Clock()
    meter = Meter(lines.append, "base / over_refusal", 100, every=30, clock=clock)
    assert lines == ["base / over_refusal: 0/100 samples (0%)"]
    for _ in range(10):
        clock.now += 1
        meter.advance()
    assert len(lines) == 1  # ten seconds in: no new line yet
    clock.now = 40
    meter.advance(10)
    assert lines[-1] == "base / over_refusal: 20/100 samples (20%) · 30.0/min · ETA 2:40"
    clock.now = 50
    meter.advance(80)
    assert len(lines) == 2  # ten seconds after the last line
    meter.finish()
    meter.finish()  # finishing twice reports once
    assert lines[-1] == "base / over_refusal: 100/100 samples in 0:50"
    assert len(lines) == 3


def test_a_slow_rate_reads_per_minute_and_a_note_is_kept() -> None:
    lines: list[str] = []
    clock = _Clock()
    meter = Meter(lines.append, "sft", 400, unit="steps", every=1, clock=clock)
    clock.now = 120
    meter.advance(2, note="loss 2.345")
    assert lines[-1] == "sft: 2/400 steps (0%) · 1.0/min · loss 2.345"  # no ETA from 0.5%


def test_a_resumed_meter_counts_its_rate_from_new_work_only() -> None:
    lines: list[str] = []
    clock = _Clock()
    meter = Meter(lines.append, "x", 10, done=6, every=1, clock=clock)
    assert lines[-1] == "x: 6/10 samples (60%)"
    clock.now = 2
    meter.advance(2)
    assert lines[-1] == "x: 8/10 samples (80%) · 1.0/s · ETA 0:02"


def test_a_terminal_gets_one_redrawn_bar_that_lines_do_not_break() -> None:
    stream = _Tty()
    console = Console(stream)
    assert console.live
    clock = _Clock()
    meter = Meter(console, "prod / unsafe", 4, clock=clock)
    clock.now = 1
    meter.advance(2)
    console("a message while the bar is up")
    meter.finish()
    text = stream.getvalue()
    assert "prod / unsafe [" in text and "2/4 samples (50%)" in text
    # a message first clears the bar's line, then the bar is drawn again below it
    assert "\r\x1b[2Ka message while the bar is up\nprod / unsafe [" in text
    assert text.endswith("prod / unsafe: 2/4 samples in 0:01\n")
    assert "\n" not in text.split("a message")[0]  # the bar never wrote a newline itself


def test_a_log_file_gets_no_control_characters() -> None:
    stream = io.StringIO()
    console = Console(stream)
    assert not console.live
    clock = _Clock()
    meter = Meter(console, "s", 3, every=5, clock=clock)
    for _ in range(3):
        clock.now += 10
        meter.advance()
    meter.finish()
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert text.splitlines() == [
        "s: 0/3 samples (0%)",
        "s: 1/3 samples (33%) · 6.0/min · ETA 0:20",
        "s: 2/3 samples (67%) · 6.0/min · ETA 0:10",
        "s: 3/3 samples (100%) · 6.0/min · ETA 0:00",
        "s: 3/3 samples in 0:30",
    ]


def test_a_silent_run_still_reports_every_n_seconds() -> None:
    """A batched model finishes no sample for minutes: the log still shows it is running."""
    lines: list[str] = []
    clock = _Clock()
    meter = Meter(lines.append, "base / dilemmas", 72, every=30, clock=clock)
    clock.now = 10
    meter.heartbeat()
    assert len(lines) == 1  # not yet 30 s since the last line
    clock.now = 31
    meter.heartbeat()
    assert lines[-1] == "base / dilemmas: 0/72 samples (0%) · running 0:31"
    meter.finish()
    meter.heartbeat()  # nothing after the end
    assert lines[-1] == "base / dilemmas: 0/72 samples in 0:31"
