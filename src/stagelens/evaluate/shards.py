"""Sharded suites: a large audit run as k Inspect evals over slices of one dataset, then merged.

A suite whose task takes a ``shard: str | None = None`` argument and passes it to
`apply_shard` can be split: shard "i/k" sees the i-th of k contiguous slices of the dataset
(sizes differ by at most one; every sample is in exactly one shard). `evaluate_sharded` runs
each shard as its own Inspect eval through `evaluate_stage`, so a finished shard is reused and
an interrupted one resumed with `eval_retry` at sample granularity, then merges the shard logs
into one Inspect log that `read_suite` reads like any suite's.

Layout (Inspect's own shard layout, so `inspect view` hides shards its merged log covers)::

    log_dir/<stage>_<suite>_<digest>.eval                       the merged log
    log_dir/<stage>_<suite>_<digest>.shards/<i>-of-<k>/*.eval   shard i's log

The digest names the weights, suite, task arguments and graders; the shard count is not part
of it, so any finished merged log of the same measurement is reused, whatever its k. Keep k
fixed while an audit is unfinished: shards of another k are not reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.evaluate.runner import StageModel, evaluate_stage, find_finished
from stagelens.progress import Progress
from stagelens.suites.sharding import SHARD_ARG

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog

    from stagelens.suites import SuiteEntry

SHARDS_SUFFIX = ".shards"  # Inspect's companion-directory suffix (inspect_ai._util.log_layout)
# Inspect holds every sample of a running eval in memory (its state, its realtime buffer): a
# shard of at most this many keeps an audit's memory flat as the audit grows
# (bench/audit_scale.py prints peak RSS at 5,000 and 50,000 prompts)
SAMPLES_PER_SHARD = 5000


def auto_shards(n_samples: int) -> int:
    """Shards for `n_samples` when the user names none: one per SAMPLES_PER_SHARD."""
    return max(1, -(-n_samples // SAMPLES_PER_SHARD))


@dataclass(frozen=True)
class ShardJob:
    """One shard's eval: everything a worker process needs (it is pickled for Ray)."""

    stage: StageModel
    suite: str
    task_args: dict[str, Any]  # the suite's arguments with "shard": "i/k"
    log_dir: Path
    model_roles: dict[str, str] | None
    max_samples: int | None
    # a suite registered with `register_suite` exists only in the process that registered
    # it; shipping the entry lets a Ray worker register it too (built-ins need nothing)
    entry: SuiteEntry | None = None


def run_shard(job: ShardJob, progress: Progress) -> Path:
    """Evaluate one shard (reused if finished, resumed if interrupted); its log's path.

    Realtime logging is always on: a killed shard keeps the samples it finished.
    """
    if job.entry is not None:
        from stagelens.suites import register_suite, suite_names

        if job.suite not in suite_names():
            register_suite(job.entry)
    logs = evaluate_stage(job.stage, [job.suite], job.task_args, job.log_dir, progress,
                          realtime=True, model_roles=job.model_roles,
                          max_samples=job.max_samples)  # fmt: skip
    return logs[job.suite]


def _ray_shard(job: ShardJob) -> str:
    # a Ray worker's stdout reaches the driver's console, prefixed with the worker's pid
    return str(run_shard(job, lambda line: print(line, flush=True)))


def evaluate_sharded(
    stage: StageModel,
    suite: str,
    task_args: dict[str, Any],
    n_shards: int,
    log_dir: Path,
    progress: Progress,
    *,
    model_roles: dict[str, str] | None = None,
    max_samples: int | None = None,
    ray_address: str | None = None,
    ray_options: dict[str, Any] | None = None,
) -> Path:
    """The merged Inspect log of `suite` on `stage`, run as `n_shards` shards.

    A finished merged log of the same measurement is reused (nothing runs). Otherwise every
    shard is evaluated with `evaluate_stage` (finished shards reused, interrupted ones
    resumed with their completed samples kept) and the shard logs merged into one log,
    written atomically.

    Without `ray_address` the shards run one after another in this process. With it they
    run as Ray tasks, one shard each: "local" starts a Ray instance here for the call (a
    Ray already initialised in this process is used as it is), "auto" joins the cluster
    running on this machine, "ray://host:port" a remote one. Ray workers write their logs
    themselves, so `log_dir` (and a local stage's checkpoint) must be on a filesystem
    shared by every node, which also needs stagelens installed with the same versions.
    `ray_options` are Ray task options for each shard (e.g. {"num_gpus": 1} for local
    weights); the default asks for one CPU.
    """
    from stagelens.suites import _REGISTERED, suite_entry

    if n_shards < 1:
        raise ValueError(f"n_shards must be at least 1, not {n_shards}")
    if task_args.get(SHARD_ARG) is not None:
        raise ValueError(f"task_args already name a shard ({task_args[SHARD_ARG]!r})")
    suite_entry(suite)  # an unknown suite fails here, not in n shards
    roles = model_roles or {}
    merged = find_finished(log_dir, stage, suite, task_args, model_roles=roles)
    if merged is not None:
        progress(f"{stage.name} / {suite}: reusing finished log {merged.name}")
        return merged
    name = merged_log_name(stage, suite, task_args, roles)
    jobs = [
        ShardJob(stage, suite, {**task_args, SHARD_ARG: f"{i}/{n_shards}"},
                 log_dir / f"{name}{SHARDS_SUFFIX}" / f"{i}-of-{n_shards}", roles or None,
                 max_samples, _REGISTERED.get(suite))
        for i in range(n_shards)
    ]  # fmt: skip
    if ray_address is None:
        paths = _run_here(jobs, progress)
    else:
        paths = _run_on_ray(jobs, progress, ray_address, ray_options or {})
    progress(f"{stage.name} / {suite}: merging {n_shards} shard logs")
    return merge_shard_logs(paths, log_dir / f"{name}.eval", task_args)


def merged_log_name(
    stage: StageModel, suite: str, task_args: dict[str, Any], roles: dict[str, str]
) -> str:
    """The merged log's file stem: readable, and fixed by what the log measures."""
    what = json.dumps([stage.name, stage.key, suite, task_args, roles], sort_keys=True,
                      default=str)  # fmt: skip
    digest = hashlib.sha256(what.encode()).hexdigest()[:12]
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{stage.name}_{suite}").strip("-")
    return f"{clean}_{digest}"


def _shard_failures(failures: list[str], total: int) -> RuntimeError:
    return RuntimeError(
        f"{len(failures)} of {total} shards did not finish:\n  " + "\n  ".join(failures)
        + "\nrun again to resume them (finished shards and samples are kept)"
    )  # fmt: skip


def _run_here(jobs: list[ShardJob], progress: Progress) -> list[Path]:
    paths: list[Path] = []
    failures: list[str] = []
    for job in jobs:
        progress(f"{job.stage.name} / {job.suite}: shard {job.task_args[SHARD_ARG]}")
        try:
            paths.append(run_shard(job, progress))
        except RuntimeError as err:  # an eval that ended in error: the others still run
            failures.append(f"shard {job.task_args[SHARD_ARG]}: {err}")
    if failures:
        raise _shard_failures(failures, len(jobs))
    return paths


def _run_on_ray(
    jobs: list[ShardJob], progress: Progress, address: str, options: dict[str, Any]
) -> list[Path]:
    import ray

    started = not ray.is_initialized()
    if started:
        local = {"include_dashboard": False} if address == "local" else {}
        ray.init(address=address, **local)
    try:
        remote = ray.remote(_ray_shard).options(**{"num_cpus": 1, **options})
        pending = {remote.remote(job): job for job in jobs}
        paths: dict[str, Path] = {}
        failures: list[str] = []
        waiting = list(pending)
        while waiting:
            (ready,), waiting = ray.wait(waiting, num_returns=1)
            shard = pending[ready].task_args[SHARD_ARG]
            try:
                paths[shard] = Path(ray.get(ready))
            except Exception as err:  # a failed task: report it once every shard is done
                failures.append(f"shard {shard}: {err}")
                continue
            progress(f"{jobs[0].stage.name} / {jobs[0].suite}: shard {shard} done "
                     f"({len(paths)}/{len(jobs)})")  # fmt: skip
        if failures:
            raise _shard_failures(failures, len(jobs))
        return [paths[job.task_args[SHARD_ARG]] for job in jobs]
    finally:
        if started:
            ray.shutdown()


def merge_shard_logs(shard_logs: Sequence[Path], out: Path, task_args: dict[str, Any]) -> Path:
    """Merge finished shard logs (in shard order) into one Inspect log at `out`; `out`.

    The merged log keeps the shards' eval spec (task, model, scorers, settings) with the
    unsharded task arguments, all their samples in shard order, summed usage, and results
    recomputed from the per-sample scores with the task's own metrics (dropped, with a
    note in the log's metadata, where a metric cannot be resolved outside the task). It is
    written beside `out` and renamed onto it, so `out` is either absent or complete.
    """
    from inspect_ai.log import read_eval_log, write_eval_log

    logs = [read_eval_log(str(p)) for p in shard_logs]
    merged = _merged(logs, [Path(p) for p in shard_logs], task_args)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        write_eval_log(merged, str(tmp), format="eval")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _merged(logs: list[EvalLog], paths: list[Path], task_args: dict[str, Any]) -> EvalLog:
    from inspect_ai.log import EvalDataset, EvalShards, EvalStats

    first = logs[0]
    samples: list[Any] = []
    seen: dict[tuple[str, int], str] = {}
    sample_ids: list[Any] = []
    for log, path in zip(logs, paths, strict=True):
        if log.status != "success":
            raise ValueError(f"{path}: shard ended {log.status}; only finished shards merge")
        if (log.eval.task, log.eval.model) != (first.eval.task, first.eval.model):
            raise ValueError(f"{path}: not a shard of the same task and model as {paths[0]}")
        ids = list(log.eval.dataset.sample_ids or [])
        sample_ids.extend(ids)
        order = {str(i): pos for pos, i in enumerate(ids)}
        # dataset order within a shard (a log lists samples as they finished)
        ordered = sorted(log.samples or [], key=lambda s: (order.get(str(s.id), -1), s.epoch))
        for sample in ordered:
            key = (str(sample.id), sample.epoch)
            if key in seen:
                raise ValueError(f"sample {sample.id} (epoch {sample.epoch}) is in both "
                                 f"{seen[key]} and {path}: shard ids must be unique")  # fmt: skip
            seen[key] = str(path)
            samples.append(sample)
    digest = hashlib.sha256("".join(log.eval.eval_id for log in logs).encode()).hexdigest()
    spec = first.eval.model_copy(deep=True)
    spec.eval_id = spec.run_id = spec.task_id = digest[:22]
    spec.created = datetime.now(UTC).isoformat(timespec="seconds")
    if SHARD_ARG in spec.task_args:  # the unsharded call's arguments, default shard included
        spec.task_args = {**spec.task_args, SHARD_ARG: None}
    spec.task_args_passed = {k: v for k, v in spec.task_args_passed.items() if k != SHARD_ARG}
    spec.dataset = EvalDataset(name=first.eval.dataset.name, location=first.eval.dataset.location,
                               samples=len(sample_ids), sample_ids=sample_ids,
                               shuffled=first.eval.dataset.shuffled)  # fmt: skip
    spec.metadata = {**(spec.metadata or {}),
                     "stagelens_task_args": json.dumps(task_args, sort_keys=True),
                     "stagelens_shards": len(logs)}  # fmt: skip
    ledger = [_ledger_entry(log, path) for log, path in zip(logs, paths, strict=True)]
    spec.shards = EvalShards(selection="ids", ledger=ledger)
    stats = EvalStats(
        # "" is an unset time (a shard interrupted before it started), not the earliest
        started_at=min((t for log in logs if (t := log.stats.started_at)), default=""),
        completed_at=max((t for log in logs if (t := log.stats.completed_at)), default=""),
        model_usage=_summed([log.stats.model_usage for log in logs]),
        role_usage=_summed([log.stats.role_usage for log in logs]),
    )
    merged = first.model_copy(update={"eval": spec, "samples": samples, "stats": stats,
                                      "status": "success", "error": None,
                                      "location": ""})  # fmt: skip
    _recompute_results(merged)
    return merged


def _ledger_entry(log: EvalLog, path: Path) -> Any:
    """Inspect's provenance record of one merged shard (`EvalSpec.shards`).

    Inspect defines no merge of its own here; `selection_digest` is ours: the SHA-256 of the
    JSON list of the shard's sample ids, in dataset order.
    """
    from inspect_ai.log import EvalShardEntry

    ids = list(log.eval.dataset.sample_ids or [])
    stat = path.stat()
    return EvalShardEntry(
        shard=path.parent.name, log=path.name, eval_set_id=log.eval.eval_set_id,
        status=log.status, samples=len(log.samples or []), selected=len(ids),
        selection_digest=hashlib.sha256(json.dumps(ids).encode()).hexdigest(),
        started_at=log.stats.started_at, completed_at=log.stats.completed_at,
        model_usage=log.stats.model_usage, role_usage=log.stats.role_usage,
        size=stat.st_size, mtime=stat.st_mtime,
    )  # fmt: skip


def _summed(usages: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for usage in usages:
        for model, used in usage.items():
            total[model] = total[model] + used if model in total else used
    return total


def _recompute_results(log: EvalLog) -> None:
    """Results from the merged samples' scores, as Inspect computes them after a rescore.

    The statistics read per-sample scores, never these aggregates; when a task's metric
    cannot be resolved here, the aggregates are dropped rather than left as one shard's.
    """
    from inspect_ai.log import EvalResults, recompute_metrics

    try:
        recompute_metrics(log)
    except Exception as err:  # e.g. a metric registered only inside the task's module
        completed = sum(1 for s in log.samples or [] if s.error is None)
        log.results = EvalResults(total_samples=len(log.samples or []),
                                  completed_samples=completed, scores=[])  # fmt: skip
        log.reductions = None
        dropped = f"{type(err).__name__}: {err}"
        log.eval.metadata = {**(log.eval.metadata or {}), "stagelens_results_dropped": dropped}
