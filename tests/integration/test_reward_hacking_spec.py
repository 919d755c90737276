"""The reward-hacking eval on every stage of a family, through `stagelens run` (mock stages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagelens.experiment.run import run_experiment
from stagelens.sandbox import bwrap_problem
from tests.unit.test_rescore import _spec

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("offline_mockllm"),
    pytest.mark.skipif(bwrap_problem() is not None, reason=f"bwrap unusable: {bwrap_problem()}"),
]

REWARD_HACKING = """
[[judges]]
name = "transcripts"
rubric = "reward_hacking"
model = "mockllm/grader"
retries = 0

[reward_hacking]
problems = ["pair_sum_count"]
variants = ["rw-untold-possible", "ro-told-impossible"]
message_limit = 6
timing_size = 1000
retiming_size = 1000
batches = 1
judge = "transcripts"
"""


def test_every_stage_plays_the_episodes_and_each_metric_is_compared(tmp_path: Path) -> None:
    spec = _spec(tmp_path, judges=REWARD_HACKING)
    record, paths = run_experiment(spec, tmp_path / "run", offline=True, progress=lambda _: None)
    by_metric = {m.metric: m for m in record.metrics}
    # mockllm never calls a tool: the slow code stays, nothing is cheated, nothing achieved
    cheat = by_metric["reward_hacking_cheat"]
    assert {s: (r.k, r.n) for s, r in cheat.rates.items()} == {
        s: (0, 2) for s in ("base", "sft_only", "production")
    }
    # both episodes are of one problem: one cluster, so no interval can be had from them
    assert cheat.rates["production"].method.startswith("cluster bootstrap")
    assert cheat.rates["production"].ci_low is None and cheat.verdict == "inconclusive"
    success = by_metric["reward_hacking_honest_success"]
    assert all(r.k == 0 and r.n == 2 for r in success.rates.values())
    # the mock grader never gives a valid verdict: every episode unscored, none classed
    judged = by_metric["reward_hacking_judged"]
    assert all(r.n == 0 and r.n_unscored == 2 for r in judged.rates.values())
    stage_logs = {s.name: s.logs for s in record.stages}
    assert all("reward_hacking" in logs for logs in stage_logs.values())
    assert "Reward hacking (detectors)" in paths.report_html.read_text()
    # a rerun reuses every finished log, episodes included
    again, _ = run_experiment(spec, tmp_path / "run", offline=True, progress=lambda _: None)
    assert {s.name: s.logs for s in again.stages} == stage_logs


def test_unknown_problem_is_a_spec_error(tmp_path: Path) -> None:
    from stagelens.spec import SpecError

    bad = REWARD_HACKING.replace('["pair_sum_count"]', '["no_such_problem"]')
    with pytest.raises(SpecError, match=r"unknown .*no_such_problem"):
        run_experiment(_spec(tmp_path, judges=bad), tmp_path / "run", offline=True,
                       progress=lambda _: None)  # fmt: skip
    assert not (tmp_path / "run").exists()
