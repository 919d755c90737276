"""Run suites on stages through Inspect, resuming from finished logs, and read outcomes back."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagelens.progress import Progress

Outcomes = dict[str, bool | None]  # prompt id -> event happened? (None: unscored)
LOCAL_CONCURRENCY = 1024


@dataclass(frozen=True)
class StageModel:
    name: str  # "base", "sft_only", "production"
    checkpoint: str  # local path or hub id; with provider "inspect", an Inspect model string
    key: str  # identifies the weights; a finished log is reused only for the same key
    provider: str = "stagelens-hf"  # or "hf", or "inspect" (API models, vLLM servers, ...)
    model_args: tuple[tuple[str, Any], ...] = (("do_sample", False),)


FINISHED = ("success",)
UNFINISHED = ("error", "cancelled", "started")  # Inspect can retry these, keeping done samples


def _log_matches(
    header: Any,
    stage: StageModel,
    suite: str,
    task_args: dict[str, Any],
    statuses: tuple[str, ...],
    roles: dict[str, str],
) -> bool:
    meta = header.eval.metadata or {}
    return bool(
        header.status in statuses
        and meta.get("stagelens_stage") == stage.name
        and meta.get("stagelens_key") == stage.key
        and meta.get("stagelens_suite") == suite
        and meta.get("stagelens_task_args") == json.dumps(task_args, sort_keys=True)
        # graders are part of what a log measured (older logs have none recorded)
        and meta.get("stagelens_model_roles", "{}") == json.dumps(roles, sort_keys=True)
    )


def find_finished(
    log_dir: Path,
    stage: StageModel,
    suite: str,
    task_args: dict[str, Any],
    statuses: tuple[str, ...] = FINISHED,
    model_roles: dict[str, str] | None = None,
) -> Path | None:
    """The newest log of this suite on these weights with these arguments, in one of statuses."""
    from inspect_ai.log import list_eval_logs, read_eval_log

    if not log_dir.exists():
        return None
    for info in list_eval_logs(str(log_dir), recursive=False):  # newest first
        header = read_eval_log(info, header_only=True)
        if _log_matches(header, stage, suite, task_args, statuses, model_roles or {}):
            return _local_path(header.location)
    return None


def _local_path(location: str) -> Path:
    """Inspect lists logs as URIs ("file:///..."); the record stores filesystem paths."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(location)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(location)


def evaluate_stage(
    stage: StageModel,
    suites: list[str],
    task_args: dict[str, Any],
    log_dir: Path,
    progress: Progress,
    realtime: bool = False,
    model_roles: dict[str, str] | None = None,
    max_samples: int | None = None,
) -> dict[str, Path]:
    """The Inspect log of each suite on this stage, running only what is not finished.

    A finished log is reused; an interrupted or failed one is retried with Inspect's
    eval_retry, which keeps its completed samples and generates only the rest. With
    `realtime`, samples are written as they finish, so even a killed run keeps them.
    `model_roles` binds grader roles (role -> Inspect model string) for judged suites;
    `max_samples` caps samples in flight (agentic episodes time code on a shared CPU).
    """
    from inspect_ai import eval as inspect_eval
    from inspect_ai import eval_retry
    from inspect_ai.model import ModelInfo, get_model, set_model_info

    import stagelens.evaluate.plugin  # noqa: F401  (registers the stagelens-hf provider)
    from stagelens.evaluate.meter import metered, register
    from stagelens.suites import make_task

    register()

    roles = model_roles or {}
    logs: dict[str, Path] = {}
    todo = []
    for suite in suites:
        found = find_finished(log_dir, stage, suite, task_args, model_roles=roles)
        if found is not None:
            progress(f"{stage.name} / {suite}: reusing finished log {found.name}")
            logs[suite] = found
        else:
            todo.append(suite)
    if not todo:
        return logs
    if stage.provider != "inspect":
        name = f"{stage.provider}/{stage.name}"
        # without registered info Inspect re-instantiates the model by name to look it up,
        # which for a local checkpoint means a hub request per stage (with retries offline)
        set_model_info(name, ModelInfo(organization="stagelens", model=stage.checkpoint))
    concurrency = None if stage.provider == "inspect" else LOCAL_CONCURRENCY
    for suite in list(todo):
        partial = find_finished(log_dir, stage, suite, task_args, UNFINISHED, roles)
        if partial is None:
            continue
        kept = _samples_kept(partial)
        progress(f"{stage.name} / {suite}: resuming {partial.name} ({kept} samples kept)")
        with metered(progress, f"{stage.name} / {suite}", done=kept):
            (log,) = eval_retry(str(partial), log_dir=str(log_dir), display="none",
                                max_samples=max_samples or concurrency, log_realtime=realtime,
                                score_display=False)  # fmt: skip
        _check(log, stage, suite)
        logs[suite] = _local_path(log.location)
        if logs[suite] != partial:
            # the retried log holds every sample the interrupted one had; two logs of one
            # eval side by side would show `inspect view` the same samples twice
            partial.unlink(missing_ok=True)
        todo.remove(suite)
    if not todo:
        return logs
    if stage.provider == "inspect":
        model = get_model(stage.checkpoint, memoize=False, **dict(stage.model_args))
    else:
        model = get_model(
            name, model_path=stage.checkpoint, memoize=False, **dict(stage.model_args)
        )
    try:
        for suite in todo:
            metadata = {
                "stagelens_stage": stage.name,
                "stagelens_key": stage.key,
                "stagelens_suite": suite,
                "stagelens_checkpoint": stage.checkpoint,
                "stagelens_task_args": json.dumps(task_args, sort_keys=True),
                "stagelens_model_roles": json.dumps(roles, sort_keys=True),
            }
            with metered(progress, f"{stage.name} / {suite}"):
                (log,) = inspect_eval(
                    make_task(suite, **task_args),
                    model=model,
                    log_dir=str(log_dir),
                    display="none",
                    # local weights: every sample at once, so the provider can batch them all;
                    # Inspect's default adaptive concurrency starts at a few and grows slowly
                    max_connections=concurrency,
                    max_samples=max_samples,
                    model_roles=dict(roles) or None,
                    log_realtime=realtime,
                    score_display=False,
                    metadata=metadata,
                )
            _check(log, stage, suite)
            logs[suite] = _local_path(log.location)
    finally:
        model.api.close()
    return logs


def _samples_kept(partial: Path) -> int:
    """How many samples an interrupted log finished (eval_retry keeps them)."""
    from inspect_ai.log import read_eval_log_sample_summaries

    try:
        return sum(1 for s in read_eval_log_sample_summaries(str(partial)) if s.error is None)
    except Exception:  # an unreadable log is retried all the same; the count is only shown
        return 0


def _check(log: Any, stage: StageModel, suite: str) -> None:
    if log.status != "success":
        raise RuntimeError(
            f"{stage.name} / {suite}: Inspect eval ended {log.status}: {log.error}; "
            "run again to resume it (finished samples are kept)"
        )


def _scorer_name(log: ScoredLog, log_path: Path, scorer: str | None) -> str:
    if scorer is not None:
        return scorer
    names = {name for sample in log.samples for name in sample.scores}
    if len(names) != 1:
        raise ValueError(f"{log_path}: name the scorer to read; the log has {sorted(names)}")
    return str(names.pop())


@dataclass(frozen=True, slots=True)
class ScoredSample:
    """What the statistics read of one sample: its scores (value, rater label) and cluster."""

    id: str
    epoch: int
    scores: dict[str, tuple[Any, str | None]]
    cluster: str


@dataclass(frozen=True)
class ScoredLog:
    epochs: int
    samples: list[ScoredSample]


def read_scored(log_path: Path) -> ScoredLog:
    """One log's scores, read a sample at a time: memory grows with the scores kept, not with
    the transcripts (see `log_samples`). Equal scores are kept once: a 50,000-sample log's
    scores take a handful of distinct values, and the statistics keep every stage's records."""
    from inspect_ai.log import read_eval_log

    from stagelens.evaluate.log_samples import scored_samples

    header = read_eval_log(str(log_path), header_only=True)
    shared: dict[Any, dict[str, tuple[Any, str | None]]] = {}
    samples = [_scored(sample, shared) for sample in scored_samples(log_path)]
    return ScoredLog(epochs=header.eval.config.epochs or 1, samples=samples)


def _scored(sample: Any, shared: dict[Any, dict[str, tuple[Any, str | None]]]) -> ScoredSample:
    scores = {name: (_canonical(score.value), None if score.metadata is None
                     else _label(score.metadata.get("label")))
              for name, score in (sample.scores or {}).items()}  # fmt: skip
    key = _frozen(scores)
    if key is not None:
        scores = shared.setdefault(key, scores)  # read-only from here on: safe to share
    cluster = str((sample.metadata or {}).get("cluster", sample.id))
    # the same ids on every stage: one string each, not one per stage
    return ScoredSample(sys.intern(str(sample.id)), sample.epoch, scores, sys.intern(cluster))


def _canonical(value: Any) -> Any:
    """NaN as the one `math.nan` object (each parsed NaN is another object, hashed apart)."""
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def _frozen(scores: dict[str, tuple[Any, str | None]]) -> Any:
    """A hashable key equal only for equal scores of equal types (1, 1.0 and True read alike
    as outcomes but not as labels), or None when a value cannot be hashed."""

    def freeze(v: Any) -> Any:
        if isinstance(v, dict):
            return ("dict", tuple((k, freeze(x)) for k, x in v.items()))
        if isinstance(v, list):
            return ("list", tuple(freeze(x) for x in v))
        return (type(v).__name__, v)

    key = tuple((name, freeze(value), label) for name, (value, label) in scores.items())
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _label(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class SuiteOutcomes:
    """One suite's per-sample outcomes on one stage, as the statistics take them."""

    outcomes: Outcomes  # sample unit -> True (event) / False / None (unscored)
    labels: dict[str, int]  # rater label -> how often it occurred
    clusters: dict[str, str]  # sample unit -> cluster (prompt, scenario, problem)


def read_suite(
    log_path: Path,
    scorer: str | None = None,
    key: str | None = None,
    *,
    loaded: dict[Path, Any] | None = None,
) -> SuiteOutcomes:
    """Per-sample outcomes of one suite's log, the rater labels, and each sample's cluster.

    `scorer` names the score to read; by default the log's only one ("rated" for raters,
    "judged" for LLM judges; a rescored log holds both and needs the name). `key` picks one
    value of a score with several (the reward-hacking detectors' "cheat", ...). A sample's
    cluster is its metadata's "cluster" when the suite sets one (an ODCV scenario, a
    reward-hacking problem), else its prompt id, so several epochs of a prompt form a cluster.
    ``loaded`` keeps logs already read (path -> scores), so several metrics of one log read it
    once.
    """
    from stagelens.raters.base import is_unscored

    log = loaded.get(log_path) if loaded is not None else None
    if log is None:
        log = read_scored(log_path)
        if loaded is not None:
            loaded[log_path] = log
    name = _scorer_name(log, log_path, scorer)
    # with several samples per prompt, each (prompt, epoch) is paired across stages
    epochs = log.epochs
    outcomes: Outcomes = {}
    labels: dict[str, int] = {}
    clusters: dict[str, str] = {}
    for sample in log.samples:
        if name not in sample.scores:
            raise ValueError(f"{log_path}: sample {sample.id} has no {name!r} score")
        value, label = sample.scores[name]
        # a score unscored as a whole (NaN at its root) is unscored for every key
        if key is not None and not is_unscored(value):
            if not isinstance(value, dict) or key not in value:
                raise ValueError(f"{log_path}: sample {sample.id}'s {name!r} has no {key!r}")
            value = value[key]
        shown = "unscored" if is_unscored(value) else value
        default = f"{key}={shown}" if key is not None else "unscored"
        label = label if label is not None else default
        labels[label] = labels.get(label, 0) + 1
        unit = f"{sample.id}#{sample.epoch}" if epochs > 1 else sample.id
        # unscored: Inspect's NaN sentinel, or the string "unscored" of older logs
        outcomes[unit] = None if is_unscored(value) else bool(value)
        clusters[unit] = sample.cluster
    return SuiteOutcomes(outcomes=outcomes, labels=labels, clusters=clusters)


def read_outcomes(
    log_path: Path, scorer: str | None = None, key: str | None = None
) -> tuple[Outcomes, dict[str, int]]:
    """Per-prompt outcomes of one suite's log, and how often each rater label occurred
    (``read_suite`` without the clusters)."""
    suite = read_suite(log_path, scorer, key)
    return suite.outcomes, suite.labels


def read_stages(
    logs: Mapping[str, Path],
    scorer: str | None = None,
    key: str | None = None,
    *,
    loaded: dict[Path, Any] | None = None,
) -> tuple[dict[str, Outcomes], dict[str, str]]:
    """Each stage's outcomes for one suite, and the clusters of all their samples.

    A sample's cluster must be the same on every stage (the stages answered the same prompts).
    """
    outcomes: dict[str, Outcomes] = {}
    clusters: dict[str, str] = {}
    for stage, path in logs.items():
        suite = read_suite(path, scorer, key, loaded=loaded)
        outcomes[stage] = suite.outcomes
        for unit, cluster in suite.clusters.items():
            if clusters.setdefault(unit, cluster) != cluster:
                raise ValueError(
                    f"{path}: sample {unit} is in cluster {cluster!r} here and "
                    f"{clusters[unit]!r} on another stage"
                )
    return outcomes, clusters
