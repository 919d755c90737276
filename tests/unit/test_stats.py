"""Rates, paired differences and equivalence, checked against scipy/statsmodels or by hand."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import ttost_paired

from stagelens.stats import paired_difference, rate, tost_paired, wilson_interval
from stagelens.stats._common import bootstrap_sums

Outcomes = dict[str, bool | None]


def _ids(n: int) -> list[str]:
    return [f"p{i:04d}" for i in range(n)]


def _pairs(both: int, only_a: int, only_b: int, neither: int) -> tuple[Outcomes, Outcomes]:
    """Two stages whose paired 2x2 table is [[both, only_a], [only_b, neither]]."""
    a_vals = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b_vals = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    ids = _ids(len(a_vals))
    return dict(zip(ids, a_vals, strict=True)), dict(zip(ids, b_vals, strict=True))


def _random_pair(n: int, p_a: float, p_b: float, seed: int) -> tuple[Outcomes, Outcomes]:
    rng = np.random.default_rng(seed)
    ids = _ids(n)
    a: Outcomes = {i: bool(x) for i, x in zip(ids, rng.random(n) < p_a, strict=True)}
    b: Outcomes = {i: bool(x) for i, x in zip(ids, rng.random(n) < p_b, strict=True)}
    return a, b


# --- Wilson interval and rates -------------------------------------------------------------


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("n", [1, 2, 3, 10, 37, 100, 1000])
def test_wilson_matches_statsmodels(n: int, level: float) -> None:
    ks = sorted({0, 1, n // 3, n // 2, n - 1, n} & set(range(n + 1)))
    for k in ks:
        ref_low, ref_high = proportion_confint(k, n, alpha=1 - level, method="wilson")
        low, high = wilson_interval(k, n, level)
        assert low == pytest.approx(ref_low, abs=1e-9), (k, n, level)
        assert high == pytest.approx(ref_high, abs=1e-9), (k, n, level)


def test_wilson_bounds_at_extremes() -> None:
    # Wilson at k=0 has an exact lower bound of 0 and a positive upper bound; mirror at k=n.
    low0, high0 = wilson_interval(0, 20)
    lown, highn = wilson_interval(20, 20)
    assert low0 == 0.0 and 0.0 < high0 < 1.0
    assert highn == 1.0 and 0.0 < lown < 1.0
    assert high0 == pytest.approx(1.0 - lown, abs=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "level"), [(0, 0, 0.95), (3, 2, 0.95), (-1, 5, 0.95), (1, 5, 1.0), (1, 5, 0.0)]
)
def test_wilson_rejects_bad_input(k: int, n: int, level: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(k, n, level)


def test_rate_counts_unscored_outside_denominator() -> None:
    est = rate([True, False, None, True, None, False, False])
    assert (est.k, est.n, est.n_unscored) == (2, 5, 2)
    assert est.rate == pytest.approx(2 / 5)
    ref_low, ref_high = proportion_confint(2, 5, alpha=0.05, method="wilson")
    assert est.ci_low == pytest.approx(ref_low, abs=1e-9)
    assert est.ci_high == pytest.approx(ref_high, abs=1e-9)
    assert est.method == "wilson" and est.level == 0.95


def test_rate_level_is_passed_through() -> None:
    est = rate([True] * 3 + [False] * 7, level=0.9)
    ref_low, ref_high = proportion_confint(3, 10, alpha=0.1, method="wilson")
    assert (est.ci_low, est.ci_high) == (pytest.approx(ref_low), pytest.approx(ref_high))
    assert est.level == 0.9


@pytest.mark.parametrize("outcomes", [[None, None, None], []])
def test_rate_without_scored_samples(outcomes: list[bool | None]) -> None:
    est = rate(outcomes)
    assert est.rate is None and est.ci_low is None and est.ci_high is None
    assert (est.k, est.n, est.n_unscored) == (0, 0, len(outcomes))


# --- Paired difference ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("only_a", "only_b"),
    [(0, 0), (1, 0), (0, 1), (5, 5), (10, 3), (3, 10), (0, 7), (40, 25), (200, 180)],
)
def test_mcnemar_matches_statsmodels(only_a: int, only_b: int) -> None:
    both, neither = 17, 23
    a, b = _pairs(both, only_a, only_b, neither)
    res = paired_difference(a, b, a_name="a", b_name="b", n_boot=50)
    ref = mcnemar([[both, only_a], [only_b, neither]], exact=True).pvalue
    assert res.mcnemar_p == pytest.approx(float(ref), abs=1e-9)
    n = both + only_a + only_b + neither
    assert (res.only_a, res.only_b, res.n_pairs) == (only_a, only_b, n)
    assert res.diff == pytest.approx((only_a - only_b) / n)


def test_mcnemar_is_one_without_discordant_pairs() -> None:
    a, b = _pairs(10, 0, 0, 10)
    assert paired_difference(a, b, a_name="a", b_name="b", n_boot=50).mcnemar_p == 1.0


def test_pairing_drops_unscored_and_unmatched_prompts() -> None:
    a: Outcomes = {"p1": True, "p2": False, "p3": True, "p4": None, "p5": True}
    b: Outcomes = {"p3": False, "p4": True, "p5": True, "p6": False, "p7": None}
    res = paired_difference(a, b, a_name="sft_only", b_name="production", n_boot=50)
    # Only p3 (True, False) and p5 (True, True) are scored on both sides; 7 ids in all.
    assert (res.n_pairs, res.n_dropped) == (2, 5)
    assert (res.only_a, res.only_b) == (1, 0)
    assert res.diff == pytest.approx(0.5)
    assert (res.a, res.b) == ("sft_only", "production")


def test_paired_difference_without_pairs() -> None:
    a: Outcomes = {"p1": None, "p2": True}
    b: Outcomes = {"p1": True, "p3": False}
    res = paired_difference(a, b, a_name="a", b_name="b")
    assert res.n_pairs == 0 and res.n_dropped == 3
    assert res.diff is None and res.ci_low is None and res.ci_high is None
    assert res.mcnemar_p is None


def test_bootstrap_ci_is_degenerate_for_a_constant_difference() -> None:
    # Every pair is (True, False): each resample has difference exactly 1.
    a, b = _pairs(0, 30, 0, 0)
    res = paired_difference(a, b, a_name="a", b_name="b", n_boot=500)
    assert (res.diff, res.ci_low, res.ci_high) == (1.0, 1.0, 1.0)


def test_bootstrap_resamples_pairs_not_stages() -> None:
    # Identical stages with a 50% rate: resampling pairs gives differences of exactly 0, while
    # resampling each stage on its own would spread the interval to about +-0.14.
    a, _ = _random_pair(200, 0.5, 0.5, seed=3)
    res = paired_difference(a, dict(a), a_name="a", b_name="b", n_boot=1000)
    assert (res.diff, res.ci_low, res.ci_high) == (0.0, 0.0, 0.0)


def test_bootstrap_ci_width_matches_normal_theory() -> None:
    # Per-prompt differences are 1 for half of 400 prompts and 0 for the rest: the mean has
    # sd sqrt(0.25 / 400) = 0.025, so the 95% percentile interval is about 0.5 +- 1.96 * 0.025.
    a, b = _pairs(100, 200, 0, 100)
    res = paired_difference(a, b, a_name="a", b_name="b", n_boot=10000, seed=1)
    half = sps.norm.ppf(0.975) * math.sqrt(0.25 / 400)
    assert res.diff == 0.5
    assert res.ci_low == pytest.approx(0.5 - half, abs=0.004)
    assert res.ci_high == pytest.approx(0.5 + half, abs=0.004)


def test_bootstrap_ci_contains_estimate_and_truth_for_large_sample() -> None:
    a, b = _random_pair(2000, 0.6, 0.2, seed=11)
    res = paired_difference(a, b, a_name="a", b_name="b", n_boot=2000)
    assert res.diff is not None and res.ci_low is not None and res.ci_high is not None
    assert res.ci_low < res.diff < res.ci_high
    assert res.ci_low < 0.4 < res.ci_high  # true difference of the generating rates
    assert res.ci_high - res.ci_low < 0.1


def test_bootstrap_is_reproducible_and_seeded() -> None:
    a, b = _random_pair(150, 0.5, 0.3, seed=5)
    first = paired_difference(a, b, a_name="a", b_name="b", n_boot=2000, seed=7)
    again = paired_difference(a, b, a_name="a", b_name="b", n_boot=2000, seed=7)
    assert first == again
    # Insertion order of the prompt ids must not change a seeded result.
    shuffled_a = dict(reversed(list(a.items())))
    assert paired_difference(shuffled_a, b, a_name="a", b_name="b", n_boot=2000, seed=7) == first
    others = {
        (r.ci_low, r.ci_high)
        for r in (
            paired_difference(a, b, a_name="a", b_name="b", n_boot=2000, seed=s) for s in range(8)
        )
    }
    assert len(others) > 1


def test_paired_difference_records_settings() -> None:
    a, b = _pairs(5, 5, 5, 5)
    res = paired_difference(a, b, a_name="a", b_name="b", level=0.9, n_boot=123, seed=4)
    assert (res.level, res.n_boot, res.seed) == (0.9, 123, 4)
    assert res.method == "paired bootstrap percentile, B=123"


def test_paired_bootstrap_is_fast() -> None:
    a, b = _random_pair(400, 0.4, 0.2, seed=2)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        paired_difference(a, b, a_name="a", b_name="b", n_boot=10000)
        best = min(best, time.perf_counter() - start)
    assert best < 0.2


def test_bootstrap_chunks_fill_every_replicate() -> None:
    # 1500 prompts make several chunks with a partial last one; a row left unfilled would not
    # equal the constant sum.
    data = np.ones((2, 1500), dtype=np.int64)
    data[1] = 0
    sums = bootstrap_sums(data, 3001, seed=0)
    assert sums.shape == (3001, 2)
    assert np.all(sums[:, 0] == 1500) and np.all(sums[:, 1] == 0)


# --- TOST equivalence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "p_a", "p_b", "margin", "alpha", "seed"),
    [
        (300, 0.3, 0.3, 0.05, 0.05, 0),
        (300, 0.3, 0.32, 0.1, 0.05, 1),
        (50, 0.5, 0.4, 0.05, 0.05, 2),
        (1000, 0.2, 0.21, 0.03, 0.1, 3),
        (12, 0.5, 0.5, 0.2, 0.025, 4),
    ],
)
def test_tost_matches_statsmodels_and_t_interval(
    n: int, p_a: float, p_b: float, margin: float, alpha: float, seed: int
) -> None:
    a, b = _random_pair(n, p_a, p_b, seed)
    res = tost_paired(a, b, a_name="a", b_name="b", margin=margin, alpha=alpha)
    x_a = np.array([float(bool(a[i])) for i in sorted(a)])
    x_b = np.array([float(bool(b[i])) for i in sorted(a)])
    ref_p = float(ttost_paired(x_a, x_b, -margin, margin)[0])
    d = x_a - x_b
    ref_low, ref_high = sps.t.interval(1 - 2 * alpha, n - 1, loc=d.mean(), scale=sps.sem(d))
    assert res.p_value == pytest.approx(ref_p, abs=1e-9)
    assert res.diff == pytest.approx(d.mean(), abs=1e-12)
    assert res.ci_low == pytest.approx(ref_low, abs=1e-9)
    assert res.ci_high == pytest.approx(ref_high, abs=1e-9)
    assert res.equivalent == (ref_p < alpha)
    # TOST rejects exactly when the (1 - 2 alpha) interval lies inside the margin.
    assert res.equivalent == (-margin < ref_low and ref_high < margin)
    assert (res.n_pairs, res.margin, res.alpha) == (n, margin, alpha)


def test_tost_equivalent_for_close_rates() -> None:
    a, b = _pairs(100, 3, 2, 395)
    res = tost_paired(a, b, a_name="a", b_name="b")
    assert res.equivalent and res.p_value is not None and res.p_value < 0.05


def test_tost_not_equivalent_for_distant_rates() -> None:
    a, b = _pairs(50, 60, 0, 90)
    res = tost_paired(a, b, a_name="a", b_name="b")
    assert not res.equivalent and res.p_value is not None and res.p_value > 0.5


@pytest.mark.parametrize(("only_a", "concordant", "expected_p"), [(0, 40, 0.0), (40, 0, 1.0)])
def test_tost_zero_variance(only_a: int, concordant: int, expected_p: float) -> None:
    # All differences equal: 0 (identical stages) is inside the margin, 1 is not.
    a, b = _pairs(concordant, only_a, 0, 0)
    res = tost_paired(a, b, a_name="a", b_name="b", margin=0.05)
    assert res.p_value == expected_p
    assert res.equivalent is (expected_p == 0.0)
    assert res.ci_low == res.ci_high == res.diff
    assert "zero variance" in res.method
    # statsmodels reaches the same answer as a limit of infinite t statistics.
    n = only_a + concordant
    x_a = np.array([1.0] * n)
    x_b = np.array([1.0] * concordant + [0.0] * only_a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_p = float(ttost_paired(x_a, x_b, -0.05, 0.05)[0])
    assert ref_p == expected_p


def test_tost_zero_variance_on_the_margin_is_not_equivalent() -> None:
    # A constant difference equal to the margin is not strictly inside it.
    a, b = _pairs(0, 10, 0, 0)
    res = tost_paired(a, b, a_name="a", b_name="b", margin=1.0)
    assert res.p_value == 1.0 and not res.equivalent


@pytest.mark.parametrize("n", [0, 1])
def test_tost_needs_two_pairs(n: int) -> None:
    a, b = _pairs(0, n, 0, 0)
    a["unpaired"] = True
    res = tost_paired(a, b, a_name="a", b_name="b")
    assert res.p_value is None and not res.equivalent
    assert res.ci_low is None and res.ci_high is None
    assert res.n_pairs == n
    assert res.diff == (None if n == 0 else 1.0)


@pytest.mark.parametrize(("margin", "alpha"), [(0.0, 0.05), (-0.1, 0.05), (0.05, 0.5)])
def test_tost_rejects_bad_settings(margin: float, alpha: float) -> None:
    a, b = _pairs(5, 1, 1, 5)
    with pytest.raises(ValueError):
        tost_paired(a, b, a_name="a", b_name="b", margin=margin, alpha=alpha)
