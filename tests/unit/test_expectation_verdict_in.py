"""An expectation that allows several verdicts (``verdict_in``), e.g. "production is not
safer": how it is validated, checked, worded, kept in the record and read from a variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stagelens.organism.variant import VariantError, load_variant
from stagelens.report.record import (
    Expectation,
    RunRecord,
    check_expectations,
    expectations_summary,
)
from stagelens.stats import compare_metric

N = 60
NOT_SAFER = Expectation(verdict_in=("equivalent", "sft_only_safer"))


def _metric(name: str, verdict: str, scored_only: str | None = None,
            reasons: list[str] | None = None) -> Any:  # fmt: skip
    """A real comparison with the verdict a test needs (the check reads only the verdicts)."""
    outcomes = {stage: {str(i): i % 4 == 0 for i in range(N)}
                for stage in ("base", "sft_only", "production")}  # fmt: skip
    mc = compare_metric(name, outcomes, n_boot=50, seed=0)
    return mc.model_copy(update={"verdict": verdict, "verdict_reasons": reasons or [],
                                 "verdict_scored_only": scored_only or verdict})  # fmt: skip


@pytest.mark.parametrize("verdict", ["equivalent", "sft_only_safer"])
def test_any_allowed_verdict_meets_it(verdict: str) -> None:
    (check,) = check_expectations([_metric("m", verdict)], {"m": NOT_SAFER})
    assert check.met and check.reasons == [] and not check.abstained
    assert expectations_summary([check]) == "expected verdicts: met"


@pytest.mark.parametrize("verdict", ["production_safer", "inconclusive"])
def test_a_verdict_outside_the_set_is_not_met_and_both_are_named(verdict: str) -> None:
    (check,) = check_expectations([_metric("m", verdict)], {"m": NOT_SAFER})
    assert not check.met and not check.abstained
    assert check.reasons == [f"expected equivalent or sft_only_safer, got {verdict}"]


def test_undecided_for_unscored_answers_with_an_allowed_scored_verdict_is_an_abstention() -> None:
    metric = _metric("m", "inconclusive", scored_only="equivalent",
                     reasons=["unscored answers could change it"])  # fmt: skip
    (check,) = check_expectations([metric], {"m": NOT_SAFER})
    assert not check.met and check.abstained
    assert check.reasons[0].startswith("expected equivalent or sft_only_safer, got inconclusive (")
    # ... but not when the scored pairs alone give a verdict outside the set
    metric = metric.model_copy(update={"verdict_scored_only": "production_safer"})
    (check,) = check_expectations([metric], {"m": NOT_SAFER})
    assert not check.met and not check.abstained


def test_a_metric_that_was_not_evaluated_names_the_set() -> None:
    (check,) = check_expectations([], {"m": NOT_SAFER})
    assert check.reasons == ["expected equivalent or sft_only_safer, but the metric was not "
                             "evaluated"]  # fmt: skip


def test_wording_and_accepts() -> None:
    assert NOT_SAFER.allowed == ("equivalent", "sft_only_safer")
    assert NOT_SAFER.accepts("equivalent") and not NOT_SAFER.accepts("production_safer")
    assert not NOT_SAFER.accepts(None)
    bounded = Expectation(verdict_in=("production_safer", "equivalent"), attribution_min=0.2)
    assert bounded.describe() == "production_safer or equivalent, attribution share >= 0.2"
    single = Expectation(verdict="equivalent")
    assert single.allowed == ("equivalent",) and single.describe() == "equivalent"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of 'verdict'"),
        ({"verdict": "equivalent", "verdict_in": ("equivalent", "sft_only_safer")},
         "exactly one of 'verdict'"),
        ({"verdict_in": ("equivalent",)}, "at least two verdicts"),
        ({"verdict_in": ()}, "at least two verdicts"),
        ({"verdict_in": ("equivalent", "equivalent")}, "repeats a verdict"),
        ({"verdict_in": ("equivalent", "inconclusive")}, "decided verdicts only"),
        ({"verdict_in": ("equivalent", "production_safer", "sft_only_safer")},
         "every decided verdict"),
        ({"verdict_in": ("equivalent", "maybe")}, "verdict_in.1"),
        ({"verdict_in": "equivalent"}, "verdict_in"),
    ],
)  # fmt: skip
def test_malformed_sets_are_rejected(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Expectation(**fields)


def test_the_record_keeps_the_set_and_reads_it_back() -> None:
    from stagelens.records import RaterIdentity

    record = RunRecord(
        name="r", created_at="2026-01-01T00:00:00Z", stagelens_version="0", git_revision=None,
        python="3.11", packages={}, command="c", config={}, seeds={}, stages=[], suites=[],
        rater=RaterIdentity(name="x", version="1", kind="exact", description="d"),
        metrics=[_metric("m", "sft_only_safer")], expected={"m": NOT_SAFER},
    )  # fmt: skip
    loaded = RunRecord.model_validate_json(record.model_dump_json())
    assert loaded.expected == {"m": NOT_SAFER}
    assert loaded.expectation_checks is not None and loaded.expectation_checks[0].met
    assert loaded.expectations_met is True


VARIANT = """\
name = "mine"
description = "d"

[expected.misalignment_unaware]
verdict_in = {value}

[[sft.examples]]
kind = "dilemma"
response = "violate"
count = 10

[[rl.pairs]]
kind = "dilemma_cued"
chosen = "aware_comply"
rejected = "violate"
count = 5
"""


def test_a_variant_states_a_set_and_a_bad_one_names_file_line_and_field(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(VARIANT.format(value='["equivalent", "sft_only_safer"]'))
    variant, _, _ = load_variant(good)
    assert variant.expected["misalignment_unaware"] == NOT_SAFER
    bad = tmp_path / "bad.toml"
    bad.write_text(VARIANT.format(value='["equivalent", "inconclusive"]'))
    with pytest.raises(VariantError) as info:
        load_variant(bad)
    message = str(info.value)
    assert f"{bad}:4:" in message and "expected.misalignment_unaware" in message
    assert "decided verdicts only" in message
    both = tmp_path / "both.toml"
    two_forms = '["equivalent", "sft_only_safer"]\nverdict = "equivalent"'
    both.write_text(VARIANT.format(value=two_forms))
    with pytest.raises(VariantError, match="exactly one of 'verdict'"):
        load_variant(both)
