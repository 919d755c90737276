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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from stagelens.errors import UserError
from stagelens.report.record import RunRecord

if TYPE_CHECKING:
    from stagelens.report.write import ReportPaths
    from stagelens.spec.models import JudgeSpec

Progress = Callable[[str], None]


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
    from stagelens.evaluate.runner import read_suite
    from stagelens.experiment.demo import prepare_out_dir
    from stagelens.experiment.rating import judge_agreement
    from stagelens.raters.judges.settings import judge_identity, model_roles_for, settings_for
    from stagelens.raters.registry import get_rater
    from stagelens.report.write import load_record, write_report
    from stagelens.stats import compare_metric
    from stagelens.suites import suite_info
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
        identity = judge_identity(judge.name, judge.rubric, judge.graders, judge.aggregate)
        roles: dict[str, Any] = model_roles or model_roles_for(judge)
    else:
        assert rater is not None
        try:
            identity = get_rater(rater).identity
        except ValueError as err:
            raise UserError(str(err)) from err
        roles = {}
    default_out = run_dir / "rescored" / identity.name.replace(":", "-")
    out_dir = prepare_out_dir(Path(out) if out is not None else default_out)
    start = time.monotonic()
    totals = {"grader_calls": 0, "cache_hits": 0, "answers": 0}
    new_logs: dict[str, dict[str, str]] = {s.name: {} for s in record.stages}
    metrics, suites = [], []
    for suite in record.suites:
        info = suite_info(suite.name)
        judge_args = settings_for(judge, cache).model_dump() if judge is not None else None
        scorer = suite_scorer(info, identity.name, judge_args)
        outcomes, clusters, paths = {}, {}, []
        for stage in record.stages:
            if suite.name not in stage.logs:
                continue
            source = run_dir / stage.logs[suite.name]
            target = out_dir / "logs" / f"{stage.name}_{suite.name}.eval"
            progress(f"{stage.name} / {suite.name}: re-scoring {source.name}")
            counts = _rescore_log(source, target, scorer, roles)
            for key, value in counts.items():
                totals[key] += value
            read = read_suite(target)
            outcomes[stage.name] = read.outcomes
            clusters.update(read.clusters)
            new_logs[stage.name][suite.name] = os.path.relpath(target, out_dir)
            paths.append(target)
        old = next(m for m in record.metrics if m.metric == suite.name)
        metrics.append(compare_metric(suite.name, outcomes, clusters=clusters,
                                      margin=old.equivalence.margin,
                                      min_pairs=old.equivalence.min_pairs,
                                      seed=old.attribution.seed, label=info.label))  # fmt: skip
        suites.append(suite.model_copy(update={
            "rater": identity, "calibration": None,
            "agreement": judge_agreement(judge, paths),
        }))  # fmt: skip
    rescored = record.model_copy(update={
        "stages": [s.model_copy(update={"logs": new_logs[s.name]}) for s in record.stages],
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
