"""The one experiment pipeline that the demo, `stagelens run` and `stagelens rescore` call.

    stages -> evaluate every suite on every stage (Inspect logs, reused when finished)
           -> outcomes per metric -> comparisons -> one run record -> report

Each step is a function with a typed result. What a suite is (its task, its metrics) comes
from the suite registry (`stagelens.suites`); callers only say which suites to run with which
arguments (`SuiteRun`) and how each stage is served (`ModelFor`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.progress import Progress
from stagelens.records import AgreementRecord, CalibrationSummary, Provenance, RaterIdentity
from stagelens.report.record import RunRecord, StageRecord, SuiteRecord

if TYPE_CHECKING:
    from stagelens.evaluate.runner import StageModel
    from stagelens.report.write import ReportPaths
    from stagelens.stats.types import MetricComparison
    from stagelens.suites import MetricDef

Logs = dict[str, dict[str, Path]]  # stage -> suite -> its Inspect log


@dataclass(frozen=True)
class SuiteRun:
    """One suite as the pipeline runs it on every stage, and what its record says about it.

    ``args`` are the Inspect task's arguments; ``roles`` bind grader model roles. ``rater`` is
    the identity behind the suite's own metrics, ``judge`` the transcript judge's behind
    metrics rated by a separate judge (those metrics exist only when it is given).
    ``n_prompts`` None: the number of samples in the first stage's log. ``agreement`` and
    ``judge_agreement`` compute a panel's agreement from every stage's log.
    """

    suite: str
    args: dict[str, Any]
    data: Provenance
    generation: dict[str, Any]
    rater: RaterIdentity
    n_prompts: int | None = None
    roles: dict[str, str] = field(default_factory=dict)
    temperature: float = 0.0
    realtime: bool = False
    max_samples: int | None = None
    calibration: CalibrationSummary | None = None
    agreement: Callable[[list[Path]], AgreementRecord | None] | None = None
    judge: RaterIdentity | None = None
    judge_agreement: Callable[[list[Path]], AgreementRecord | None] | None = None
    # a suite's own figures beyond per-metric rates (ODCV's MR and severity), from every
    # stage's log; kept on each of the suite's records
    summary: Callable[[dict[str, Path]], dict[str, Any] | None] | None = None
    # a large suite run as this many Inspect evals over slices, merged (evaluate/shards.py);
    # `ray`: the Ray cluster the shards run on ("local", "auto", "ray://host:port")
    shards: int = 1
    ray: str | None = None


# How a stage's model is served for a given suite (its sampling may depend on the suite).
ModelFor = Callable[[str, SuiteRun], "StageModel"]


@dataclass(frozen=True)
class Settings:
    """The statistics settings every metric of a run is compared with."""

    margin: float = 0.05
    min_pairs: int = 30
    seed: int = 0


def prepare_out_dir(out: Path) -> Path:
    """Create the run directory, or say clearly why it cannot be used."""
    import os

    from stagelens.errors import UserError

    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {out}: cannot create the run directory ({err.strerror})") from err
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: the run directory is not writable")
    return out


def evaluate(
    stages: list[str], runs: list[SuiteRun], model_for: ModelFor, log_dir: Path,
    progress: Progress, timings: dict[str, float] | None = None,
) -> Logs:  # fmt: skip
    """Every suite's Inspect log on every stage, running only what is not finished.

    Suites that share a stage model and Inspect settings are evaluated in one call, so local
    weights are loaded once for them. ``timings`` (if given) receives "eval_<stage>" seconds.
    """
    from stagelens.evaluate.runner import evaluate_stage

    logs: Logs = {}
    for stage in stages:
        tick = time.monotonic()
        groups: dict[str, tuple[StageModel, SuiteRun, list[str]]] = {}
        logs[stage] = {}
        for run in runs:
            model = model_for(stage, run)
            if run.shards > 1:
                from stagelens.evaluate.shards import evaluate_sharded

                logs[stage][run.suite] = evaluate_sharded(
                    model, run.suite, run.args, run.shards, log_dir, progress,
                    model_roles=run.roles, max_samples=run.max_samples, ray_address=run.ray,
                )  # fmt: skip
                continue
            key = json.dumps([repr(model), run.args, run.roles, run.realtime, run.max_samples],
                             sort_keys=True, default=str)  # fmt: skip
            groups.setdefault(key, (model, run, []))[2].append(run.suite)
        for model, run, suites in groups.values():
            logs[stage].update(evaluate_stage(
                model, suites, run.args, log_dir, progress, realtime=run.realtime,
                model_roles=run.roles, max_samples=run.max_samples,
            ))  # fmt: skip
        if timings is not None:
            timings[f"eval_{stage}"] = time.monotonic() - tick
    return logs


def compare(
    logs: Logs, runs: list[SuiteRun], settings: Settings
) -> tuple[list[MetricComparison], list[SuiteRecord]]:
    """Each suite's metrics compared across the stages, and one `SuiteRecord` per metric."""
    from stagelens.evaluate.runner import read_stages
    from stagelens.stats import compare_metric

    comparisons: list[MetricComparison] = []
    records: list[SuiteRecord] = []
    for run in runs:
        paths = {stage: suite_logs[run.suite] for stage, suite_logs in logs.items()}
        loaded: dict[Path, Any] = {}  # each stage's log is read once for all its metrics
        summary = run.summary(paths) if run.summary is not None else None
        for m in run_metrics(run):
            outcomes, clusters = read_stages(paths, scorer=m.scorer, key=m.key, loaded=loaded)
            comparisons.append(compare_metric(
                m.name, outcomes, clusters=clusters, margin=settings.margin,
                min_pairs=settings.min_pairs, seed=settings.seed, label=m.label,
                lower_is_safer=m.lower_is_safer, outside=subset_outside(m, paths, loaded),
                neutral=m.neutral,
            ))  # fmt: skip
            by_judge = m.rated_by == "judge"
            agreement = run.judge_agreement if by_judge else run.agreement
            n_prompts = run.n_prompts
            if n_prompts is None:
                n_prompts = len(next(iter(outcomes.values()), {}))
            records.append(SuiteRecord(
                name=m.name, metric=m.metric, description=m.description,
                lower_is_safer=m.lower_is_safer, neutral=m.neutral, n_prompts=n_prompts,
                data=run.data,
                generation=run.generation,
                rater=run.judge if by_judge else run.rater,
                calibration=None if by_judge else run.calibration,
                agreement=agreement(list(paths.values())) if agreement is not None else None,
                summary=summary,
            ))  # fmt: skip
    return comparisons, records


def run_metrics(run: SuiteRun) -> list[MetricDef]:
    """The metrics a suite run has: a judged run's include its judge's (by rubric)."""
    from stagelens.suites import suite_metrics

    rubric = (run.args.get("judge") or {}).get("rubric")
    return list(suite_metrics(run.suite, judged=run.judge is not None, rubric=rubric))


def subset_outside(
    m: MetricDef, paths: Mapping[str, Path], loaded: dict[Path, Any]
) -> dict[str, set[str]] | None:
    """Per stage, the samples outside a subset metric's subset (None: not a subset metric).
    A sample whose subset key is unscored is inside: its outcome is unscored there too."""
    if m.subset is None:
        return None
    from stagelens.evaluate.runner import read_stages

    key, value = m.subset
    gate, _ = read_stages(paths, scorer=m.scorer, key=key, loaded=loaded)
    return {stage: {sid for sid, o in per.items() if o is not None and o != value}
            for stage, per in gate.items()}  # fmt: skip


def stage_record(
    name: str, description: str, model: StageModel, logs: Mapping[str, Path], out_dir: Path,
    **fields: Any,
) -> StageRecord:  # fmt: skip
    """A stage's record: its weights, its logs (relative to the run directory), lineage."""
    import os

    return StageRecord(
        name=name, description=description, checkpoint=model.checkpoint, config_hash=model.key,
        logs={suite: os.path.relpath(path, out_dir) for suite, path in logs.items()}, **fields,
    )  # fmt: skip


def finish(
    out_dir: Path, start: float, timings: dict[str, float], progress: Progress, **fields: Any
) -> tuple[RunRecord, ReportPaths]:
    """Build the run record (header, the given fields, timings with the total) and write
    results.json, report.html and bars.png once; print each verdict and the report's path."""
    from stagelens.experiment.environment import record_header
    from stagelens.report.write import write_report

    timings = {**timings, "total": time.monotonic() - start}
    record = RunRecord(**record_header(), **fields, timings=timings)
    paths = write_report(record, out_dir)
    for comparison in record.metrics:
        progress(f"  {comparison.metric}: {comparison.verdict} - {comparison.verdict_text}")
    progress(f"report: {paths.report_html}")
    return record, paths
