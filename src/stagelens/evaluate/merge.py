"""Merge a sharded suite's shard logs into one Inspect log without loading their samples.

Inspect's public `write_eval_log` writes a log held whole in memory; at 50,000 samples that
was 3.7 GB of RSS and over 14 minutes (bench/audit_scale.py). This merge reads each shard's
header, then its sample summaries one shard at a time (spooled to a file beside the output,
so what stays in memory per sample is its id), counts the merged results' event rates as it
reads them (or, for metrics other than stagelens's event_rate, keeps the scores for Inspect's
`eval_results`), and writes the `.eval` zip in the layout Inspect's recorder gives a finished
log, each sample's member streamed from its shard's zip without being parsed (feeding the samples to
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.suites.sharding import SHARD_ARG

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog, EvalSampleSummary


# The metric of every rated or judged score (`raters.metrics.event_rate`): a share of scored
# values, which the merge counts sample by sample instead of keeping every score for Inspect.
STREAMED_METRIC = "stagelens/event_rate"


@dataclass
class _Scan:
    """What the merge keeps of the shards' summaries: per shard, its samples' (id, epoch) in
    dataset order; how many finished without error; and for the results either, when every
    metric is STREAMED_METRIC, (events, scored values) per result score (`counts`, constant
    memory), or else every sample's scores (`scores`, for Inspect's `eval_results`)."""

    keys: list[list[tuple[Any, int]]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[tuple[str, str | None], list[float]] | None = None
    # per result score, Inspect's own scored and unscored sample counts summed over the shards
    samples: dict[tuple[str, str | None], tuple[int, int]] = field(default_factory=dict)
    completed: int = 0

    @property
    def total(self) -> int:
        return sum(len(k) for k in self.keys)


def merge_shard_logs(shard_logs: Sequence[Path], out: Path, task_args: dict[str, Any]) -> Path:
    """Merge finished shard logs (in shard order) into one Inspect log at `out`; `out`.

    The merged log keeps the shards' eval spec (task, model, scorers, settings) with the
    unsharded task arguments, all their samples in dataset order, summed usage, and results
    recomputed from the per-sample scores with the task's own metrics (dropped, with a
    note in the log's metadata, where a metric cannot be resolved outside the task). It is
    written beside `out` and renamed onto it, so `out` is either absent or complete.
    """
    from inspect_ai.log import read_eval_log

    paths = [Path(p) for p in shard_logs]
    headers = [read_eval_log(str(p), header_only=True) for p in paths]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    spool = out.with_name(f".{out.name}.{os.getpid()}.summaries")
    try:
        scan = _scan(headers, paths, spool)
        header = _merged_header(headers, scan, paths, task_args)
        _write(header, paths, scan, spool, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        spool.unlink(missing_ok=True)
    return out


def _scan(headers: list[EvalLog], paths: list[Path], spool: Path) -> _Scan:
    """Check the shards and read their summaries one shard at a time: each summary is spooled
    as JSON (the items of the merged summaries.json), its scores kept for the results."""
    from inspect_ai._util.json import to_json_safe
    from inspect_ai.log import read_eval_log_sample_summaries
    from inspect_ai.scorer._metric import SampleScore

    first = headers[0]
    scan = _Scan(counts=_streamed_counts(headers))
    if scan.counts is not None:
        results = [h.results.scores for h in headers if h.results is not None]
        scan.samples = {key: (sum(r[i].scored_samples or 0 for r in results),
                              sum(r[i].unscored_samples or 0 for r in results))
                        for i, key in enumerate(scan.counts)}  # fmt: skip
    seen: dict[tuple[str, int], Path] = {}
    with spool.open("wb") as f:
        for log, path in zip(headers, paths, strict=True):
            if log.status != "success":
                raise ValueError(f"{path}: shard ended {log.status}; only finished shards merge")
            if (log.eval.task, log.eval.model) != (first.eval.task, first.eval.model):
                raise ValueError(f"{path}: not a shard of the same task and model as {paths[0]}")
            shard = _in_dataset_order(log, read_eval_log_sample_summaries(str(path)))
            for s in shard:
                if (key := (str(s.id), s.epoch)) in seen:
                    raise ValueError(f"sample {s.id} (epoch {s.epoch}) is in both {seen[key]} "
                                     f"and {path}: shard ids must be unique")  # fmt: skip
                seen[key] = path
                if scan.counts is not None:
                    _count(scan.counts, s.scores or {})
                elif s.scores:
                    scan.scores.append({name: SampleScore(score=score, sample_id=s.id,
                                                          sample_metadata=s.metadata)
                                        for name, score in s.scores.items()})  # fmt: skip
                scan.completed += s.error is None
                f.write((b"," if f.tell() else b"") + to_json_safe(s, indent=None))
            scan.keys.append([(s.id, s.epoch) for s in shard])
    return scan


def _streamed_counts(headers: list[EvalLog]) -> dict[tuple[str, str | None], list[float]] | None:
    """Zeroed counts per result score when every shard's results hold the same scores, each
    with STREAMED_METRIC alone; None otherwise (the merge then keeps every score)."""
    layouts = [None if h.results is None else
               [(r.name, r.scorer, sorted(r.metrics)) for r in h.results.scores]
               for h in headers]  # fmt: skip
    first = layouts[0]
    if not first or any(layout != first for layout in layouts):
        return None
    if any(metrics != [STREAMED_METRIC] for _, _, metrics in first):
        return None
    return {(name, scorer): [0.0, 0.0] for name, scorer, _ in first}


def _count(counts: dict[tuple[str, str | None], list[float]], scores: dict[str, Any]) -> None:
    """Add one sample's values to `counts`, as event_rate reads them: a dict-valued score
    gives each key its own result score; unscored values (NaN at the root or at the key) are
    left out."""
    from stagelens.raters.base import is_unscored

    for (name, scorer), count in counts.items():
        score = scores.get(scorer or name)
        if score is None or is_unscored(score.value):
            continue
        value = score.value[name] if isinstance(score.value, dict) else score.value
        if not is_unscored(value):
            count[0] += float(value)
            count[1] += 1


def _in_dataset_order(header: EvalLog, summaries: list[EvalSampleSummary]) -> list[Any]:
    # a log lists samples as they finished; the merged log follows the dataset
    order = {str(i): pos for pos, i in enumerate(header.eval.dataset.sample_ids or [])}
    return sorted(summaries, key=lambda s: (order.get(str(s.id), -1), s.epoch))


def _merged_header(
    headers: list[EvalLog], scan: _Scan, paths: list[Path], task_args: dict[str, Any]
) -> EvalLog:
    """The merged log without its samples: spec, plan, stats, results and reductions."""
    from inspect_ai.log import EvalDataset, EvalShards, EvalStats

    first = headers[0]
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
    ledger = [_ledger_entry(log, len(keys), path)
              for log, keys, path in zip(headers, scan.keys, paths, strict=True)]  # fmt: skip
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
    _recompute_results(merged, scan)
    return merged


def _write(header: EvalLog, paths: list[Path], scan: _Scan, spool: Path, out: Path) -> None:
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
        for path, keys in zip(paths, scan.keys, strict=True):
            with zipfile.ZipFile(path) as source:
                for sample_id, epoch in keys:
                    # the last member of a name is the live one, as Inspect's readers take it
                    info = source.getinfo(_sample_filename(sample_id, epoch))
                    with (
                        source.open(info) as reader,
                        merged.open(info, "w", force_zip64=True) as writer,
                    ):
                        shutil.copyfileobj(reader, writer, 1 << 20)
        with merged.open(SUMMARIES_JSON, "w", force_zip64=True) as writer, spool.open("rb") as f:
            writer.write(b"[")
            shutil.copyfileobj(f, writer, 1 << 20)
            writer.write(b"]")
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


def _recompute_results(log: EvalLog, scan: _Scan) -> None:
    """Results from the merged samples' scores, as Inspect's `recompute_metrics` computes them
    after a rescore, from the scores alone (the transcripts are never loaded). The statistics
    read per-sample scores, never these aggregates; when a task's metric cannot be resolved
    here, the aggregates are dropped rather than left as one shard's.
    """
    from inspect_ai._eval.score import (
        metrics_from_log_header,
        reducers_from_log_header,
        resolve_scorers_info,
    )
    from inspect_ai._eval.task.results import eval_results
    from inspect_ai.log import EvalResults

    if scan.counts is not None:
        _streamed_results(log, scan)
        return
    try:
        log.results, log.reductions = eval_results(
            samples=scan.total, scores=scan.scores, reducers=reducers_from_log_header(log),
            scorers=resolve_scorers_info(log), metrics=metrics_from_log_header(log),
            early_stopping=log.results.early_stopping if log.results else None,
            metadata=log.results.metadata if log.results else None,
            logged_samples=log.results.logged_samples if log.results else None,
            completed_samples=scan.completed, headline_metric=log.eval.headline_metric,
        )  # fmt: skip
    except Exception as err:  # e.g. a metric registered only inside the task's module
        log.results = EvalResults(total_samples=scan.total, completed_samples=scan.completed,
                                  scores=[])  # fmt: skip
        log.reductions = None
        dropped = f"{type(err).__name__}: {err}"
        log.eval.metadata = {**(log.eval.metadata or {}), "stagelens_results_dropped": dropped}


def _streamed_results(log: EvalLog, scan: _Scan) -> None:
    """The results from the counted values, in the shards' own layout: each result score's
    rate of events among its scored values, its scored and unscored samples summed over the
    shards. No per-sample reductions (each sample's scores are in its own record)."""
    assert log.results is not None and scan.counts is not None
    results = log.results.model_copy(deep=True)
    results.total_samples, results.completed_samples = scan.total, scan.completed
    results.logged_samples = None if results.logged_samples is None else scan.total
    for result in results.scores:
        events, scored = scan.counts[(result.name, result.scorer)]
        result.metrics[STREAMED_METRIC].value = events / scored if scored else float("nan")
        result.scored_samples, result.unscored_samples = scan.samples[(result.name,
                                                                       result.scorer)]
    log.results, log.reductions = results, None
