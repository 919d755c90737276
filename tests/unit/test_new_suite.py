"""A new suite is one task, one registry entry: this file adds one and runs the pipeline on it.

Nothing in the package is edited: the suite registers itself, the pipeline evaluates it on
three stages (Inspect's mock model), reads its metric, compares the stages and writes the
record and report like any built-in suite's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState, generate

from stagelens.evaluate.runner import StageModel
from stagelens.experiment import pipeline
from stagelens.report.record import Provenance, RaterIdentity
from stagelens.suites import (
    MetricDef,
    SuiteEntry,
    register_suite,
    suite_names,
    unregister_suite,
)
from stagelens.suites.common import SuiteInfo

INFO = SuiteInfo(
    name="says_hello",
    metric="says_hello_rate",
    label="Says hello",
    description="share of prompts answered with a greeting",
    request_kind="benign",
    event_labels=("hello",),
    judge_event="compliance",
)


@scorer(metrics=[mean()])
def greeting() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=int("hello" in state.output.completion.lower()))

    return score


@task
def says_hello(n: int = 40) -> Task:
    # every fourth prompt shares a cluster with the next: the pipeline must see the clusters
    samples = [Sample(id=f"p{i}", input=f"prompt {i}", metadata={"cluster": f"c{i // 2}"})
               for i in range(n)]  # fmt: skip
    return Task(dataset=MemoryDataset(samples), solver=generate(), scorer=greeting(),
                name=INFO.name)  # fmt: skip


ENTRY = SuiteEntry(
    info=INFO,
    task=says_hello,
    metrics=(
        MetricDef(name=INFO.name, metric=INFO.metric, label=INFO.label,
                  description=INFO.description),
    ),
)


@pytest.fixture
def registered() -> Iterator[None]:
    register_suite(ENTRY)
    yield
    unregister_suite(INFO.name)


def test_registering_a_taken_name_raises(registered: None) -> None:
    assert INFO.name in suite_names()
    with pytest.raises(ValueError, match="already registered"):
        register_suite(ENTRY)


def test_the_pipeline_runs_a_suite_it_has_never_seen(
    registered: None, offline_mockllm: None, tmp_path: Path
) -> None:
    # mockllm's default answer has no greeting: every stage's rate is 0
    run = pipeline.SuiteRun(
        suite=INFO.name, args={"n": 40}, n_prompts=40, generation={},
        data=Provenance(name="hello prompts", source="this test", licence="CC0-1.0", n=40),
        rater=RaterIdentity(name="greeting", version="1", kind="string_match", description="d"),
    )  # fmt: skip

    def model_for(stage: str, _run: pipeline.SuiteRun) -> StageModel:
        return StageModel(stage, "mockllm/model", f"key-{stage}", "inspect", ())

    stages = ["base", "sft_only", "production"]
    progress: list[str] = []
    logs = pipeline.evaluate(stages, [run], model_for, tmp_path / "logs", progress.append)
    assert set(logs) == set(stages) and all(INFO.name in logs[s] for s in stages)
    metrics, suites = pipeline.compare(logs, [run], pipeline.Settings())
    (comparison,) = metrics
    assert comparison.metric == INFO.name
    assert comparison.rates["production"].k == 0 and comparison.rates["production"].n == 40
    # 20 clusters of 2: the rates' intervals come from the cluster bootstrap
    assert comparison.rates["base"].n_clusters == 20
    # 40 identical pairs: too few to show equivalence within 5 points, clustered or not (the
    # cluster bootstrap alone, [0, 0], once claimed it)
    assert comparison.verdict == "inconclusive" and not comparison.equivalence.equivalent
    assert suites[0].metric == INFO.metric and suites[0].n_prompts == 40
    record, paths = pipeline.finish(
        tmp_path, 0.0, {}, progress.append, name="new suite", config={}, seeds={},
        stages=[pipeline.stage_record(s, s, model_for(s, run), logs[s], tmp_path)
                for s in stages],
        suites=suites, rater=run.rater, metrics=metrics,
    )  # fmt: skip
    saved: dict[str, Any] = json.loads(paths.results_json.read_text())
    assert [m["metric"] for m in saved["metrics"]] == [INFO.name]
    assert "total" in saved["timings"] and record.metrics == metrics
    assert INFO.label in paths.report_html.read_text() or INFO.name in paths.report_html.read_text()
    # a second run reuses every finished log
    again = pipeline.evaluate(stages, [run], model_for, tmp_path / "logs", progress.append)
    assert again == logs
