"""`stagelens rescore`: grade a finished run's answers again, with another rater or judge.

The answers are read from the run's Inspect logs and never regenerated: Inspect's `score`
re-scores each log, with the judge's graders bound as model roles. Judge verdicts come from
the verdict cache when the same judge has already graded the same answer with the same
rubric version, so a re-score with a warm cache makes no grader calls; the calls that were
made are counted and reported. The original run is left untouched: the re-scored logs, the
record and the report go to their own directory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from stagelens.errors import UserError
from stagelens.experiment import pipeline
from stagelens.progress import Progress
from stagelens.records import AgreementRecord
from stagelens.report.record import RunRecord
from stagelens.report.write import write_report

if TYPE_CHECKING:
    from stagelens.report.write import ReportPaths
    from stagelens.spec.models import JudgeSpec



class RescoreResult(BaseModel):
    record: RunRecord
    out_dir: str
    grader_calls: int  # calls actually sent to grader models
    cache_hits: int  # verdicts served from the cache
    answers: int  # answers re-scored


def rescore_run(
    run: str | Path,
    *,
    judge: JudgeSpec | None = None,
    rater: str | None = None,
    out: str | Path | None = None,
    cache: str | None = None,
    model_roles: dict[str, Any] | None = None,
    progress: Progress = print,
) -> tuple[RescoreResult, ReportPaths]:
    """Re-score every suite of the run in `run` with `judge` (an LLM judge) or `rater`.

    `model_roles` may bind the judge's grader roles to Model objects (tests script them);
    by default each role gets its model string from `judge`.
    """
    from stagelens.experiment.rating import judge_agreement
    from stagelens.raters.judges.settings import model_roles_for, settings_for
    from stagelens.raters.registry import get_rater
    from stagelens.report.write import load_record
    from stagelens.suites import suite_entry
    from stagelens.suites.common import suite_scorer

    if (judge is None) == (rater is None):
        raise UserError("rescore needs exactly one of a judge or a rater")
    run_dir = Path(run)
    if not (run_dir / "results.json").is_file():
        raise UserError(f"{run_dir}: no results.json; give a finished run directory")
    try:
        record = load_record(run_dir / "results.json")
    except ValueError as err:
        raise UserError(str(err)) from err
    if judge is not None:
        identity = judge.identity
        roles: dict[str, Any] = model_roles or model_roles_for(judge)
    else:
        assert rater is not None
        try:
            identity = get_rater(rater).identity
        except ValueError as err:
            raise UserError(str(err)) from err
        roles = {}
    default_out = run_dir / "rescored" / identity.name.replace(":", "-")
    out_dir = pipeline.prepare_out_dir(Path(out) if out is not None else default_out)
    start = time.monotonic()
    totals = {"grader_calls": 0, "cache_hits": 0, "answers": 0}
    old_records = {s.name: s for s in record.suites}
    logs: pipeline.Logs = {stage.name: {} for stage in record.stages}
    runs = []
    for suite in dict.fromkeys(name for stage in record.stages for name in stage.logs):
        try:
            entry = suite_entry(suite)
        except ValueError as err:
            raise UserError(f"{run_dir}: {err}") from err
        # what the record says of the suite's metrics (the first one carries the suite's data)
        olds = [old_records[m.name] for m in entry.metrics if m.name in old_records]
        if not olds:
            raise UserError(f"{run_dir}: results.json has no metric of suite {suite!r}")
        old = olds[0]
        by_judge = [old_records[m.name] for m in entry.metrics
                    if m.rated_by == "judge" and m.name in old_records]  # fmt: skip
        judged = by_judge[0] if by_judge else None
        stages = [stage for stage in record.stages if suite in stage.logs]
        if entry.rescorable:
            judge_args = settings_for(judge, cache).model_dump() if judge is not None else None
            scorer = suite_scorer(entry.info, identity.name, judge_args)
            for stage in stages:
                source = run_dir / stage.logs[suite]
                target = out_dir / "logs" / f"{stage.name}_{suite}.eval"
                progress(f"{stage.name} / {suite}: re-scoring {source.name}")
                for key, value in _rescore_log(source, target, scorer, roles).items():
                    totals[key] += value
                logs[stage.name][suite] = target
            runs.append(pipeline.SuiteRun(
                suite=suite, args={}, data=old.data, generation=old.generation, rater=identity,
                n_prompts=old.n_prompts, agreement=partial(judge_agreement, judge),
            ))  # fmt: skip
            continue
        # not graded by a swappable rater (the detectors of the reward-hacking episodes):
        # its outcomes are read from the run's own logs, as they were
        progress(f"{suite}: kept as it is (not graded by a rater that can be swapped)")
        for stage in stages:
            logs[stage.name][suite] = run_dir / stage.logs[suite]
        runs.append(pipeline.SuiteRun(
            suite=suite, args={}, data=old.data, generation=old.generation,
            rater=old.rater or identity, n_prompts=old.n_prompts, calibration=old.calibration,
            agreement=_fixed(old.agreement),
            judge=judged.rater if judged is not None else None,
            judge_agreement=_fixed(judged.agreement) if judged is not None else None,
        ))  # fmt: skip
    first = record.metrics[0]
    settings = pipeline.Settings(margin=first.equivalence.margin,
                                 min_pairs=first.equivalence.min_pairs,
                                 seed=first.attribution.seed)  # fmt: skip
    metrics, suites = pipeline.compare(logs, runs, settings)
    rescored = record.model_copy(update={
        "stages": [s.model_copy(update={"logs": {k: os.path.relpath(p, out_dir)
                                                 for k, p in logs[s.name].items()}})
                   for s in record.stages],
        "suites": suites, "metrics": metrics, "rater": identity,
        "config": {**record.config, "rescored_from": str(run_dir.resolve()),
                   "rescored_with": identity.model_dump()},
        "timings": {"rescore": time.monotonic() - start},
    })  # fmt: skip
    paths_out = write_report(rescored, out_dir)
    progress(f"grader calls: {totals['grader_calls']}, cached verdicts: {totals['cache_hits']}, "
             f"answers: {totals['answers']}")  # fmt: skip
    progress(f"report: {paths_out.report_html}")
    result = RescoreResult(record=rescored, out_dir=str(out_dir), **totals)
    return result, paths_out


def _fixed(value: AgreementRecord | None) -> Callable[[list[Path]], AgreementRecord | None]:
    return lambda _logs: value


def _rescore_log(source: Path, target: Path, scorer: Any, roles: dict[str, Any]) -> dict[str, int]:
    from inspect_ai import score
    from inspect_ai.log import read_eval_log, write_eval_log
    from inspect_ai.model import get_model

    if not source.is_file():
        raise UserError(f"{source}: the run's log is missing")
    log = read_eval_log(str(source))
    if log.status != "success":
        raise UserError(f"{source}: the run's log is {log.status}; finish the run first")
    # the answers are replayed, never regenerated: a mock stands in for the stage's model,
    # and the run's own graders are not rebuilt (they may need keys this re-score lacks)
    log.eval.model_roles = None
    rescored = score(log, scorer, model=get_model("mockllm/model"), model_roles=roles or None,
                     action="overwrite", display="none", copy=False)  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial.eval")
    write_eval_log(rescored, str(partial))
    os.replace(partial, target)
    counts = {"grader_calls": 0, "cache_hits": 0, "answers": 0}
    for sample in rescored.samples or []:
        for value in (sample.scores or {}).values():
            meta = value.metadata or {}
            counts["grader_calls"] += int(meta.get("grader_calls", 0))
            counts["cache_hits"] += int(meta.get("cache_hits", 0))
        counts["answers"] += 1
    return counts
