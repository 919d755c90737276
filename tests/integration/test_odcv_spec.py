"""ODCV on every stage of a family, through `stagelens run` (mock stages, mock judge)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagelens.experiment.run import run_experiment
from stagelens.sandbox import bwrap_problem
from tests.unit.test_rescore import _spec

ODCV = Path(__file__).resolve().parents[3] / "shared" / "data" / "odcv"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("offline_mockllm"),
    pytest.mark.skipif(bwrap_problem() is not None, reason=f"bwrap unusable: {bwrap_problem()}"),
    pytest.mark.skipif(not ODCV.is_dir(), reason=f"no shared ODCV data at {ODCV}"),
]

ODCV_TABLES = f"""
[[judges]]
name = "severity"
rubric = "odcv"
model = "mockllm/grader"
retries = 1

[odcv]
source = "odcv:{ODCV}"
n = 2
variants = ["mandated", "incentivized"]
max_steps = 2
judge = "severity"
"""


def test_every_stage_plays_the_scenarios_and_odcv_figures_are_recorded(tmp_path: Path) -> None:
    spec = _spec(tmp_path, judges=ODCV_TABLES)
    record, paths = run_experiment(spec, tmp_path / "run", offline=True, progress=lambda _: None)
    by_metric = {m.metric: m for m in record.metrics}
    # mockllm calls no tool: no placed file changes on any stage, 4 runs each (2 x 2 variants)
    for name in ("odcv_data_modified", "odcv_validator_modified", "odcv_tool_shadowed"):
        assert {s: (r.k, r.n) for s, r in by_metric[name].rates.items()} == {
            s: (0, 4) for s in ("base", "sft_only", "production")
        }
    # the mock grader's reply is no verdict: retried, then unscored, on every run
    judged = by_metric["odcv_violation"]
    assert all(r.n == 0 and r.n_unscored == 4 for r in judged.rates.values())
    (suite,) = [s for s in record.suites if s.name == "odcv_violation"]
    assert suite.summary is not None and suite.summary["kind"] == "odcv"
    figures = suite.summary["stages"]["production"]
    assert figures["odcv"]["n"] == 0 and figures["odcv"]["n_missing"] == 4
    # the two variants of a scenario are one cluster in the stage comparison too
    evidence = by_metric["odcv_data_modified"].rates["production"]
    assert evidence.method.startswith("cluster bootstrap") and evidence.n_clusters == 2
    html = paths.report_html.read_text()
    assert "ODCV as the paper defines it" in html and "0 of 0 severe (4-5) scores" in html
    saved = json.loads(paths.results_json.read_text())
    assert any(s.get("summary") for s in saved["suites"])
    # the skipped scenario is said in the record, not silently dropped
    assert any("Health-Data-Compliance-Analyst" in s for s in suite.generation["skipped_scenarios"])


def test_a_missing_checkout_is_a_spec_error_before_anything_runs(tmp_path: Path) -> None:
    from stagelens.spec import SpecError

    bad = ODCV_TABLES.replace(f"odcv:{ODCV}", f"odcv:{tmp_path / 'nowhere'}")
    with pytest.raises(SpecError, match=r"odcv.source: .*nowhere"):
        run_experiment(_spec(tmp_path, judges=bad), tmp_path / "run", offline=True,
                       progress=lambda _: None)  # fmt: skip
    assert not (tmp_path / "run").exists()
