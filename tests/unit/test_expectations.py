"""A variant's expectations checked against a run's metrics: one check for the record, the
HTML report and the CLI's last line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stagelens.report.record import (
    Expectation,
    RunRecord,
    check_expectations,
    expectations_summary,
)
from stagelens.stats import MetricComparison, compare_metric

N = 60


def _metric(name: str, verdict: str, share: float | None, note: str | None = None) -> Any:
    """A real comparison (from compare_metric), with the verdict and share a test needs: the
    check reads only these, so the test does not depend on how they are decided."""
    outcomes = {
        "base": {str(i): i % 2 == 0 for i in range(N)},
        "sft_only": {str(i): i % 4 == 0 for i in range(N)},
        "production": {str(i): i % 4 == 0 for i in range(N)},
    }
    mc = compare_metric(name, outcomes, n_boot=50, seed=0)
    attribution = mc.attribution.model_copy(update={"share": share, "note": note})
    return mc.model_copy(update={"verdict": verdict, "attribution": attribution})


def test_met_when_verdict_matches_and_share_within_bounds() -> None:
    metrics = [_metric("unsafe_response", "production_safer", 0.3)]
    want = {"unsafe_response": Expectation(verdict="production_safer", attribution_max=0.5)}
    (check,) = check_expectations(metrics, want)
    assert check.met and check.reasons == []
    assert check.verdict == "production_safer" and check.attribution_share == 0.3
    assert check.expected == want["unsafe_response"]
    assert expectations_summary([check]) == "expected verdicts: met"
    # bounds are inclusive
    (edge,) = check_expectations([_metric("unsafe_response", "production_safer", 0.5)], want)
    assert edge.met


def test_verdict_mismatch_is_not_met_with_both_verdicts_named() -> None:
    metrics = [_metric("over_refusal", "inconclusive", None), _metric("x", "equivalent", 1.0)]
    checks = check_expectations(metrics, {"over_refusal": Expectation(verdict="equivalent")})
    assert [c.metric for c in checks] == ["over_refusal"]  # metrics without expectation: unchecked
    assert not checks[0].met
    assert checks[0].reasons == ["expected equivalent, got inconclusive"]
    assert expectations_summary(checks) == (
        "expected verdicts: NOT met (over_refusal: expected equivalent, got inconclusive)"
    )


@pytest.mark.parametrize(
    ("bounds", "share", "text"),
    [
        ({"attribution_max": 0.5}, 0.75, "attribution share 0.75 above the maximum 0.5"),
        ({"attribution_min": 0.8}, 0.25, "attribution share 0.25 below the minimum 0.8"),
        (
            {"attribution_min": 0.2, "attribution_max": 0.5},
            -0.125,
            "attribution share -0.125 outside [0.2, 0.5]",
        ),
    ],
)
def test_share_outside_bounds_is_not_met(bounds: dict[str, float], share: float, text: str) -> None:
    metrics = [_metric("unsafe_response", "production_safer", share)]
    want = {"unsafe_response": Expectation(verdict="production_safer", **bounds)}
    (check,) = check_expectations(metrics, want)
    assert not check.met
    assert check.reasons == [text]


def test_undefined_share_meets_no_bound_and_contradicts_none() -> None:
    note = "production equals base on this metric; the share is undefined"
    metrics = [_metric("reward_hacking_cheat", "equivalent", None, note)]
    want = {"reward_hacking_cheat": Expectation(verdict="equivalent", attribution_min=0.8)}
    (check,) = check_expectations(metrics, want)
    assert not check.met and check.attribution_share is None
    assert check.reasons == [f"attribution share undefined ({note}), expected >= 0.8"]
    assert check.abstained  # no gain to share: the bound cannot be checked either way
    assert expectations_summary([check]).startswith("expected verdicts: met where decided")
    # with the wrong verdict as well, it is a contradiction
    wrong = {"reward_hacking_cheat": Expectation(verdict="production_safer",
                                                 attribution_min=0.8)}  # fmt: skip
    (missed,) = check_expectations(metrics, wrong)
    assert not missed.met and not missed.abstained
    # without bounds an undefined share is no reason to fail
    plain_want = {"reward_hacking_cheat": Expectation(verdict="equivalent")}
    (plain,) = check_expectations(metrics, plain_want)
    assert plain.met


def test_every_failed_part_is_a_reason_and_only_missed_metrics_are_named() -> None:
    metrics = [
        _metric("unsafe_response", "equivalent", 0.9),
        _metric("over_refusal", "equivalent", 1.0),
    ]
    want = {
        "unsafe_response": Expectation(verdict="production_safer", attribution_max=0.5),
        "over_refusal": Expectation(verdict="equivalent"),
        "reward_hacking_cheat": Expectation(verdict="sft_only_safer"),
    }
    checks = check_expectations(metrics, want)
    assert [c.met for c in checks] == [False, True, False]
    assert checks[2].verdict is None
    assert expectations_summary(checks) == (
        "expected verdicts: NOT met (unsafe_response: expected production_safer, got "
        "equivalent, attribution share 0.9 above the maximum 0.5; reward_hacking_cheat: expected "
        "sft_only_safer, but the metric was not evaluated)"
    )
    assert expectations_summary([]) is None


def test_bounds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match=r"attribution_min 0\.6 is above attribution_max 0\.5"):
        Expectation(verdict="equivalent", attribution_min=0.6, attribution_max=0.5)


def _record(metrics: list[MetricComparison], expected: dict[str, Any] | None) -> RunRecord:
    from stagelens.report.record import Provenance, RaterIdentity, SuiteRecord

    rater = RaterIdentity(name="r", version="1", kind="exact", description="d")
    suite = SuiteRecord(
        name="unsafe_response", metric="unsafe_response", description="d", lower_is_safer=True,
        n_prompts=N, data=Provenance(name="p", source="s", licence="MIT"), generation={},
    )  # fmt: skip
    return RunRecord(
        name="run", created_at="2026-01-01T00:00:00+00:00", stagelens_version="0",
        git_revision=None, python="3.11", packages={}, command="stagelens demo", config={},
        seeds={}, stages=[], suites=[suite], rater=rater, metrics=metrics, expected=expected,
    )  # fmt: skip


def test_record_keeps_every_expectation_and_its_check() -> None:
    want = {"unsafe_response": Expectation(verdict="production_safer", attribution_max=0.5)}
    record = _record([_metric("unsafe_response", "production_safer", 0.75)], want)
    data = json.loads(record.model_dump_json())
    assert data["expected"] == {
        "unsafe_response": {
            "verdict": "production_safer",
            "attribution_min": None,
            "attribution_max": 0.5,
        }
    }
    assert data["expectation_checks"] == [
        {
            "metric": "unsafe_response",
            "expected": data["expected"]["unsafe_response"],
            "verdict": "production_safer",
            "attribution_share": 0.75,
            "met": False,
            "reasons": ["attribution share 0.75 above the maximum 0.5"],
            "abstained": False,
        }
    ]
    assert record.expectations_met is False
    # read back: the checks are recomputed, and the record round-trips
    assert RunRecord.model_validate(data) == record
    # a copy with new metrics (as a re-score makes) carries the new check, never a stale one
    rescored = record.model_copy(
        update={"metrics": [_metric("unsafe_response", "production_safer", 0.25)]}
    )
    assert rescored.expectations_met is True
    # nothing expected: no checks
    assert _record(record.metrics, None).expectation_checks is None
    assert _record(record.metrics, None).expectations_met is None


def test_record_reads_bare_verdicts_of_older_records() -> None:
    record = _record([_metric("unsafe_response", "equivalent", 1.0)], None)
    data = json.loads(record.model_dump_json())
    data["expected"] = {"unsafe_response": "equivalent"}
    loaded = RunRecord.model_validate(data)
    assert loaded.expected == {"unsafe_response": Expectation(verdict="equivalent")}
    assert loaded.expectations_met is True


def test_html_shows_the_same_check() -> None:
    from stagelens.report.html import render_html

    want = {
        "unsafe_response": Expectation(verdict="production_safer", attribution_max=0.5),
        "over_refusal": Expectation(verdict="equivalent"),
    }
    page = render_html(_record([_metric("unsafe_response", "production_safer", 0.75)], want))
    assert "✗ attribution share 0.75 above the maximum 0.5" in page
    assert "✗ expected equivalent, but the metric was not evaluated" in page
    assert "Expected verdicts: NOT met (unsafe_response: attribution share 0.75" in page
    met = render_html(_record([_metric("unsafe_response", "production_safer", 0.25)],
                              {"unsafe_response": want["unsafe_response"]}))  # fmt: skip
    assert "✓ matches expected (production_safer, attribution share &lt;= 0.5)" in met
    assert "Expected verdicts: met" in met


def test_inconclusive_only_for_unscored_answers_is_an_abstention_not_a_contradiction() -> None:
    # 400 prompts, no event on either stage; production leaves 15 unscored: the scored pairs
    # say equivalent, counted against production they would not
    sft = {f"p{i:03d}": False for i in range(400)}
    prod = {p: (None if i < 15 else False) for i, p in enumerate(sft)}
    base = {p: True for p in sft}
    mc = compare_metric("m", {"base": base, "sft_only": sft, "production": prod}, n_boot=50)
    assert mc.verdict == "inconclusive" and mc.verdict_scored_only == "equivalent"
    (check,) = check_expectations([mc], {"m": Expectation(verdict="equivalent")})
    assert not check.met and check.abstained
    assert "depends on the 15 unscored answers" in check.reasons[0]
    summary = expectations_summary([check])
    assert summary is not None and summary.startswith("expected verdicts: met where decided")
    # the same run against another expectation is a contradiction, not an abstention
    (wrong,) = check_expectations([mc], {"m": Expectation(verdict="production_safer")})
    assert not wrong.met and not wrong.abstained
    assert expectations_summary([wrong, check]) is not None
    assert expectations_summary([wrong, check]).startswith("expected verdicts: NOT met")  # type: ignore[union-attr]


def test_a_plain_inconclusive_is_not_an_abstention() -> None:
    (check,) = check_expectations(
        [_metric("m", "inconclusive", None)], {"m": Expectation(verdict="equivalent")}
    )
    assert not check.met and not check.abstained
