"""`stagelens sweep SPEC` end to end on a tiny local model family: one SFT per point, every
point evaluated beside base and production, resumed for free."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagelens.cli.main import main
from tests.integration.tiny_family import build_family

pytestmark = pytest.mark.integration

SWAP = '''
[sweep]
part = "b"
doses = [0, 0.5, 1]
[sweep.swap_to]
name = "c"
path = "c.jsonl"
provenance = { source = "test", licence = "CC0-1.0", distilled_from_rl_model = false }
'''


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_family(tmp_path_factory.mktemp("family"))
    rows = [{"prompt": f"Ask {i}", "completion": "No."} for i in range(12)]
    (root / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = (root / "spec.toml").read_text()
    # part b is declared distilled from an RL model: the sweep must carry the flag
    spec = spec.replace("distilled_from_rl_model = false", "distilled_from_rl_model = true")
    (root / "swap.toml").write_text(spec + SWAP)
    (root / "each.toml").write_text(spec + "\n[sweep]\nleave_out_each = true\n")
    return root


def _sweep(family: Path, spec: str, out: Path) -> tuple[str, dict]:
    args = ["sweep", str(family / spec), "--out", str(out), "--offline",
            "--cache", str(family / "cache")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output, json.loads((out / "sweep.json").read_text())


def test_a_swap_sweep_trains_each_point_once_and_resumes(family: Path) -> None:
    out = family / "swap-run"
    output, record = _sweep(family, "swap.toml", out)
    assert output.count("sft: 2/2 steps in ") == 3  # three points, three SFT runs
    assert [p["stage"] for p in record["points"]] == [
        "seed0_dose_0", "seed0_dose_0_5", "seed0_dose_1"]
    # b has 12 rows at weight 2: 24 rows at dose 1, 12 at 0.5; c takes what b gives up
    rows = {stage: {p["name"]: p["n"] for p in parts}
            for stage, parts in record["mixture"].items()}  # fmt: skip
    assert rows["seed0_dose_0"] == {"a": 12, "c": 24}
    assert rows["seed0_dose_0_5"] == {"a": 12, "c": 12, "b": 12}
    assert rows["seed0_dose_1"] == {"a": 12, "b": 24}
    assert [p["count"] for p in record["points"]] == [0, 12, 24]
    assert record["swap_to"] == "c" and "distilled from an RL-trained model" in record["confound"]
    assert "Confound:" in output
    metrics = {c["metric"] for c in record["curves"]}
    assert metrics == set(record["smallest_equivalent_dose"]) and len(metrics) >= 2
    for point in record["points"]:
        assert set(point["rates"]) == metrics
        for metric, rate in point["rates"].items():
            assert rate["n"] + rate["n_unscored"] == 4, metric
            assert point["verdicts"][metric] in {
                "equivalent", "production_safer", "sft_only_safer", "inconclusive",
                "insufficient_data"}
    assert record["spec"]["spec_file"].endswith("swap.toml")
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every point has its own checkpoint; a rerun trains and generates nothing
    assert sorted(p.name for p in (out / "checkpoints" / "sweep").iterdir()) == [
        "seed0_dose_0", "seed0_dose_0_5", "seed0_dose_1"]
    again, second = _sweep(family, "swap.toml", out)
    assert again.count("sft: reusing checkpoint") == 3 and "steps in" not in again
    assert again.count("reusing finished log") == 2 * 5  # 2 suites x (base, production, 3)
    assert [p["rates"] for p in second["points"]] == [p["rates"] for p in record["points"]]


def test_leaving_each_part_out_compares_every_point_with_production(family: Path) -> None:
    out = family / "each-run"
    output, record = _sweep(family, "each.toml", out)
    assert output.count("sft: 2/2 steps in ") == 3
    assert [(p["stage"], p["part"]) for p in record["points"]] == [
        ("seed0_full", None), ("seed0_without_a", "a"), ("seed0_without_b", "b")]
    assert record["part"] is None and record["curves"] == []
    assert set(record["baselines"]) == set(record["points"][0]["rates"])
    assert "seed0_without_b against production:" in output
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
