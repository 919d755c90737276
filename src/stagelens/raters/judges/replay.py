"""Judging answers that already exist (labelled files), through Inspect like any suite.

A replay task's solver puts the stored answer in place of a generation, so the judge
scorer, its grader roles, its retries and its verdict cache work exactly as in a suite,
and the grader calls land in an ordinary Inspect log. The model under test is never called.
A stored agent transcript (a benchmark's published trajectory) replays the same way: it is
the "response" the judge grades, with the agent's instructions as the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_ai import Task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver

from stagelens.raters.base import UNSCORED, is_unscored

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog

    from stagelens.raters.judges.settings import JudgeSpec

# a judged event per rubric for labelled refusal data; HarmBench's verdict is about harm
_CALIBRATION_EVENT = {"xstest": "refusal", "strongreject": "refusal"}


@solver
def replay() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content("replay", str(state.metadata["response"]))
        return state

    return solve


def judge_replayed(
    samples: list[Sample],
    judge: JudgeSpec,
    event: str,
    log_dir: Path,
    name: str,
    cache: str | None = None,
    model_roles: dict[str, Any] | None = None,
) -> EvalLog:
    """Judge stored answers (each sample's metadata "response") in one Inspect eval: its log.

    A sample's metadata "judge_request" is what the judge is shown as the request (else its
    input). `model_roles` overrides the judge's graders with Model objects (tests script them).
    """
    from inspect_ai import eval as inspect_eval

    from stagelens.raters.judges.settings import model_roles_for, settings_for

    task = Task(
        dataset=samples,
        solver=replay(),
        scorer=settings_for(judge, cache).scorer(event),
        name=name,
    )
    (log,) = inspect_eval(
        task,
        model="mockllm/model",
        model_roles=model_roles or model_roles_for(judge),
        log_dir=str(log_dir),
        display="none",
        score_display=False,
    )
    if log.status != "success":
        why = log.error.message if log.error is not None else "no error recorded"
        raise RuntimeError(f"judging ended {log.status}: {why} (log: {log.location})")
    return log


def judge_labels(
    pairs: list[tuple[str, str]],
    judge: JudgeSpec,
    log_dir: Path,
    cache: str | None = None,
    model_roles: dict[str, Any] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """The judge's label for each (prompt, response), and its grader-call counts.

    `model_roles` overrides the judge's graders with Model objects (tests script them).
    """
    event = _CALIBRATION_EVENT.get(judge.rubric)
    if event is None:
        raise ValueError(
            f"a {judge.rubric!r} judge labels harm, not refusal; it cannot be "
            "calibrated on refusal labels"
        )
    samples = [Sample(id=i, input=p, metadata={"response": r}) for i, (p, r) in enumerate(pairs)]
    log = judge_replayed(samples, judge, event, log_dir, f"calibrate_{judge.name}", cache,
                         model_roles)  # fmt: skip
    labels: dict[int, str] = {}
    counts = {"grader_calls": 0, "cache_hits": 0}
    for sample in log.samples or []:
        score = (sample.scores or {})["judged"]
        meta = score.metadata or {}
        label = str(meta.get("label", UNSCORED))
        labels[int(sample.id)] = UNSCORED if is_unscored(score.value) else label
        counts["grader_calls"] += int(meta.get("grader_calls", 0))
        counts["cache_hits"] += int(meta.get("cache_hits", 0))
    return [labels[i] for i in range(len(pairs))], counts
