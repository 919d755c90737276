"""A sweep's bad input is an error before anything trains."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stagelens.errors import UserError
from stagelens.experiment.sweep import _dosed, check_sweep
from stagelens.organism.variant import load_variant


@pytest.mark.parametrize(
    ("part", "doses", "seeds", "message"),
    [
        ("harmful:compliance", [0, 1], [0], "no SFT part of that name"),
        ("telepathy:refusal", [0, 1], [0], "its parts: harmful:refusal"),
        ("harmful:refusal", [0, -0.5, 1], [0], "non-negative"),
        ("harmful:refusal", [0, float("nan")], [0], "non-negative"),
        ("harmful:refusal", [0.5, 1, 0.5], [0], "doses repeat"),
        ("harmful:refusal", [0, 1], [1, 1], "seeds repeat"),
        ("harmful:refusal", [], [0], "at least one dose"),
        ("harmful:refusal", [0, 1], [], "at least one seed"),
        # 500 refusals x 0.0001 rounds to none: the mixture of dose 0, the same SFT run
        ("harmful:refusal", [0, 0.0001, 1], [0], "give harmful:refusal the same count"),
    ],
)
def test_bad_sweeps_are_refused(part: str, doses: list[float], seeds: list[int],
                                message: str) -> None:  # fmt: skip
    with pytest.raises(UserError, match=message):
        check_sweep("safety-in-sft", part, doses, seeds)


def test_a_dose_scales_only_its_part() -> None:
    spec = load_variant("safety-in-sft")[0]
    dosed = _dosed(spec, "harmful:refusal", [0, 0.1, 1, 2])
    counts = {d: {f"{p.kind}:{p.response}": p.count for p in v.sft.examples}
              for d, v in dosed.items()}  # fmt: skip
    full = {f"{p.kind}:{p.response}": p.count for p in spec.sft.examples}
    assert "harmful:refusal" not in counts[0]
    assert counts[0.1]["harmful:refusal"] == round(full["harmful:refusal"] * 0.1)
    assert counts[1] == full and counts[2]["harmful:refusal"] == 2 * full["harmful:refusal"]
    for d in dosed:  # every other part untouched
        assert {k: v for k, v in counts[d].items() if k != "harmful:refusal"} == {
            k: v for k, v in full.items() if k != "harmful:refusal"}


def test_the_command_exits_non_zero_naming_the_problem(tmp_path) -> None:
    from stagelens.cli.main import main

    result = CliRunner().invoke(main, ["sweep", "--part", "harmful:refusal", "--doses",
                                       "0,-1", "--out", str(tmp_path / "s")])  # fmt: skip
    assert result.exit_code != 0 and "non-negative" in result.output
    assert not (tmp_path / "s").exists()  # nothing written
    result = CliRunner().invoke(main, ["sweep", "--doses", "0,a"])
    assert result.exit_code != 0 and "comma-separated numbers" in result.output


def test_a_swap_gives_back_what_a_dose_removes_with_the_other_response() -> None:
    spec = load_variant("distilled-safety")[0]
    dosed = _dosed(spec, "harmful:distilled", [0, 0.3, 1], swap_to="refusal")
    counts = {d: {p.name: p.count for p in v.sft.examples} for d, v in dosed.items()}
    full = {p.name: p.count for p in spec.sft.examples}
    assert counts[1] == full  # nothing removed, nothing swapped in
    assert "harmful:distilled" not in counts[0]
    assert counts[0]["harmful:refusal"] == full["harmful:distilled"]
    assert counts[0.3]["harmful:distilled"] + counts[0.3]["harmful:refusal"] == full[
        "harmful:distilled"]
    assert dosed[0].sft.distilled_parts == [] and dosed[0.3].sft.distilled_parts == [
        "harmful:distilled"]


@pytest.mark.parametrize(
    ("variant", "part", "swap", "doses", "message"),
    [
        ("distilled-safety", "harmful:distilled", "hardcode", [0, 1],
         "not an answer to harmful prompts"),
        ("distilled-safety", "harmful:distilled", "refusal", [0, 2], "doses above 1"),
        ("safety-in-rl", "scary:compliance", "compliance", [0, 1],
         "already has the part scary:compliance"),
    ],
)  # fmt: skip
def test_bad_swaps_are_refused(variant: str, part: str, swap: str, doses: list[float],
                               message: str) -> None:  # fmt: skip
    with pytest.raises(UserError, match=message):
        check_sweep(variant, part, doses, [0], swap_to=swap)
