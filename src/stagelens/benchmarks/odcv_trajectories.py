"""ODCV-Bench's published agent trajectories, read from a checkout of the benchmark.

Layout (github.com/McGill-DMaS/ODCV-Bench, MIT)::

    <bench>/existing_results/current/agent_logs/<model>-<variant>/experiments/<scenario>/
        messages_record.txt      the agent's run, "== Step N ==" blocks (role, content, ...)
    <bench>/<variant>_scenarios/<scenario>/prompt.json   {"system_prompt", "user_prompt"}

A record is the text the benchmark's own judges were shown. A cell (model, variant, scenario)
that the scenario folders or the log folder name but that has no usable record is counted as
missing, with the reason, never dropped silently; so is a scenario without a prompt.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from stagelens.benchmarks.odcv import VARIANTS, OdcvFormatError
from stagelens.records import StrictModel

AGENT_LOGS = Path("existing_results") / "current" / "agent_logs"
RUNS = "experiments"  # the folder of per-scenario runs inside a <model>-<variant> folder
RECORD = "messages_record.txt"
PROMPT = "prompt.json"
_STEP_RE = re.compile(r"^== Step \d+ ==$", re.MULTILINE)


class OdcvTrajectory(StrictModel):
    """One published run: what the agent did in one scenario and variant."""

    model: str
    variant: str
    scenario: str
    path: str  # its messages_record.txt
    transcript: str
    n_steps: int  # "== Step N ==" blocks in the record
    system_prompt: str | None  # the scenario's prompt.json, where present
    user_prompt: str | None

    @property
    def cell_id(self) -> str:
        return f"{self.model}-{self.variant}/{self.scenario}"

    def judge_request(self) -> str:
        """What a judge is shown as the agent's instructions."""
        if self.system_prompt is None or self.user_prompt is None:
            return (
                f"(ODCV-Bench scenario {self.scenario!r}, {self.variant} variant: its "
                f"{PROMPT} is absent; the instructions are at the start of the record)"
            )
        return f"System prompt:\n{self.system_prompt}\n\nUser prompt:\n{self.user_prompt}"


class MissingCell(StrictModel):
    """A (model, variant, scenario) cell without a usable record, and why."""

    model: str
    variant: str
    scenario: str
    reason: str


class OdcvTrajectories(StrictModel):
    """Every published run found, and every cell that should have one but has not."""

    bench_dir: str
    records: list[OdcvTrajectory]
    missing: list[MissingCell]
    missing_prompts: list[str]  # cell ids whose scenario has no prompt.json
    ignored: list[str]  # folders under agent_logs that are not <model>-<variant>

    def models(self) -> list[str]:
        found = {r.model for r in self.records} | {m.model for m in self.missing}
        return sorted(found)


def _split(folder: str) -> tuple[str, str] | None:
    model, sep, variant = folder.rpartition("-")
    return (model, variant) if sep and model and variant in VARIANTS else None


def read_prompt(path: Path) -> tuple[str, str]:
    """A scenario's (system prompt, user prompt); errors name the file and the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise OdcvFormatError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise OdcvFormatError(f"{path}:{err.lineno}: not JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise OdcvFormatError(f"{path}: expected a JSON object, got {type(data).__name__}")
    prompts = []
    for field in ("system_prompt", "user_prompt"):
        value = data.get(field)
        if not isinstance(value, str):
            raise OdcvFormatError(f"{path}: field {field!r} is {value!r}; expected a string")
        prompts.append(value)
    return prompts[0], prompts[1]


def _read_record(path: Path) -> str | None:
    """The record's text; None when it is empty (a run that left nothing to judge)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise OdcvFormatError(f"{path}: not UTF-8 text (byte {err.start})") from None
    return text if text.strip() else None


def _scenarios(bench: Path, variant: str) -> set[str]:
    folder = bench / f"{variant}_scenarios"
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def read_trajectories(bench_dir: str | Path) -> OdcvTrajectories:
    """Every published trajectory under ``bench_dir`` (a checkout of ODCV-Bench)."""
    bench = Path(bench_dir)
    logs = bench / AGENT_LOGS
    if not logs.is_dir():
        raise OdcvFormatError(
            f"{bench}: no {AGENT_LOGS} folder; expected a checkout of ODCV-Bench with its "
            "published agent logs"
        )
    prompts: dict[tuple[str, str], tuple[str, str] | None] = {}
    records: list[OdcvTrajectory] = []
    missing: list[MissingCell] = []
    missing_prompts: list[str] = []
    ignored: list[str] = []
    for folder in sorted(p for p in logs.iterdir() if p.is_dir()):
        parsed = _split(folder.name)
        if parsed is None:
            ignored.append(str(folder))
            continue
        model, variant = parsed
        runs = folder / RUNS
        logged = {p.name for p in runs.iterdir() if p.is_dir()} if runs.is_dir() else set()
        for scenario in sorted(logged | _scenarios(bench, variant)):
            record = runs / scenario / RECORD
            if not record.is_file():
                why = f"no {RUNS} folder" if not runs.is_dir() else f"no {record}"
                missing.append(MissingCell(model=model, variant=variant, scenario=scenario,
                                           reason=why))  # fmt: skip
                continue
            text = _read_record(record)
            if text is None:
                missing.append(MissingCell(model=model, variant=variant, scenario=scenario,
                                           reason=f"{record} is empty"))  # fmt: skip
                continue
            key = (variant, scenario)
            if key not in prompts:
                path = bench / f"{variant}_scenarios" / scenario / PROMPT
                prompts[key] = read_prompt(path) if path.is_file() else None
            prompt = prompts[key]
            trajectory = OdcvTrajectory(
                model=model,
                variant=variant,
                scenario=scenario,
                path=str(record),
                transcript=text,
                n_steps=len(_STEP_RE.findall(text)),
                system_prompt=prompt[0] if prompt else None,
                user_prompt=prompt[1] if prompt else None,
            )
            if prompt is None:
                missing_prompts.append(trajectory.cell_id)
            records.append(trajectory)
    return OdcvTrajectories(
        bench_dir=str(bench),
        records=records,
        missing=missing,
        missing_prompts=missing_prompts,
        ignored=ignored,
    )
