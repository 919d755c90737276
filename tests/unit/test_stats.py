"""Rates, paired differences and equivalence, checked against scipy/statsmodels or by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import ttost_paired

from stagelens.stats import (
    MIN_PAIRS,
    paired_difference,
    rate,
    tango_interval,
    tango_statistic,
    tango_tost_p,
    tost_binary,
    tost_paired_t,
    wilson_interval,
)

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
    assert res.p_value == pytest.approx(float(ref), abs=1e-9)
    n = both + only_a + only_b + neither
    assert (res.only_a, res.only_b, res.n_pairs) == (only_a, only_b, n)
    assert res.diff == pytest.approx((only_a - only_b) / n)


def test_mcnemar_is_one_without_discordant_pairs() -> None:
    a, b = _pairs(10, 0, 0, 10)
    assert paired_difference(a, b, a_name="a", b_name="b").p_value == 1.0


def test_pairing_drops_unscored_and_unmatched_prompts_and_says_which_side() -> None:
    a: Outcomes = {"p1": True, "p2": False, "p3": True, "p4": None, "p5": True}
    b: Outcomes = {"p3": False, "p4": True, "p5": True, "p6": False, "p7": None}
    res = paired_difference(a, b, a_name="sft_only", b_name="production")
    # Only p3 (True, False) and p5 (True, True) are scored on both sides; 7 ids in all.
    assert (res.n_pairs, res.n_dropped) == (2, 5)
    # a lacks p4 (unscored), p6, p7; b lacks p1, p2, p7 (p7 on both sides)
    assert (res.unscored_only_a, res.unscored_only_b, res.unscored_both) == (2, 2, 1)
    assert (res.only_a, res.only_b) == (1, 0)
    assert res.diff == pytest.approx(0.5)
    assert (res.a, res.b) == ("sft_only", "production")


def test_paired_difference_without_pairs() -> None:
    a: Outcomes = {"p1": None, "p2": True}
    b: Outcomes = {"p1": True, "p3": False}
    res = paired_difference(a, b, a_name="a", b_name="b")
    assert res.n_pairs == 0 and res.n_dropped == 3
    assert res.diff is None and res.ci_low is None and res.ci_high is None
    assert res.p_value is None and not res.significant


def test_independent_pairs_use_tango_and_mcnemar() -> None:
    a, b = _pairs(20, 12, 3, 65)
    res = paired_difference(a, b, a_name="a", b_name="b", level=0.9)
    assert res.method == "Tango score interval" and res.test == "exact McNemar"
    assert (res.ci_low, res.ci_high) == tango_interval(12, 3, 100, 0.9)
    assert res.p_value == pytest.approx(float(mcnemar([[20, 12], [3, 65]], exact=True).pvalue))
    assert res.significant == (res.p_value < 0.05)
    assert res.n_boot is None and res.seed is None and res.n_clusters == 100


def test_paired_interval_contains_estimate_and_truth_for_large_sample() -> None:
    a, b = _random_pair(2000, 0.6, 0.2, seed=11)
    res = paired_difference(a, b, a_name="a", b_name="b")
    assert res.diff is not None and res.ci_low is not None and res.ci_high is not None
    assert res.ci_low < res.diff < res.ci_high
    assert res.ci_low < 0.4 < res.ci_high  # true difference of the generating rates
    assert res.ci_high - res.ci_low < 0.1
    assert res.significant


# --- Tango's score interval ----------------------------------------------------------------


def _profile_q(b: int, c: int, n: int, d: float) -> float:
    """P(0, 1) maximising the multinomial likelihood under delta = d, found numerically."""
    from scipy.optimize import minimize_scalar

    m = n - b - c
    lo, hi = max(0.0, -d), (1.0 - d) / 2.0

    def neg(q: float) -> float:
        total = 0.0
        for count, p in ((b, q + d), (c, q), (m, 1.0 - 2.0 * q - d)):
            if count:
                total -= count * math.log(max(p, 1e-300))
        return total

    res = minimize_scalar(neg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13})
    return float(res.x)


@pytest.mark.parametrize(
    ("b", "c", "n", "d"),
    [(6, 16, 161, -0.1), (6, 16, 161, 0.02), (1, 7, 21, -0.5), (3, 0, 120, 0.05),
     (0, 3, 120, -0.06), (40, 20, 160, 0.2), (0, 0, 50, 0.03)],
)  # fmt: skip
def test_tango_statistic_uses_the_constrained_mle(b: int, c: int, n: int, d: float) -> None:
    # The closed-form root is the maximiser of the profile likelihood, found here numerically.
    q = _profile_q(b, c, n, d)
    expected = (b - c - n * d) / math.sqrt(n * (2 * q + d * (1 - d)))
    assert tango_statistic(b, c, n, d) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("b", "c", "n", "level"),
    [(6, 16, 161, 0.95), (1, 7, 21, 0.95), (40, 20, 160, 0.9), (0, 3, 120, 0.9),
     (5, 0, 5, 0.95), (2, 2, 4, 0.95), (13, 1, 30, 0.99)],
)  # fmt: skip
def test_tango_bounds_solve_the_score_equation(b: int, c: int, n: int, level: float) -> None:
    z = sps.norm.ppf(1 - (1 - level) / 2)
    low, high = tango_interval(b, c, n, level)
    est = (b - c) / n
    assert -1.0 <= low <= est <= high <= 1.0
    if low > -1.0:
        assert tango_statistic(b, c, n, low) == pytest.approx(z, abs=1e-9)
    if high < 1.0:
        assert tango_statistic(b, c, n, high) == pytest.approx(-z, abs=1e-9)
    else:
        assert b == n  # the upper bound reaches 1 only when every pair is discordant that way


@pytest.mark.parametrize("n", [2, 3, 10, 52, 120, 1000])
def test_tango_without_discordant_pairs_has_its_closed_form(n: int) -> None:
    # With b = c = 0, T(d) = -sqrt(n d / (1 - d)) for d > 0, so the bound is z^2 / (n + z^2).
    z2 = sps.norm.ppf(0.95) ** 2
    low, high = tango_interval(0, 0, n, 0.9)
    assert high == pytest.approx(z2 / (n + z2), abs=1e-12)
    assert low == pytest.approx(-high, abs=1e-12)


def test_tango_tost_agrees_with_its_interval() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(5, 400))
        b = int(rng.integers(0, n // 4 + 1))
        c = int(rng.integers(0, n // 4 + 1))
        margin = float(rng.choice([0.02, 0.05, 0.1]))
        low, high = tango_interval(b, c, n, 0.9)
        inside = -margin < low and high < margin
        assert (tango_tost_p(b, c, n, margin) < 0.05) == inside


def test_tango_coverage_is_near_nominal() -> None:
    rng = np.random.default_rng(3)
    n, p10, p01 = 60, 0.08, 0.03
    hits = 0
    sims = 1500
    for _ in range(sims):
        cells = rng.multinomial(n, [p10, p01, 1 - p10 - p01])
        low, high = tango_interval(int(cells[0]), int(cells[1]), n, 0.95)
        hits += low <= p10 - p01 <= high
    assert 0.93 <= hits / sims <= 0.975


# --- Equivalence -----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("value", [True, False])
def test_a_few_identical_pairs_are_not_equivalent(k: int, value: bool) -> None:
    a = {f"p{i}": value for i in range(k)}
    for min_pairs in (2, MIN_PAIRS):
        res = tost_binary(a, dict(a), a_name="a", b_name="b", min_pairs=min_pairs)
        assert not res.equivalent
        assert res.ci_low is not None and res.ci_low < -0.4  # the data alone say little
    assert tost_binary(a, dict(a), a_name="a", b_name="b").reason is not None


def test_a_large_sample_with_no_true_difference_is_equivalent() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    base = rng.random(n) < 0.3
    flip_a = rng.random(n) < 0.02  # each stage deviates from a shared answer at random
    flip_b = rng.random(n) < 0.02
    ids = _ids(n)
    a: Outcomes = {i: bool(x ^ f) for i, x, f in zip(ids, base, flip_a, strict=True)}
    b: Outcomes = {i: bool(x ^ f) for i, x, f in zip(ids, base, flip_b, strict=True)}
    res = tost_binary(a, b, a_name="a", b_name="b", margin=0.05)
    assert res.equivalent and res.p_value is not None and res.p_value < 0.001
    assert res.ci_low is not None and res.ci_high is not None
    assert -0.05 < res.ci_low < res.ci_high < 0.05


def test_clustered_identical_pairs_are_no_stronger_evidence_than_independent_ones() -> None:
    # 40 identical pairs in 20 clusters: every bootstrap replicate is 0, so the bootstrap
    # interval alone is [0, 0]; the Tango interval for 0 discordant of 40 is wider than 5 points
    a = {f"p{i}": False for i in range(40)}
    clusters = {sid: f"c{i // 2}" for i, sid in enumerate(a)}
    res = tost_binary(a, dict(a), a_name="a", b_name="b", margin=0.05, clusters=clusters)
    low, high = tango_interval(0, 0, 40, 0.90)
    assert "cluster bootstrap" in res.method and not res.equivalent
    assert (res.ci_low, res.ci_high) == (low, high) and high > 0.05
    # with enough pairs the same data are equivalent, clustered or not
    a = {f"p{i}": False for i in range(400)}
    clusters = {sid: f"c{i // 4}" for i, sid in enumerate(a)}
    assert tost_binary(a, dict(a), a_name="a", b_name="b", clusters=clusters).equivalent


def test_clustered_difference_is_no_more_significant_than_independent_pairs() -> None:
    # 4 of 102 clusters discordant, all one way: the cluster bootstrap alone excludes 0 (a
    # replicate draws none of the 4 with probability (98/102)^102 < 2.5%); statsmodels' exact
    # McNemar for the same pairs, independent, gives p = 0.125
    a = {f"p{i}": i < 4 for i in range(200)}
    b = {sid: False for sid in a}
    clusters = {f"p{i}": f"d{i}" if i < 4 else f"c{i // 2}" for i in range(200)}
    p = mcnemar([[0, 4], [0, 196]], exact=True).pvalue
    res = paired_difference(a, b, a_name="a", b_name="b", clusters=clusters)
    assert "cluster bootstrap" in res.method and res.n_clusters == 4 + 98
    assert p > 0.05 and not res.significant
    low, high = tango_interval(4, 0, 200, 0.95)
    assert res.ci_low is not None and res.ci_low <= low and res.ci_high >= high
    # with clear evidence the clustered difference is significant
    a = {f"p{i}": i < 40 for i in range(200)}
    res = paired_difference(a, b, a_name="a", b_name="b", clusters=clusters)
    assert res.significant and res.ci_low is not None and res.ci_low > 0


def test_equivalence_needs_min_pairs_whatever_the_data() -> None:
    a, b = _pairs(0, 0, 0, 400)
    assert tost_binary(a, b, a_name="a", b_name="b", min_pairs=400).equivalent
    res = tost_binary(a, b, a_name="a", b_name="b", min_pairs=401)
    assert not res.equivalent and res.reason is not None and "401" in res.reason


def test_equivalence_not_claimed_for_distant_rates() -> None:
    a, b = _pairs(50, 60, 0, 90)
    res = tost_binary(a, b, a_name="a", b_name="b")
    assert not res.equivalent and res.p_value is not None and res.p_value > 0.5


@pytest.mark.parametrize(
    ("n", "margin", "alpha", "seed"),
    [(300, 0.2, 0.05, 0), (50, 0.5, 0.05, 2), (1000, 0.1, 0.1, 3), (40, 1.0, 0.025, 4)],
)
def test_paired_t_tost_matches_statsmodels(n: int, margin: float, alpha: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = _ids(n)
    x_a, x_b = rng.normal(2.0, 1.0, n), rng.normal(2.05, 1.0, n)
    a = {i: float(v) for i, v in zip(ids, x_a, strict=True)}
    b = {i: float(v) for i, v in zip(ids, x_b, strict=True)}
    res = tost_paired_t(a, b, a_name="a", b_name="b", margin=margin, alpha=alpha)
    ref_p = float(ttost_paired(x_a, x_b, -margin, margin)[0])
    d = x_a - x_b
    ref_low, ref_high = sps.t.interval(1 - 2 * alpha, n - 1, loc=d.mean(), scale=sps.sem(d))
    assert res.p_value == pytest.approx(ref_p, abs=1e-9)
    assert res.ci_low == pytest.approx(ref_low, abs=1e-9)
    assert res.ci_high == pytest.approx(ref_high, abs=1e-9)
    assert res.equivalent == (ref_p < alpha)


def test_paired_t_with_zero_variance_claims_nothing() -> None:
    a = {f"p{i}": 3.0 for i in range(100)}
    res = tost_paired_t(a, dict(a), a_name="a", b_name="b", margin=0.5)
    assert not res.equivalent and res.p_value is None
    assert res.reason is not None and "zero variance" in res.reason


@pytest.mark.parametrize(("margin", "alpha"), [(0.0, 0.05), (-0.1, 0.05), (0.05, 0.5)])
def test_equivalence_rejects_bad_settings(margin: float, alpha: float) -> None:
    a, b = _pairs(5, 1, 1, 5)
    with pytest.raises(ValueError):
        tost_binary(a, b, a_name="a", b_name="b", margin=margin, alpha=alpha)
