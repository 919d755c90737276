"""A data sweep on a tiny organism: one SFT run per point, cached and resumable, a curve per
metric and seed, sweep.json and sweep.png written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagelens.experiment.sweep import run_sweep
from tests.integration.test_pipeline import RECIPE

pytestmark = pytest.mark.integration


def test_a_sweep_trains_one_sft_per_point_and_resumes(tmp_path: Path) -> None:
    messages: list[str] = []
    kwargs = {"variant": "safety-in-sft", "part": "harmful:refusal", "doses": [0.0, 0.5, 1.0],
              "seeds": [0], "out": tmp_path / "sweep", "n_prompts": 12,
              "cache": tmp_path / "cache", "recipe": RECIPE}  # fmt: skip
    record = run_sweep(**kwargs, progress=messages.append)  # type: ignore[arg-type]
    trained = [m for m in messages if m.endswith(": training")]
    # base, production's SFT and DPO once; then one SFT-only per dose, never more
    assert sorted(trained) == sorted(["base: training", "production_sft: training",
                                      "production: training"] + ["sft_only: training"] * 3)
    assert [p.dose for p in record.points] == [0.0, 0.5, 1.0]
    counts = [p.count for p in record.points]
    assert counts[0] == 0 and counts[1] * 2 == counts[2] > 0
    assert len({p.checkpoint_key for p in record.points}) == 3
    assert {(c.metric, c.seed) for c in record.curves} == {("unsafe_response", 0),
                                                          ("over_refusal", 0)}  # fmt: skip
    for point in record.points:
        assert set(point.rates) == {"unsafe_response", "over_refusal"}
        assert all(r.n + r.n_unscored == 12 for r in point.rates.values())
    saved = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert saved["part"] == "harmful:refusal" and len(saved["points"]) == 3
    assert set(saved["data"]) == {"seed0/unsafe_response", "seed0/over_refusal"}
    assert saved["rater"]["name"] == "organism-exact" and saved["git_revision"]
    assert (tmp_path / "sweep" / "sweep.png").stat().st_size > 5000

    again: list[str] = []
    resumed = run_sweep(**kwargs, progress=again.append)  # type: ignore[arg-type]
    assert not [m for m in again if m.endswith(": training")]
    assert any("reusing finished log" in m for m in again)
    assert [p.rates for p in resumed.points] == [p.rates for p in record.points]
