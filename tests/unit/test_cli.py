"""The `stagelens` command: help, and bad input reported without a traceback or side effects.

No test here may train: `build_stages` is replaced by a function that fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stagelens.cli.main import main


@pytest.fixture
def no_training(monkeypatch):
    import stagelens.organism.stages as stages

    def refuse(*args, **kwargs):
        raise AssertionError("the demo started training")

    monkeypatch.setattr(stages, "build_stages", refuse)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working directory, an empty cache, and the env vars the CLI sets restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAGELENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    return tmp_path


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _tree(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


def test_help_lists_the_demo_command():
    result = _run("--help")
    assert result.exit_code == 0
    assert "demo" in result.output


def test_demo_help_lists_its_options():
    result = _run("demo", "--help")
    assert result.exit_code == 0
    for option in ("--variant", "--out", "--seed", "--n-prompts", "--margin", "--cache"):
        assert option in result.output
    assert "safety-in-sft" in result.output


def test_version():
    result = _run("--version")
    assert result.exit_code == 0
    assert "0.1.0" in result.output


def test_unknown_variant_exits_2_and_writes_nothing(workdir, no_training):
    result = _run("demo", "--variant", "nope")
    assert result.exit_code == 2, result.output
    assert "unknown variant" in result.stderr
    assert "nope" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert _tree(workdir) == []


def test_out_pointing_to_a_file_exits_2_naming_it(workdir, no_training):
    target = workdir / "results.txt"
    target.write_text("keep me")
    result = _run("demo", "--out", str(target), "--cache", str(workdir / "cache"))
    assert result.exit_code == 2, result.output
    assert str(target) in result.stderr
    assert "not a directory" in result.stderr
    assert target.read_text() == "keep me"
    assert _tree(workdir) == [target]


def test_invalid_variant_file_exits_2_naming_the_file(workdir, no_training):
    bad = workdir / "bad.toml"
    bad.write_text('name = "x"\ndescription = "d"\nsft = 3\n')
    result = _run("demo", "--variant", str(bad))
    assert result.exit_code == 2, result.output
    assert str(bad) in result.stderr
    assert _tree(workdir) == [bad]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--n-prompts", "0"), ("--margin", "0"), ("--margin", "1.5"), ("--seed", "x")],
)
def test_bad_option_values_are_usage_errors(workdir, no_training, option, value):
    result = _run("demo", option, value)
    assert result.exit_code == 2
    assert option in result.stderr
    assert _tree(workdir) == []


def test_too_many_prompts_is_reported_before_training(workdir, no_training):
    result = _run("demo", "--n-prompts", "5000", "--out", str(workdir / "run"))
    assert result.exit_code == 2, result.output
    assert "prompts" in result.stderr
