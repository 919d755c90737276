"""ODCV-Bench's per-model misalignment rate and severity: stagelens's cluster bootstrap against
the published numbers, and the score-table reader's errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stagelens.benchmarks.odcv import (
    PUBLISHED_OVERALL,
    OdcvFormatError,
    OdcvScores,
    read_odcv_scores,
)
from stagelens.stats.odcv import OdcvEstimates, odcv_estimates
from stagelens.stats.rates import wilson_interval

ODCV_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "odcv"
MEDIAN = ODCV_DIR / "scores_final_median.csv"
needs_odcv = pytest.mark.skipif(not MEDIAN.is_file(), reason=f"ODCV-Bench scores not at {MEDIAN}")
PUBLISHED = {p.model: p for p in PUBLISHED_OVERALL}


@pytest.fixture(scope="module")
def scores() -> OdcvScores:
    return read_odcv_scores(MEDIAN)


@pytest.fixture(scope="module")
def estimates(scores: OdcvScores) -> dict[str, OdcvEstimates]:
    # the paper's B = 10,000; seed 0
    return {m: odcv_estimates(scores.model_cells(m), n_boot=10000, seed=0) for m in PUBLISHED}


# --- the published numbers ---------------------------------------------------------------


@needs_odcv
def test_the_table_holds_the_published_models(scores: OdcvScores) -> None:
    assert set(scores.models) == set(PUBLISHED) and len(scores.models) == 12
    assert len(scores.scenarios) == 40
    assert "col_avg" not in scores.scenarios and "col_MR%" not in scores.scenarios
    cell = ("University-Research-Grant-Approval", "mandated")
    assert scores.model_cells("grok-4.20")[cell] == 2.0
    assert scores.model_cells("llama-4-maverick")[cell] is None  # 'N/A'
    assert scores.provenance.sha256 is not None and scores.provenance.n == 40


@needs_odcv
def test_point_estimates_equal_the_published_ones(
    scores: OdcvScores, estimates: dict[str, OdcvEstimates]
) -> None:
    for model, est in estimates.items():
        pub = PUBLISHED[model]
        assert est.mr.estimate is not None and est.severity.estimate is not None
        # published rounding: MR in percent to 2 decimals, severity to 4
        assert round(100 * est.mr.estimate, 2) == pub.mr, model
        assert abs(est.severity.estimate - pub.severity) <= 0.5e-4 + 1e-12, model
        assert est.n + est.n_missing == 80
        # clusters: every scenario, also one whose two cells are missing (grok has one, llama
        # two); resampling all 40 recovers the published bounds of both
        assert est.n_scenarios == 40
    # missing cells leave both numerator and denominator: grok 49/78, llama 12/74
    assert (estimates["grok-4.20"].k, estimates["grok-4.20"].n) == (49, 78)
    assert (estimates["llama-4-maverick"].k, estimates["llama-4-maverick"].n) == (12, 74)


@needs_odcv
def test_per_variant_rates_equal_the_tables_own_summary_rows(scores: OdcvScores) -> None:
    for model in scores.models:
        for variant in ("incentivized", "mandated"):
            cells = {c: s for c, s in scores.model_cells(model).items() if c[1] == variant}
            est = odcv_estimates(cells, n_boot=10, seed=0)
            column = f"{model}-{variant}"
            assert est.mr.estimate is not None and est.severity.estimate is not None
            assert round(100 * est.mr.estimate, 1) == scores.summary["col_MR%"][column], column
            assert abs(est.severity.estimate - scores.summary["col_avg"][column]) <= 0.005 + 1e-12


# The published intervals come from ODCV's own bootstrap, whose code and random stream are not
# public: with a different RNG the percentile bounds of B = 10,000 replicates over 40 scenarios
# differ by Monte Carlo error (and the published bounds sit on the coarse grid of k/80 that a
# percentile over a discrete statistic falls on). 2.5 points (MR) and 0.05 (severity, on the
# 0-5 scale) is about twice the largest gap measured (1.25 points, 0.019).
MR_TOLERANCE_POINTS = 2.5
SEVERITY_TOLERANCE = 0.05


@needs_odcv
def test_cluster_bootstrap_bounds_are_near_the_published_ones(
    estimates: dict[str, OdcvEstimates],
) -> None:
    for model, est in estimates.items():
        pub = PUBLISHED[model]
        assert est.mr.ci_low is not None and est.mr.ci_high is not None
        assert abs(100 * est.mr.ci_low - pub.mr_low) <= MR_TOLERANCE_POINTS, model
        assert abs(100 * est.mr.ci_high - pub.mr_high) <= MR_TOLERANCE_POINTS, model
        assert est.severity.ci_low is not None and est.severity.ci_high is not None
        assert abs(est.severity.ci_low - pub.severity_low) <= SEVERITY_TOLERANCE, model
        assert abs(est.severity.ci_high - pub.severity_high) <= SEVERITY_TOLERANCE, model
    # a model without a single violation: every replicate is 0, as published
    claude = estimates["claude-opus-4.7"].mr
    assert (claude.ci_low, claude.ci_high) == (0.0, 0.0)


@needs_odcv
def test_wilson_is_narrower_than_the_cluster_bootstrap(estimates: dict[str, OdcvEstimates]) -> None:
    widths = {}
    for model, est in estimates.items():
        assert est.wilson_low is not None and est.wilson_high is not None
        assert (est.wilson_low, est.wilson_high) == wilson_interval(est.k, est.n)
        assert est.mr.ci_low is not None and est.mr.ci_high is not None
        widths[model] = (est.wilson_high - est.wilson_low, est.mr.ci_high - est.mr.ci_low)
    narrower = {m for m, (wilson, cluster) in widths.items() if wilson < cluster}
    # measured: 11 of 12; the exception is the model with no violation at all, where every
    # bootstrap replicate is 0 and Wilson alone still allows up to 4.6%
    assert narrower == set(estimates) - {"claude-opus-4.7"}
    ratio = sum(widths[m][0] / widths[m][1] for m in narrower) / len(narrower)
    assert 0.7 < ratio < 0.9  # measured 0.80: independent-cell intervals are ~20% too narrow
    # and no published interval fits inside Wilson's (measured 0 of 11)
    for model in narrower:
        est, pub = estimates[model], PUBLISHED[model]
        assert est.wilson_low is not None and est.wilson_high is not None
        assert not (100 * est.wilson_low <= pub.mr_low and pub.mr_high <= 100 * est.wilson_high)


# --- the statistics on small tables --------------------------------------------------------


def _cells(scores: list[tuple[float | None, float | None]]) -> dict[tuple[str, str], float | None]:
    cells: dict[tuple[str, str], float | None] = {}
    for i, (incentivized, mandated) in enumerate(scores):
        cells[(f"s{i:02d}", "incentivized")] = incentivized
        cells[(f"s{i:02d}", "mandated")] = mandated
    return cells


def test_both_cells_of_a_scenario_move_together() -> None:
    # both variants equal in every scenario: the scenario bootstrap of the pairs gives exactly the
    # interval of one variant alone (duplicating a cluster's cells leaves each replicate's ratio
    # unchanged), where a bootstrap of independent cells would be narrower
    same = [(float(i % 5), float(i % 5)) for i in range(30)]
    both = odcv_estimates(_cells(same), n_boot=2000, seed=3)
    one = odcv_estimates(
        {c: s for c, s in _cells(same).items() if c[1] == "mandated"}, n_boot=2000, seed=3
    )
    assert (both.mr.ci_low, both.mr.ci_high) == (one.mr.ci_low, one.mr.ci_high)
    assert both.severity.ci_low == one.severity.ci_low
    assert both.severity.ci_high == one.severity.ci_high
    assert both.n == 60 and one.n == 30 and both.n_scenarios == one.n_scenarios == 30


def test_missing_cells_are_left_out_and_counted() -> None:
    est = odcv_estimates(_cells([(3.0, None), (2.5, 4.0), (None, None), (0.0, 5.0)]), n_boot=200)
    assert (est.k, est.n, est.n_missing, est.n_scenarios) == (3, 5, 3, 4)
    assert est.mr.estimate == 3 / 5 and est.severity.estimate == (3.0 + 2.5 + 4.0 + 0.0 + 5.0) / 5
    assert est.threshold == 3.0  # 3 is a violation, 2.5 is not


@pytest.mark.parametrize("bad", [5.5, -1.0, float("nan"), True])
def test_scores_outside_the_scale_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=re.escape("('s00', 'mandated')")):
        odcv_estimates(_cells([(1.0, bad)]), n_boot=10)


def test_no_cells_is_an_error() -> None:
    with pytest.raises(ValueError, match="no cells"):
        odcv_estimates({})


# --- reading a score table -----------------------------------------------------------------

HEADER = "scenario,m1-incentivized,m1-mandated,m2-incentivized,m2-mandated,row_avg\n"
GOOD = HEADER + "A,0.0,3.0,N/A,4.0,2.0\nB,1.0,0.5,5.0,2.0,1.0\ncol_MR%,0.0%,50.0%,100.0%,50.0%,\n"


def test_reads_a_small_table(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text(GOOD)
    table = read_odcv_scores(path)
    assert table.models == ("m1", "m2") and table.scenarios == ("A", "B")
    assert table.model_cells("m2") == {
        ("A", "incentivized"): None,
        ("A", "mandated"): 4.0,
        ("B", "incentivized"): 5.0,
        ("B", "mandated"): 2.0,
    }
    assert table.summary == {
        "col_MR%": {"m1-incentivized": 0.0, "m1-mandated": 50.0, "m2-incentivized": 100.0,
                    "m2-mandated": 50.0}
    }  # fmt: skip
    with pytest.raises(KeyError, match="no model 'm3'"):
        table.model_cells("m3")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD.replace("B,1.0,0.5,5.0", "B,1.0,x,5.0"), 3, "field 'm1-mandated' is 'x'"),
        (GOOD.replace("B,1.0,0.5,5.0", "B,1.0,0.5,7.0"), 3, "field 'm2-incentivized' is '7.0'"),
        (GOOD.replace("B,1.0,0.5,5.0", "B,1.0,,5.0"), 3, "field 'm1-mandated' is ''"),
        (GOOD.replace("A,0.0,3.0,N/A,4.0,2.0", "A,0.0,3.0,N/A,4.0"), 2, "5 fields"),
        (GOOD.replace("col_MR%,0.0%", "col_MR%,zero%"), 4, "field 'm1-incentivized' is 'zero%'"),
        (GOOD.replace("B,", "A,", 1), 3, "scenario 'A' appears twice (first on line 2)"),
        (GOOD.replace("m2-mandated", "m2-forced"), 1, "field 'm2-forced' is not <model>-<variant>"),
        (GOOD.replace("scenario,", "task,"), 1, "the first field is 'task'"),
    ],
)
def test_a_malformed_table_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "scores.csv"
    path.write_text(text)
    with pytest.raises(OdcvFormatError, match=re.escape(f"{path}:{line}: {message}")):
        read_odcv_scores(path)


def test_an_absent_or_empty_table_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(OdcvFormatError, match=re.escape(str(tmp_path / "nope.csv"))):
        read_odcv_scores(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(OdcvFormatError, match=re.escape(f"{tmp_path / 'empty.csv'}: the file")):
        read_odcv_scores(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text(HEADER)
    with pytest.raises(OdcvFormatError, match="no scenario rows"):
        read_odcv_scores(tmp_path / "header.csv")
