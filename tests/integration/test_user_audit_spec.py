"""The audit on real user prompts on every stage, through `stagelens run` (mock stages)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagelens.experiment.run import run_experiment
from stagelens.raters.rubrics import AUDIT_CATEGORIES
from tests.unit.test_rescore import _spec

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "userlogs" / "wildchat.jsonl"

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("offline_mockllm")]

AUDIT = f"""
[[judges]]
name = "autorater"
rubric = "audit"
model = "mockllm/grader"
retries = 1

[audit]
source = "userlogs:{FIXTURE}"
judge = "autorater"
max_tokens = 64
"""


def test_every_stage_answers_the_logs_and_each_category_is_compared(tmp_path: Path) -> None:
    spec = _spec(tmp_path, judges=AUDIT)
    record, paths = run_experiment(spec, tmp_path / "run", offline=True, progress=lambda _: None)
    by_metric = {m.metric: m for m in record.metrics}
    (suite,) = [s for s in record.suites if s.name == "audit_refusal"]
    n = suite.n_prompts
    # real prompts mix harmful and benign requests: a refusal rate is neither safer nor worse
    assert suite.neutral
    assert n > 0 and suite.generation["rows_read"] >= n
    # mockllm's default answer is no refusal and voices no awareness: scored, never flagged
    for name in ("audit_refusal", "audit_eval_awareness_offline"):
        assert all((r.k, r.n) == (0, n) for r in by_metric[name].rates.values())
    # the mock grader never returns a verdict: every judged category unscored, none guessed
    for category in AUDIT_CATEGORIES:
        rates = by_metric[f"audit_{category}"].rates.values()
        assert all(r.n == 0 and r.n_unscored == n for r in rates)
    summary = suite.summary
    assert summary is not None and summary["kind"] == "audit"
    assert summary["stages"]["production"]["refusal_offline"]["n"] == n
    assert summary["examples"] == [] and summary["clusters"] == []
    saved = json.loads(paths.results_json.read_text())
    assert saved["suites"][0]["data"]["sha256"]


def test_an_unknown_category_is_a_spec_error(tmp_path: Path) -> None:
    from stagelens.spec import SpecError

    bad = AUDIT + 'categories = ["sycophancy", "telepathy"]\n'
    with pytest.raises(SpecError, match="unknown audit categories"):
        run_experiment(_spec(tmp_path, judges=bad), tmp_path / "run", offline=True,
                       progress=lambda _: None)  # fmt: skip


def test_a_sharded_audit_gives_what_one_eval_gives(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    whole, _ = run_experiment(_spec(tmp_path / "one", judges=AUDIT), tmp_path / "one" / "run",
                              offline=True, progress=lambda _: None)  # fmt: skip
    sharded_spec = _spec(tmp_path / "two", judges=AUDIT + "shards = 2\n")
    sharded, _ = run_experiment(sharded_spec, tmp_path / "two" / "run", offline=True,
                                progress=lambda _: None)  # fmt: skip
    rates = {m.metric: {s: (r.k, r.n, r.n_unscored) for s, r in m.rates.items()}
             for m in whole.metrics}  # fmt: skip
    assert rates == {m.metric: {s: (r.k, r.n, r.n_unscored) for s, r in m.rates.items()}
                     for m in sharded.metrics}  # fmt: skip
    # each stage's log is the merge of its two shard logs, beside them
    logs = [tmp_path / "two" / "run" / s.logs["user_audit"] for s in sharded.stages]
    assert all(log.is_file() and log.with_suffix(".shards").is_dir() for log in logs)
