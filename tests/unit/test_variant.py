"""Variant loader: built-ins, and errors that name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagelens.errors import UserError
from stagelens.organism.variant import BUILTIN, Variant, VariantError, load_variant

# line numbers below are those of this text
GOOD = """\
name = "mine"
description = "a test variant"

[[sft.examples]]
kind = "harmful"
response = "refusal"
count = 10

[[sft.examples]]
kind = "scary"
response = "compliance"
count = 10

[[rl.pairs]]
kind = "harmful"
chosen = "refusal"
rejected = "compliance"
count = 5

[[rl.pairs]]
kind = "scary"
chosen = "compliance"
rejected = "refusal"
count = 5
"""
# 1-based line of each key of the second [[sft.examples]] and second [[rl.pairs]]
SFT2_KIND, SFT2_COUNT = 10, 12
RL2_KIND, RL2_CHOSEN, RL2_REJECTED, RL2_COUNT = 21, 22, 23, 24


def _with_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str, name: str = "variant.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path: Path) -> str:
    with pytest.raises(VariantError) as info:
        load_variant(path)
    return str(info.value)


def test_line_constants_match_the_text():
    lines = GOOD.splitlines()
    assert lines[SFT2_KIND - 1] == 'kind = "scary"' and lines[SFT2_COUNT - 1] == "count = 10"
    assert lines[RL2_KIND - 1] == 'kind = "scary"'
    assert lines[RL2_CHOSEN - 1] == 'chosen = "compliance"'
    assert lines[RL2_REJECTED - 1] == 'rejected = "refusal"'
    assert lines[RL2_COUNT - 1] == "count = 5"


@pytest.mark.parametrize("name", BUILTIN)
def test_builtins_load(name):
    variant, path, sha = load_variant(name)
    assert isinstance(variant, Variant)
    assert variant.name == name
    assert path.is_file() and path.suffix == ".toml"
    assert len(sha) == 64
    assert variant.sft.examples and variant.rl.pairs
    for part in variant.rl.pairs:
        assert part.chosen != part.rejected


def test_builtins_teach_safety_in_the_stage_their_name_says():
    sft, _, _ = load_variant("safety-in-sft")
    rl, _, _ = load_variant("safety-in-rl")
    assert any(p.kind == "harmful" and p.response == "refusal" for p in sft.sft.examples)
    assert not any(p.kind == "harmful" and p.response == "refusal" for p in rl.sft.examples)
    assert any(p.kind == "harmful" and p.chosen == "refusal" for p in rl.rl.pairs)


def test_a_file_loads_and_its_hash_is_of_its_bytes(tmp_path):
    import hashlib

    path = _write(tmp_path, GOOD)
    variant, loaded, sha = load_variant(path)
    assert variant.name == "mine" and loaded == path
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.count for p in variant.rl.pairs] == [5, 5]


def test_unknown_name_lists_builtins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(VariantError) as info:
        load_variant("nope")
    message = str(info.value)
    assert "nope" in message
    for name in BUILTIN:
        assert name in message
    assert isinstance(info.value, UserError)


def test_missing_file_is_a_variant_error(tmp_path):
    missing = tmp_path / "missing.toml"
    assert str(missing) in _error(missing)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = _write(tmp_path, _with_line(GOOD, SFT2_COUNT, "count = = 10"))
    message = _error(path)
    assert str(path) in message
    assert f"line {SFT2_COUNT}" in message


def test_unknown_field_names_file_line_and_field(tmp_path):
    text = _with_line(GOOD, RL2_COUNT, 'count = 5\nflavour = "sour"')
    message = _error(_write(tmp_path, text))
    assert f"{tmp_path / 'variant.toml'}:{RL2_COUNT + 1}:" in message
    assert "'rl.pairs.1.flavour'" in message


def test_unknown_top_level_field(tmp_path):
    text = _with_line(GOOD, 2, 'description = "a test variant"\nowner = "me"')
    message = _error(_write(tmp_path, text))
    assert "variant.toml:3:" in message and "'owner'" in message


def test_bad_enum_in_first_table_names_file_line_and_field(tmp_path):
    message = _error(_write(tmp_path, _with_line(GOOD, 5, 'kind = "evil"')))
    assert f"{tmp_path / 'variant.toml'}:5:" in message
    assert "'sft.examples.0.kind'" in message


def test_count_zero_in_first_table_names_file_line_and_field(tmp_path):
    message = _error(_write(tmp_path, _with_line(GOOD, 7, "count = 0")))
    assert f"{tmp_path / 'variant.toml'}:7:" in message
    assert "'sft.examples.0.count'" in message


def test_bad_enum_in_a_later_table_names_its_own_line(tmp_path):
    message = _error(_write(tmp_path, _with_line(GOOD, RL2_KIND, 'kind = "evil"')))
    assert "'rl.pairs.1.kind'" in message
    assert f"{tmp_path / 'variant.toml'}:{RL2_KIND}:" in message


def test_count_zero_in_a_later_table_names_its_own_line(tmp_path):
    message = _error(_write(tmp_path, _with_line(GOOD, SFT2_COUNT, "count = 0")))
    assert "'sft.examples.1.count'" in message
    assert f"{tmp_path / 'variant.toml'}:{SFT2_COUNT}:" in message


def test_bad_enum_and_zero_count_field_paths_in_later_tables(tmp_path):
    text = _with_line(_with_line(GOOD, RL2_KIND, 'kind = "evil"'), SFT2_COUNT, "count = 0")
    message = _error(_write(tmp_path, text))
    assert str(tmp_path / "variant.toml") in message
    assert "'rl.pairs.1.kind'" in message and "'sft.examples.1.count'" in message


def test_chosen_equal_to_rejected_is_rejected(tmp_path):
    text = _with_line(GOOD, RL2_REJECTED, 'rejected = "compliance"')
    message = _error(_write(tmp_path, text))
    assert str(tmp_path / "variant.toml") in message
    assert "rl.pairs.1" in message
    assert "differ" in message


def test_empty_mixtures_are_rejected(tmp_path):
    text = 'name = "x"\ndescription = "d"\nsft = { examples = [] }\nrl = { pairs = [] }\n'
    message = _error(_write(tmp_path, text))
    assert "sft.examples" in message and "rl.pairs" in message


def test_bad_expected_verdict_is_rejected(tmp_path):
    text = GOOD + '\n[expected.unsafe_response]\nverdict = "maybe"\n'
    message = _error(_write(tmp_path, text))
    assert "expected.unsafe_response.verdict" in message


def test_a_directory_is_a_variant_error(tmp_path):
    _error(tmp_path)


def test_tasks_take_actions_and_requests_take_refusal_or_compliance(tmp_path):
    from stagelens.organism.variant import PreferencePart, SFTPart

    assert SFTPart(kind="task", response="improve", count=1).response == "improve"
    with pytest.raises(ValueError, match="answers with one of"):
        SFTPart(kind="task", response="refusal", count=1)
    with pytest.raises(ValueError, match="answers with one of"):
        SFTPart(kind="harmful", response="edit_timer", count=1)
    with pytest.raises(ValueError, match="answers with one of"):
        PreferencePart(kind="task", chosen="improve", rejected="compliance", count=1)


def test_builtin_reward_hacking_ground_truth():
    rl_hacks, _, _ = load_variant("rl-rewards-hacking")
    assert any(p.kind == "task" and p.chosen == "edit_timer" for p in rl_hacks.rl.pairs)
    assert rl_hacks.expected["reward_hacking_cheat"].verdict == "sft_only_safer"
    sft, _, _ = load_variant("safety-in-sft")
    assert any(p.kind == "task" and p.response == "improve" for p in sft.sft.examples)
