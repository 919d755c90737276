"""`stagelens attribute SPEC` on a tiny local model family: the spec's mixture ranked at its
base, with each part's share of the top k and the distillation flag."""

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
    root = build_family(tmp_path_factory.mktemp("family"))
    spec = (root / "spec.toml").read_text()
    spec = spec.replace("distilled_from_rl_model = false", "distilled_from_rl_model = true")
    (root / "distilled.toml").write_text(spec)
    return root


def _attribute(family: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["attribute", str(family / "distilled.toml"), "--offline",
                                       "--cache", str(family / "cache"), *args])  # fmt: skip
    return result.exit_code, result.output


def test_the_mixture_is_ranked_against_the_suites_prompts(family: Path) -> None:
    out = family / "ranking.json"
    code, output = _attribute(family, "--top", "5", "--targets", "3", "--out", str(out))
    assert code == 0, output
    record = json.loads(out.read_text())
    # part a: 12 rows at weight 1, part b: 12 rows at weight 2 (each used twice)
    assert record["n_examples"] == 36 and record["n_targets"] == 3
    assert record["mixture_shares"] == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    assert sorted(record["ranking"]) == list(range(36))
    scores = [s["score"] for s in record["top"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 5
    assert sum(record["top_shares"].values()) == pytest.approx(1.0)
    assert record["distilled_parts"] == ["b"] and record["checkpoint"] == "start"
    assert "Confound: SFT's share includes behaviour distilled" in output
    assert "(distilled from an RL-trained model)" in output


def test_given_targets_are_read_and_a_bad_row_names_its_line(family: Path) -> None:
    targets = family / "targets.jsonl"
    targets.write_text('{"prompt": "Hi 1", "completions": ["Hello.", "Hi."]}\n'
                       '{"prompt": "Say 2.", "completion": "2."}\n')  # fmt: skip
    code, output = _attribute(family, "--metric", "over_refusal", "--target-file", str(targets),
                              "--top", "3")  # fmt: skip
    assert code == 0, output
    assert "against 2 targets (from " in output
    targets.write_text('{"prompt": "Hi 1", "completions": ["Hello."]}\n{"prompt": "x"}\n')
    code, output = _attribute(family, "--target-file", str(targets))
    assert code != 0 and "targets.jsonl:2: field 'completion'" in output
    # over_refusal's safe answer is not a refusal: without a target file it is refused
    code, output = _attribute(family, "--metric", "over_refusal")
    assert code != 0 and "give --target-file" in output
    code, output = _attribute(family, "--seed", "3")
    assert code == 2 and "--seed: the organism's option" in output
