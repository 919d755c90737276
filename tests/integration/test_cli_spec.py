"""`stagelens sft SPEC` and `stagelens run SPEC` end to end on a tiny local model family."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagelens.cli.main import main
from tests.integration.tiny_family import build_family

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_family(tmp_path_factory.mktemp("family"))


def test_run_trains_sft_only_evaluates_every_stage_and_reports(family: Path) -> None:
    out = family / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(family / "spec.toml"),
            "--out",
            str(out),
            "--offline",
            "--cache",
            str(family / "cache"),
        ],
    )
    assert result.exit_code == 0, result.output
    # the phases, in order, then a plain progress line per suite (no bar: not a terminal)
    phases = ["[1/4] checkpoints", "[2/4] sft_only: training", "[3/4] suites", "[4/4] statistics"]
    at = [result.output.index(phase) for phase in phases]
    assert at == sorted(at)
    assert "sft: 0/2 steps (0%)" in result.output and "sft: 2/2 steps in " in result.output
    assert "sft_only / unsafe_response: 0/4 samples (0%)" in result.output
    assert "\r" not in result.output and "it/s]" not in result.output
    record = json.loads((out / "results.json").read_text())
    assert {s["name"] for s in record["stages"]} == {"base", "production", "sft_only"}
    sft_only = next(s for s in record["stages"] if s["name"] == "sft_only")
    assert sft_only["training"][0]["steps"] == 2
    assert (out / "report.html").is_file() and (out / "bars.png").is_file()
    for metric in record["metrics"]:
        assert metric["rates"]["base"]["n"] + metric["rates"]["base"]["n_unscored"] == 4
        assert metric["verdict"] in {
            "equivalent",
            "production_safer",
            "sft_only_safer",
            "inconclusive",
        }

    # a second run pays for nothing: the checkpoint and all six logs are reused
    again = CliRunner().invoke(
        main,
        [
            "run",
            str(family / "spec.toml"),
            "--out",
            str(out),
            "--offline",
            "--cache",
            str(family / "cache"),
        ],
    )
    assert again.exit_code == 0, again.output
    assert again.output.count("reusing finished log") == 6
    assert "samples (0%)" not in again.output


def test_sft_command_trains_every_parameter(family: Path) -> None:
    from transformers import AutoModelForCausalLM

    out = family / "sft-run"
    result = CliRunner().invoke(
        main, ["sft", str(family / "spec.toml"), "--out", str(out), "--offline"]
    )
    assert result.exit_code == 0, result.output
    base = dict(AutoModelForCausalLM.from_pretrained(family / "base").named_parameters())
    tuned = AutoModelForCausalLM.from_pretrained(out / "checkpoints" / "sft_only")
    for name, param in tuned.named_parameters():
        assert not param.detach().equal(base[name].detach()), name


def test_bad_spec_fails_before_anything_is_written(family: Path) -> None:
    bad = family / "bad.toml"
    bad.write_text(
        (family / "spec.toml").read_text().replace('family = "tiny"', 'family = "tiny"\ncolour = 1')
    )
    out = family / "never"
    result = CliRunner().invoke(main, ["run", str(bad), "--out", str(out), "--offline"])
    assert result.exit_code == 2
    assert "colour" in result.output and "bad.toml:3" in result.output
    assert not out.exists()
