"""Merge a sharded suite's shard logs into one Inspect log without loading their samples.

Inspect's public `write_eval_log` writes a log held whole in memory; at 50,000 samples that
was 3.7 GB of RSS and over 14 minutes (bench/audit_scale.py). This merge reads each shard's
header and sample summaries (small), computes the merged results from the summaries' scores,
and writes the `.eval` zip in the layout Inspect's recorder gives a finished log, each
sample's member streamed from its shard's zip without being parsed (feeding the samples to
Inspect's recorder instead cost 8 ms of CPU per sample and journalled 5,000 summary files
per 5,000 samples). The layout, member names and serialiser are Inspect internals: Inspect is
pinned, and tests/integration/test_shards.py reads the merged log with Inspect's readers and
compares it with an unsharded run's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.suites.sharding import SHARD_ARG

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog, EvalSampleSummary


def merge_shard_logs(shard_logs: Sequence[Path], out: Path, task_args: dict[str, Any]) -> Path:
    """Merge finished shard logs (in shard order) into one Inspect log at `out`; `out`.

    The merged log keeps the shards' eval spec (task, model, scorers, settings) with the
    unsharded task arguments, all their samples in dataset order, summed usage, and results
    recomputed from the per-sample scores with the task's own metrics (dropped, with a
    note in the log's metadata, where a metric cannot be resolved outside the task). It is
    written beside `out` and renamed onto it, so `out` is either absent or complete.
    """
    from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

    paths = [Path(p) for p in shard_logs]
    headers = [read_eval_log(str(p), header_only=True) for p in paths]
    summaries = [_in_dataset_order(h, read_eval_log_sample_summaries(str(p)))
                 for h, p in zip(headers, paths, strict=True)]  # fmt: skip
    header = _merged_header(headers, summaries, paths, task_args)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        _write(header, paths, summaries, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _in_dataset_order(header: EvalLog, summaries: list[EvalSampleSummary]) -> list[Any]:
    # a log lists samples as they finished; the merged log follows the dataset
    order = {str(i): pos for pos, i in enumerate(header.eval.dataset.sample_ids or [])}
    return sorted(summaries, key=lambda s: (order.get(str(s.id), -1), s.epoch))


def _merged_header(
    headers: list[EvalLog],
    summaries: list[list[EvalSampleSummary]],
    paths: list[Path],
    task_args: dict[str, Any],
) -> EvalLog:
    """The merged log without its samples: spec, plan, stats, results and reductions."""
    from inspect_ai.log import EvalDataset, EvalShards, EvalStats

    first = headers[0]
    seen: dict[tuple[str, int], Path] = {}
    for log, shard, path in zip(headers, summaries, paths, strict=True):
        if log.status != "success":
            raise ValueError(f"{path}: shard ended {log.status}; only finished shards merge")
        if (log.eval.task, log.eval.model) != (first.eval.task, first.eval.model):
            raise ValueError(f"{path}: not a shard of the same task and model as {paths[0]}")
        for s in shard:
            if (key := (str(s.id), s.epoch)) in seen:
                raise ValueError(f"sample {s.id} (epoch {s.epoch}) is in both {seen[key]} "
                                 f"and {path}: shard ids must be unique")  # fmt: skip
            seen[key] = path
    sample_ids = [i for log in headers for i in log.eval.dataset.sample_ids or []]
    digest = hashlib.sha256("".join(log.eval.eval_id for log in headers).encode()).hexdigest()
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
                     "stagelens_shards": len(headers)}  # fmt: skip
    ledger = [_ledger_entry(log, len(shard), path)
              for log, shard, path in zip(headers, summaries, paths, strict=True)]  # fmt: skip
    spec.shards = EvalShards(selection="ids", ledger=ledger)
    stats = EvalStats(
        # "" is an unset time (a shard interrupted before it started), not the earliest
        started_at=min((t for log in headers if (t := log.stats.started_at)), default=""),
        completed_at=max((t for log in headers if (t := log.stats.completed_at)), default=""),
        model_usage=_summed([log.stats.model_usage for log in headers]),
        role_usage=_summed([log.stats.role_usage for log in headers]),
    )
    merged = first.model_copy(update={"eval": spec, "samples": None, "stats": stats,
                                      "status": "success", "error": None,
                                      "location": ""})  # fmt: skip
    _recompute_results(merged, [s for shard in summaries for s in shard])
    return merged


def _write(
    header: EvalLog, paths: list[Path], summaries: list[list[EvalSampleSummary]], out: Path
) -> None:
    """A finished `.eval` zip as Inspect's recorder lays one out: the start record, every
    sample's member copied from its shard in dataset order, the summaries, the reductions and
    the header. A member is streamed (decompressed and recompressed in chunks), never parsed."""
    from inspect_ai._util.json import to_json_safe
    from inspect_ai._util.zipfile import zipfile_compress_kwargs
    from inspect_ai.log._recorders.eval import (
        HEADER_JSON,
        REDUCTIONS_JSON,
        START_JSON,
        SUMMARIES_JSON,
        LogStart,
        _eval_log_header,
        _journal_path,
        _sample_filename,
    )

    start = LogStart(version=header.version, eval=header.eval, plan=header.plan)
    with zipfile.ZipFile(out, "w", **zipfile_compress_kwargs) as merged:
        merged.writestr(_journal_path(START_JSON), to_json_safe(start, indent=None))
        for path, shard in zip(paths, summaries, strict=True):
            with zipfile.ZipFile(path) as source:
                for s in shard:
                    # the last member of a name is the live one, as Inspect's readers take it
                    info = source.getinfo(_sample_filename(s.id, s.epoch))
                    with (
                        source.open(info) as reader,
                        merged.open(info, "w", force_zip64=True) as writer,
                    ):
                        shutil.copyfileobj(reader, writer, 1 << 20)
        merged.writestr(
            SUMMARIES_JSON, to_json_safe([s for shard in summaries for s in shard], indent=None)
        )
        if header.reductions is not None:
            merged.writestr(REDUCTIONS_JSON, to_json_safe(header.reductions, indent=None))
        merged.writestr(HEADER_JSON, to_json_safe(_eval_log_header(header), indent=None))
    with out.open("rb") as f:  # durable before the rename that publishes it
        os.fsync(f.fileno())


def _ledger_entry(log: EvalLog, n_samples: int, path: Path) -> Any:
    """Inspect's provenance record of one merged shard (`EvalSpec.shards`).

    Inspect defines no merge of its own here; `selection_digest` is ours: the SHA-256 of the
    JSON list of the shard's sample ids, in dataset order.
    """
    from inspect_ai.log import EvalShardEntry

    ids = list(log.eval.dataset.sample_ids or [])
    stat = path.stat()
    return EvalShardEntry(
        shard=path.parent.name, log=path.name, eval_set_id=log.eval.eval_set_id,
        status=log.status, samples=n_samples, selected=len(ids),
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


def _recompute_results(log: EvalLog, summaries: list[EvalSampleSummary]) -> None:
    """Results from the merged samples' scores, as Inspect computes them after a rescore.

    Computed on score-only samples built from the summaries, so the transcripts are never
    loaded. The statistics read per-sample scores, never these aggregates; when a task's
    metric cannot be resolved here, the aggregates are dropped rather than left as one
    shard's.
    """
    from inspect_ai.log import EvalError, EvalResults, EvalSample, recompute_metrics

    completed = sum(1 for s in summaries if s.error is None)
    scored = log.model_copy(update={"samples": [
        EvalSample(id=s.id, epoch=s.epoch, input="", target=s.target, metadata=s.metadata,
                   scores=s.scores, error=None if s.error is None else EvalError(
                       message=s.error, traceback="", traceback_ansi=""))
        for s in summaries
    ]})  # fmt: skip
    try:
        recompute_metrics(scored)
        log.results, log.reductions = scored.results, scored.reductions
    except Exception as err:  # e.g. a metric registered only inside the task's module
        log.results = EvalResults(total_samples=len(summaries), completed_samples=completed,
                                  scores=[])  # fmt: skip
        log.reductions = None
        dropped = f"{type(err).__name__}: {err}"
        log.eval.metadata = {**(log.eval.metadata or {}), "stagelens_results_dropped": dropped}
