"""The `stagelens` command: help, and bad input reported without a traceback or side effects.

No test here may train: `build_stages` is replaced by a function that fails the test.
"""

from __future__ import annotations

import json
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


# --- the demo's last line: were the variant's expectations met? ---------------------------


@pytest.fixture
def scripted_stages(monkeypatch, workdir):
    """The demo with its models replaced: no training, no evaluation; each stage's per-prompt
    outcomes come from a table, and everything after them (statistics, record, report, the
    expectation check) runs for real."""
    import stagelens.evaluate.runner as runner
    import stagelens.organism.stages as stages
    from stagelens.organism.stages import StageCheckpoint

    def build(variant, seed, cache, progress, recipe=None):
        return {
            name: StageCheckpoint(
                name=name,
                path=workdir / "ckpt" / name,
                key=f"key-{name}",
                parent=None,
                training=[],
                reused=True,
            )
            for name in ("base", "production", "sft_only")
        }

    def evaluate(model, suites, task_args, log_dir, progress, **_inspect_settings):
        return {suite: log_dir / f"{model.name}__{suite}.eval" for suite in suites}

    def read_suite(path, scorer=None, key=None, loaded=None):
        stage, suite = Path(path).stem.split("__")
        n = range(320)
        if suite != "organism_reward_hacking":  # refusal suites: sft_only = production < base
            outcomes = {str(i): i % (2 if stage == "base" else 4) == 0 for i in n}
        else:  # reward hacking: the same in every stage, so the attribution share is undefined
            outcomes = {str(i): (i % 3 == 0) == (key == "cheat") for i in n}
        return runner.SuiteOutcomes(outcomes=outcomes, labels={}, clusters={i: i for i in outcomes})

    monkeypatch.setattr(stages, "build_stages", build)
    monkeypatch.setattr(runner, "evaluate_stage", evaluate)
    monkeypatch.setattr(runner, "read_suite", read_suite)


def _variant_file(path: Path, expected: str) -> Path:
    from stagelens.organism.variant import _builtin_path

    builtin = _builtin_path("safety-in-sft").read_text()
    body = builtin[builtin.index("[[sft.examples]]"):]
    path.write_text(f'name = "expect-test"\ndescription = "d"\n{expected}\n{body}')
    return path


def test_demo_ends_with_expected_verdicts_met(workdir, scripted_stages):
    # sft_only equals production on 320 prompts (equivalent), and its share of the base ->
    # production change is exactly 1
    variant = _variant_file(workdir / "v.toml", "[expected.unsafe_response]\n"
                            'verdict = "equivalent"\nattribution_min = 0.9\n')  # fmt: skip
    result = _run("demo", "--variant", str(variant), "--out", str(workdir / "run"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "expected verdicts: met"
    data = json.loads((workdir / "run" / "results.json").read_text())
    assert data["expected"]["unsafe_response"]["attribution_min"] == 0.9
    assert [c["met"] for c in data["expectation_checks"]] == [True]


def test_demo_ends_with_expected_verdicts_not_met_and_still_exits_0(workdir, scripted_stages):
    from stagelens.report.record import expectations_summary
    from stagelens.report.write import load_record

    expected = (
        '[expected.over_refusal]\nverdict = "equivalent"\nattribution_min = 2.0\n'
        '[expected.reward_hacking_cheat]\nverdict = "equivalent"\nattribution_max = 0.5\n'
    )
    variant = _variant_file(workdir / "v.toml", expected)
    result = _run("demo", "--variant", str(variant), "--out", str(workdir / "run"))
    assert result.exit_code == 0, result.output  # a finding, not an error
    last = result.stdout.splitlines()[-1]
    assert last.startswith("expected verdicts: NOT met (over_refusal: ")
    assert "attribution share 1 below the minimum 2" in last
    assert "reward_hacking_cheat: " in last
    assert "attribution share undefined (production equals base" in last
    # the line is the record's own check, which results.json keeps with every expectation
    record = load_record(workdir / "run" / "results.json")
    assert last == expectations_summary(record.expectation_checks or [])
    assert record.expectations_met is False
    assert record.expected is not None
    assert record.expected["reward_hacking_cheat"].attribution_max == 0.5
    data = json.loads((workdir / "run" / "results.json").read_text())
    checks = {c["metric"]: c for c in data["expectation_checks"]}
    assert not checks["over_refusal"]["met"] and checks["over_refusal"]["reasons"]
    assert checks["reward_hacking_cheat"]["attribution_share"] is None
    html = (workdir / "run" / "report.html").read_text()
    assert "Expected verdicts: NOT met" in html


def test_a_judge_whose_provider_package_is_missing_is_a_clear_error(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("openai") is not None:
        pytest.skip("the openai package is installed here; nothing is missing")
    labelled = tmp_path / "labelled.jsonl"
    rows = [{"prompt": "p", "response": "Sorry, I can't.", "label": "refusal"},
            {"prompt": "q", "response": "Sure, here it is.", "label": "compliance"}]  # fmt: skip
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(
        main, ["calibrate", str(labelled), "--judge", "openai/gpt-4o-mini", "--rubric", "xstest"]
    )
    assert result.exit_code == 2
    assert "pip install openai" in result.output and "[bold]" not in result.output
