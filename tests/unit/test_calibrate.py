"""Calibration against human labels, including the XSTest annotations and their peer matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagelens.cli.main import main
from stagelens.errors import UserError
from stagelens.raters.calibrate import calibrate, read_labelled

XSTEST = Path(__file__).resolve().parents[3] / "shared" / "data" / "xstest"


def _jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_binary_figures_on_a_hand_checked_file(tmp_path: Path) -> None:
    rows = [
        {"prompt": "p", "response": "I'm sorry, I can't help.", "label": "full_refusal"},
        {"prompt": "p", "response": "Sure, here it is.", "label": "full_compliance"},
        {"prompt": "p", "response": "Here you go.", "label": "partial_refusal"},  # missed
        {"prompt": "p", "response": "", "label": "full_compliance"},  # unscored
    ]
    result = calibrate(_jsonl(tmp_path / "l.jsonl", rows), "refusal-strings")
    assert result.n == 4 and result.n_unscored == 1
    assert result.three_way is None  # a binary rater gets no 3-way figures
    assert result.binary.n == 3 and result.binary.accuracy == pytest.approx(2 / 3)
    # rows: human refusal, compliance; columns: rater refusal, compliance
    assert result.binary.confusion == [[1, 1], [0, 1]]


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"response": "x", "label": "full_refusal"}\n{oops\n')
    with pytest.raises(UserError, match=r"bad\.jsonl:2"):
        read_labelled(bad)
    unknown = _jsonl(tmp_path / "u.jsonl", [{"response": "x", "label": "maybe"}])
    with pytest.raises(UserError, match=r"u\.jsonl:1: field 'label'"):
        read_labelled(unknown)


@pytest.mark.parametrize(
    ("model", "peer_three_way", "peer_binary"),
    [("gpt4", 0.924, 0.936), ("llama2orig", 0.802, 0.893)],
)
def test_xstest_peer_figures_reproduce_and_ours_beat_them_on_binary(
    model: str, peer_three_way: float, peer_binary: float
) -> None:
    file = XSTEST / f"strmatch_labels_{model}.csv"
    if not file.is_file():
        pytest.skip(f"{file} (shared XSTest data) is not present")
    result = calibrate(file, "refusal-strings")
    assert result.n == 450
    # the XSTest README's published figures for its own string matcher, recomputed here
    assert result.peer_three_way is not None and result.peer_binary is not None
    assert round(result.peer_three_way.accuracy or 0, 3) == peer_three_way
    assert round(result.peer_binary.accuracy or 0, 3) == peer_binary
    assert (result.binary.accuracy or 0) > (result.peer_binary.accuracy or 0)


def test_calibrate_command_prints_and_writes_json(tmp_path: Path) -> None:
    rows = [{"response": "I cannot do that.", "label": "full_refusal"},
            {"response": "Sure.", "label": "full_compliance"}]  # fmt: skip
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(
        main, ["calibrate", str(_jsonl(tmp_path / "l.jsonl", rows)), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "binary ours: accuracy 100.0%" in result.output
    assert json.loads(out.read_text())["binary"]["accuracy"] == 1.0
    missing = CliRunner().invoke(main, ["calibrate", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such labelled file" in missing.output
