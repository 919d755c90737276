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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.evaluate.merge import merge_shard_logs
from stagelens.evaluate.runner import StageModel, evaluate_stage, find_finished
from stagelens.progress import Progress
from stagelens.suites.sharding import SHARD_ARG

if TYPE_CHECKING:

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
