"""The organism as one spec among others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagelens.experiment import run as run_module
from stagelens.spec.load import SpecError
from stagelens.spec.organism import load_organism_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_organism_example_is_an_organism_spec() -> None:
    spec = load_organism_spec(EXAMPLES / "organism.toml")
    assert spec is not None
    assert spec.organism.variant == "safety-in-sft" and spec.organism.n_prompts == 320


def test_a_model_family_spec_is_not_an_organism_spec() -> None:
    assert load_organism_spec(EXAMPLES / "smollm2-135m-gguf.toml") is None


def test_a_bad_organism_field_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "o.toml"
    bad.write_text('[organism]\nvariant = "safety-in-rl"\nseeds = 3\n')
    with pytest.raises(SpecError) as info:
        load_organism_spec(bad)
    assert f"{bad}:3" in str(info.value) and "organism.seeds" in str(info.value)


def test_run_experiment_on_an_organism_spec_runs_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    class Result:
        record, paths = "record", "paths"

    def fake_demo(**kwargs: Any) -> Result:
        calls.append(kwargs)
        return Result()

    import stagelens.experiment.demo as demo

    monkeypatch.setattr(demo, "run_demo", fake_demo)
    spec = tmp_path / "o.toml"
    spec.write_text('[organism]\nvariant = "safety-in-rl"\nseed = 4\nn_prompts = 50\n')
    assert run_module.run_experiment(spec, tmp_path / "out") == ("record", "paths")
    (call,) = calls
    assert call["variant"] == "safety-in-rl" and call["seed"] == 4 and call["n_prompts"] == 50
    assert call["out"] == tmp_path / "out"
