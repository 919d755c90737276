"""Attribution share, verdict rules and wording, and the per-metric comparison."""

from __future__ import annotations

import math
import re

import pytest
from scipy import stats as sps

from stagelens.stats import (
    Equivalence,
    PairedDifference,
    Verdict,
    attribution_share,
    compare_metric,
    decide_verdict,
    rate,
    verdict_text,
)
from stagelens.stats.attribution import UNDEFINED_NOTE

Outcomes = dict[str, bool | None]


def _first(n_true: int, n: int) -> Outcomes:
    """n prompts p0000..; the first n_true have the event."""
    return {f"p{i:04d}": i < n_true for i in range(n)}


# --- Attribution ---------------------------------------------------------------------------


def test_share_by_hand() -> None:
    # base 0%, SFT-only 25%, production 50%: SFT reproduces half of the change.
    res = attribution_share(_first(0, 200), _first(50, 200), _first(100, 200), n_boot=2000)
    assert res.share == pytest.approx(0.5)
    assert res.n == 200
    assert res.ci_low is not None and res.ci_high is not None
    assert res.ci_low < 0.5 < res.ci_high
    assert res.note is None


def test_share_is_not_clipped() -> None:
    base, prod = _first(0, 100), _first(40, 100)
    overshoot = attribution_share(base, _first(60, 100), prod, n_boot=200)
    assert overshoot.share == pytest.approx(1.5)  # (0.6 - 0) / (0.4 - 0)
    # base 50%, production 10%, SFT-only 60%: SFT moved the rate the wrong way.
    wrong_way = attribution_share(_first(50, 100), _first(60, 100), _first(10, 100), n_boot=200)
    assert wrong_way.share == pytest.approx((0.6 - 0.5) / (0.1 - 0.5))
    assert wrong_way.share is not None and wrong_way.share < 0


def test_share_undefined_when_production_equals_base() -> None:
    base = _first(30, 100)
    prod = {k: not v for k, v in _first(70, 100).items()}  # also 30%, on other prompts
    res = attribution_share(base, _first(10, 100), prod)
    assert res.share is None and res.ci_low is None and res.ci_high is None
    assert res.note == "production equals base on this metric; the share is undefined"
    assert res.note == UNDEFINED_NOTE


def test_share_uses_prompts_scored_in_all_three_stages() -> None:
    base, sft, prod = _first(0, 10), _first(5, 10), _first(10, 10)
    sft["p0000"] = None  # drops a prompt where every stage but base had the event
    prod["extra"] = True  # present only in production
    res = attribution_share(base, sft, prod, n_boot=100)
    assert res.n == 9
    assert res.share == pytest.approx((4 / 9) / (9 / 9))


def test_share_without_common_prompts() -> None:
    res = attribution_share({"a": True}, {"b": True}, {"a": False, "b": False})
    assert res.n == 0 and res.share is None and res.note is not None


def test_share_bootstrap_resamples_prompts_jointly() -> None:
    # SFT-only equals production prompt by prompt, so every joint resample has share exactly 1;
    # resampling the stages separately would spread the interval.
    base = {f"p{i}": i % 3 == 0 for i in range(90)}
    prod = {f"p{i}": i % 2 == 0 for i in range(90)}
    res = attribution_share(base, dict(prod), prod, n_boot=1000)
    assert (res.share, res.ci_low, res.ci_high) == (1.0, 1.0, 1.0)


def test_share_excludes_replicates_with_zero_denominator() -> None:
    # Three prompts; only p0 separates production from base. A resample misses p0 with
    # probability (2/3)^3 = 8/27, and then has no share.
    base = {"p0": False, "p1": False, "p2": False}
    prod = {"p0": True, "p1": False, "p2": False}
    n_boot = 3000
    res = attribution_share(base, dict(prod), prod, n_boot=n_boot, seed=1)
    assert res.share == 1.0 and (res.ci_low, res.ci_high) == (1.0, 1.0)
    assert res.note is not None
    match = re.match(r"(\d+) of 3000 bootstrap replicates", res.note)
    assert match is not None, res.note
    excluded = int(match.group(1))
    p = 8 / 27
    assert abs(excluded - n_boot * p) < 5 * math.sqrt(n_boot * p * (1 - p))


def test_share_is_reproducible() -> None:
    base = {f"p{i}": i % 5 == 0 for i in range(120)}
    sft = {f"p{i}": i % 3 == 0 for i in range(120)}
    prod = {f"p{i}": i % 2 == 0 for i in range(120)}
    first = attribution_share(base, sft, prod, n_boot=1000, seed=3)
    assert attribution_share(base, sft, prod, n_boot=1000, seed=3) == first
    reordered = dict(reversed(list(sft.items())))
    assert attribution_share(base, reordered, prod, n_boot=1000, seed=3) == first
    assert (first.n_boot, first.seed, first.level) == (1000, 3, 0.95)


# --- Verdict rules on synthetic stages -----------------------------------------------------


def _stages(n: int, base: int, sft: int, prod: int) -> dict[str, Outcomes]:
    return {"base": _first(base, n), "sft_only": _first(sft, n), "production": _first(prod, n)}


def test_verdict_production_safer() -> None:
    # 300 harmful prompts: production refuses 90% (complies 10%), SFT-only refuses 40%.
    res = compare_metric("harmful_compliance", _stages(300, 270, 180, 30), n_boot=2000)
    assert res.verdict == "production_safer" and res.verdict_reasons == []
    assert res.difference.diff == pytest.approx(0.6 - 0.1)
    assert res.difference.only_a == 150 and res.difference.only_b == 0
    assert res.verdict_text.startswith(
        "harmful_compliance: Production safer by 50 points, 95% interval ["
    )
    assert res.verdict_text.endswith("(exact McNemar p<0.001).")


def test_verdict_sft_only_safer() -> None:
    res = compare_metric("over_refusal", _stages(300, 150, 30, 90), n_boot=2000, label="Over")
    assert res.verdict == "sft_only_safer"
    assert res.difference.diff == pytest.approx(0.1 - 0.3)
    assert res.verdict_text.startswith("Over: SFT-only safer by 20 points, 95% interval [")


def test_verdict_when_higher_is_safer() -> None:
    # a success rate: production succeeds on 60%, SFT-only on 10%; production is better
    res = compare_metric("honest_success", _stages(300, 0, 30, 180), n_boot=2000,
                         lower_is_safer=False)  # fmt: skip
    assert res.verdict == "production_safer"
    assert res.difference.diff == pytest.approx(0.1 - 0.6)
    assert res.verdict_text.startswith("honest_success: Production better by 50 points, 95% ")
    flipped = compare_metric("honest_success", _stages(300, 0, 180, 30), n_boot=2000,
                             lower_is_safer=False)  # fmt: skip
    assert flipped.verdict == "sft_only_safer"


def test_verdict_equivalent() -> None:
    # 400 prompts; SFT-only and production disagree on 4 prompts, 2 each way.
    sft = _first(100, 400)
    prod = dict(sft)
    for pid in ("p0000", "p0001"):
        prod[pid] = False
    for pid in ("p0200", "p0201"):
        prod[pid] = True
    res = compare_metric(
        "m", {"base": _first(300, 400), "sft_only": sft, "production": prod}, n_boot=500
    )
    assert res.verdict == "equivalent"
    assert res.difference.diff == 0.0 and res.difference.p_value == 1.0
    assert res.verdict_text.startswith("m: SFT-only and production are equivalent within 5 points")
    assert "400 pairs" in res.verdict_text


def test_verdict_inconclusive() -> None:
    # 40 prompts, two discordant pairs both one way: diff 0.05, McNemar p = 2 * 0.5^2 = 0.5.
    res = compare_metric("m", _stages(40, 10, 6, 4), n_boot=500)
    assert res.verdict == "inconclusive" and res.verdict_reasons == []
    assert res.difference.p_value == pytest.approx(0.5)
    assert not res.equivalence.equivalent
    assert res.verdict_text.startswith("m: Inconclusive: difference +5 points, 95% interval [")
    assert res.verdict_text.endswith("(exact McNemar p=0.50; 40 pairs).")


def test_verdict_inconclusive_without_scored_pairs() -> None:
    none: Outcomes = {f"p{i}": None for i in range(5)}
    res = compare_metric("m", {"base": _first(2, 5), "sft_only": none, "production": _first(1, 5)})
    assert res.verdict == "inconclusive"
    assert res.rates["sft_only"].n == 0 and res.rates["sft_only"].n_unscored == 5
    assert res.rates["sft_only"].unscored_share == 1.0
    assert "no sample was scored" in res.verdict_text


def test_equivalence_takes_precedence_over_significance() -> None:
    # 4000 prompts, 60 vs 10 discordant: a significant but tiny (1.25 point) difference.
    n = 4000
    sft = _first(1000, n)
    prod = dict(sft)
    for i in range(60):
        prod[f"p{i:04d}"] = False
    for i in range(1000, 1010):
        prod[f"p{i:04d}"] = True
    res = compare_metric(
        "m", {"base": _first(2000, n), "sft_only": sft, "production": prod}, n_boot=200
    )
    assert res.difference.p_value is not None
    assert res.difference.p_value == pytest.approx(2 * sps.binom.cdf(10, 70, 0.5))
    assert res.difference.significant
    assert res.equivalence.equivalent
    assert res.verdict == "equivalent"


@pytest.mark.parametrize("k", [2, 3])
def test_a_few_identical_pairs_give_no_verdict(k: int) -> None:
    stages = _stages(k, k, 0, 0)
    res = compare_metric("m", stages)
    assert res.verdict == "inconclusive" and not res.equivalence.equivalent
    res = compare_metric("m", stages, min_pairs=2)
    assert res.verdict == "inconclusive" and not res.equivalence.equivalent


def test_production_scored_on_3_of_120_is_not_equivalent() -> None:
    # the report used to say "equivalent ... TOST p<0.001" here
    prod: Outcomes = {f"p{i:04d}": (False if i < 3 else None) for i in range(120)}
    res = compare_metric("m", {"base": _first(120, 120), "sft_only": _first(0, 120),
                               "production": prod})  # fmt: skip
    assert res.verdict == "inconclusive"
    assert res.difference.n_pairs == 3 and res.difference.unscored_only_b == 117
    assert any("only 3 pairs" in r for r in res.verdict_reasons)
    # counted against production, the 117 gaps would make it a clear difference
    assert res.missing.verdict_production_worse == "sft_only_safer"


def test_small_n_gives_no_verdict_whatever_the_data() -> None:
    # 10 of 10 pairs discordant one way: McNemar p = 0.002, but 10 pairs are below the minimum
    stages = _stages(10, 10, 10, 0)
    assert compare_metric("m", stages, min_pairs=10).verdict == "production_safer"
    res = compare_metric("m", stages)
    assert res.verdict_scored_only == "inconclusive" and res.verdict == "inconclusive"
    assert res.verdict_reasons and "at least 30" in res.verdict_reasons[0]


# --- Missing answers -------------------------------------------------------------------------


def test_one_sided_missingness_is_inconclusive() -> None:
    # RL taught production to answer off-topic: 68 of 120 tasks unscored on production only.
    # Honest success on the scored pairs is 52/52 for both stages.
    sft = _first(120, 120)
    prod: Outcomes = {pid: (True if i < 52 else None) for i, pid in enumerate(sft)}
    res = compare_metric("honest", {"base": _first(0, 120), "sft_only": sft, "production": prod},
                         lower_is_safer=False)  # fmt: skip
    assert res.verdict_scored_only == "equivalent"
    assert res.verdict == "inconclusive"
    assert res.missing.unscored_share == {"sft_only": 0.0, "production": pytest.approx(68 / 120)}
    assert res.missing.dropped_pairs == 68
    assert res.missing.verdict_production_worse == "sft_only_safer"
    assert res.difference.unscored_only_b == 68
    assert "68 of 120 samples were left out of the pairing" in res.verdict_text
    assert res.verdict_text.startswith("honest: Inconclusive: SFT-only left 0.0% of its answers")


def test_gaps_within_the_margin_that_flip_the_verdict_are_inconclusive() -> None:
    # 400 prompts, no event on either stage; production leaves 15 (3.75%) unscored. Counted
    # against production (all 15 unsafe) the interval reaches past -5 points.
    sft = _first(0, 400)
    prod: Outcomes = {pid: (None if i < 15 else False) for i, pid in enumerate(sft)}
    res = compare_metric("m", {"base": _first(400, 400), "sft_only": sft, "production": prod})
    assert res.verdict_scored_only == "equivalent"
    assert res.missing.share_gap < 0.05
    assert res.missing.verdict_sft_only_worse == "equivalent"
    assert res.missing.verdict_production_worse == "sft_only_safer"
    assert res.verdict == "inconclusive"
    assert "depends on the 15 unscored answers" in res.verdict_text


def test_a_few_gaps_that_cannot_flip_the_verdict_keep_it() -> None:
    sft = _first(0, 400)
    prod: Outcomes = {pid: (None if i < 2 else False) for i, pid in enumerate(sft)}
    res = compare_metric("m", {"base": _first(400, 400), "sft_only": sft, "production": prod})
    assert res.verdict == "equivalent" and res.verdict_reasons == []
    assert res.missing.verdict_production_worse == "equivalent"
    assert "2 of 400 samples were left out" in res.verdict_text


def test_no_gaps_no_imputation() -> None:
    res = compare_metric("m", _stages(300, 270, 180, 30))
    assert res.missing.dropped_pairs == 0 and res.missing.reasons == []
    assert res.missing.verdict_sft_only_worse is None


# --- Clusters --------------------------------------------------------------------------------


def test_clusters_widen_intervals_and_can_block_equivalence() -> None:
    # 20 clusters of 20 samples. Within a cluster the stages agree, except two clusters where
    # only SFT-only has the event and two where only production has it: 40 discordant pairs each
    # way. As independent pairs that is equivalent within 5 points; clustered it is not.
    sft: Outcomes = {}
    prod: Outcomes = {}
    clusters: dict[str, str] = {}
    for g in range(20):
        for j in range(20):
            pid = f"c{g:02d}s{j:02d}"
            clusters[pid] = f"c{g:02d}"
            sft[pid] = g in (0, 1) or g >= 15
            prod[pid] = g in (2, 3) or g >= 15
    stages = {"base": {p: True for p in sft}, "sft_only": sft, "production": prod}
    alone = compare_metric("m", stages)
    assert alone.verdict == "equivalent"
    res = compare_metric("m", stages, clusters=clusters)
    assert res.verdict == "inconclusive" and not res.equivalence.equivalent
    assert "cluster bootstrap" in res.equivalence.method
    assert res.difference.n_clusters == 20 and res.difference.p_value is None
    sft_rate = res.rates["sft_only"]
    assert sft_rate.n_clusters == 20 and "cluster bootstrap" in sft_rate.method
    assert sft_rate.ci_low is not None and alone.rates["sft_only"].ci_low is not None
    assert sft_rate.ci_high - sft_rate.ci_low > 1.5 * (  # type: ignore[operator]
        alone.rates["sft_only"].ci_high - alone.rates["sft_only"].ci_low  # type: ignore[operator]
    )
    assert "cluster" in res.attribution.method


def test_singleton_clusters_keep_the_independent_methods() -> None:
    stages = _stages(100, 80, 30, 20)
    clusters = {pid: pid for pid in stages["base"]}
    assert compare_metric("m", stages, clusters=clusters) == compare_metric("m", stages)


def test_cluster_bootstrap_is_invariant_to_copies_within_clusters() -> None:
    # Every sample copied 3 times into its own cluster: the same clusters are drawn, with the
    # same ratios, so the interval is exactly the one of the originals as singleton clusters.
    from stagelens.stats import cluster_bootstrap_mean

    base = {f"p{i:03d}": float(i % 3 == 0) for i in range(60)}
    one = cluster_bootstrap_mean(base, {p: p for p in base}, n_boot=500, seed=1)
    copies = {f"{p}#{k}": v for p, v in base.items() for k in range(3)}
    three = cluster_bootstrap_mean(copies, {c: c.split("#")[0] for c in copies}, n_boot=500,
                                   seed=1)  # fmt: skip
    assert (one.ci_low, one.ci_high) == (three.ci_low, three.ci_high)
    assert one.estimate == three.estimate and three.n == 180 and three.n_clusters == 60


def test_cluster_bootstrap_mean_counts_missing_cells() -> None:
    from stagelens.stats import cluster_bootstrap_mean

    values: dict[str, float | None] = {"a1": 1.0, "a2": None, "b1": 0.0, "b2": 0.0}
    res = cluster_bootstrap_mean(values, {"a1": "a", "a2": "a", "b1": "b", "b2": "b"},
                                 n_boot=2000)  # fmt: skip
    assert res.estimate == pytest.approx(1 / 3) and res.n == 3 and res.n_unscored == 1
    # replicates: {a, a} -> 1, {b, b} -> 0, {a, b} -> 1/3: the 95% interval spans [0, 1]
    assert (res.ci_low, res.ci_high) == (0.0, 1.0)


# --- Verdict wording on hand-built results -------------------------------------------------


def _diff(diff: float, low: float, high: float, p: float, n_dropped: int = 0) -> PairedDifference:
    return PairedDifference(
        a="sft_only",
        b="production",
        diff=diff,
        ci_low=low,
        ci_high=high,
        n_pairs=300,
        n_clusters=300,
        n_dropped=n_dropped,
        unscored_only_a=n_dropped,
        unscored_only_b=0,
        unscored_both=0,
        only_a=0,
        only_b=0,
        p_value=p,
        test="exact McNemar",
        significant=p < 0.05,
        alpha=0.05,
        method="test",
        level=0.95,
        n_boot=None,
        seed=None,
    )


def _equiv(diff: float, low: float, high: float, p: float, equivalent: bool) -> Equivalence:
    return Equivalence(
        a="sft_only",
        b="production",
        margin=0.05,
        diff=diff,
        ci_low=low,
        ci_high=high,
        p_value=p,
        alpha=0.05,
        equivalent=equivalent,
        n_pairs=300,
        min_pairs=30,
        method="test",
    )


def test_decide_verdict_rules() -> None:
    not_eq = _equiv(0.0, -0.2, 0.2, 0.9, False)
    assert decide_verdict(_diff(0.3, 0.2, 0.4, 0.001), not_eq) == ("production_safer", [])
    assert decide_verdict(_diff(-0.3, -0.4, -0.2, 0.001), not_eq) == ("sft_only_safer", [])
    assert decide_verdict(_diff(0.3, -0.1, 0.6, 0.2), not_eq) == ("inconclusive", [])
    eq = _equiv(0.01, -0.01, 0.03, 0.001, True)
    assert decide_verdict(_diff(0.01, -0.01, 0.03, 0.001), eq) == ("equivalent", [])
    few = eq.model_copy(update={"min_pairs": 301})
    verdict, reasons = decide_verdict(_diff(0.01, -0.01, 0.03, 0.001), few)
    assert verdict == "inconclusive" and "at least 301" in reasons[0]


@pytest.mark.parametrize(
    ("difference", "equivalence", "verdict", "expected"),
    [
        (
            _diff(0.01, -0.03, 0.04, 0.8),
            _equiv(0.01, -0.02, 0.03, 0.001, True),
            "equivalent",
            "SFT-only and production are equivalent within 5 points "
            "(difference +1, 90% interval [-2, +3], TOST p=0.001; 300 pairs).",
        ),
        (
            _diff(0.31, 0.24, 0.38, 1e-9),
            _equiv(0.31, 0.25, 0.37, 1.0, False),
            "production_safer",
            "Production safer by 31 points, 95% interval [24, 38] (exact McNemar p<0.001).",
        ),
        (
            _diff(-0.12, -0.19, -0.05, 0.002),
            _equiv(-0.12, -0.18, -0.06, 0.99, False),
            "sft_only_safer",
            "SFT-only safer by 12 points, 95% interval [5, 19] (exact McNemar p=0.002).",
        ),
        (
            _diff(0.03, -0.04, 0.09, 0.41),
            _equiv(0.03, -0.03, 0.08, 0.3, False),
            "inconclusive",
            "Inconclusive: difference +3 points, 95% interval [-4, +9]; neither equivalence "
            "within 5 points nor a significant difference (exact McNemar p=0.41; 300 pairs).",
        ),
    ],
)
def test_verdict_text(
    difference: PairedDifference, equivalence: Equivalence, verdict: Verdict, expected: str
) -> None:
    assert verdict_text("", difference, equivalence, verdict) == expected
    labelled = verdict_text("Harmful compliance", difference, equivalence, verdict)
    assert labelled == f"Harmful compliance: {expected}"


def test_verdict_text_counts_dropped_pairs_and_gives_reasons() -> None:
    text = verdict_text("", _diff(0.01, -0.03, 0.04, 0.8, n_dropped=12),
                        _equiv(0.01, -0.02, 0.03, 0.001, True), "inconclusive",
                        reasons=["a reason"], scored_verdict="equivalent")  # fmt: skip
    assert text.startswith("Inconclusive: a reason. On the scored pairs alone: SFT-only and ")
    assert text.endswith(
        "12 of 312 samples were left out of the pairing (unscored on SFT-only only: 12, "
        "on production only: 0, on both: 0)."
    )


def test_verdict_text_never_prints_negative_zero() -> None:
    text = verdict_text(
        "",
        _diff(-0.003, -0.02, 0.004, 0.9),
        _equiv(-0.003, -0.02, 0.004, 0.3, False),
        "inconclusive",
    )
    assert text.startswith("Inconclusive: difference +0 points, 95% interval [-2, +0];")


# --- compare_metric ------------------------------------------------------------------------


def test_compare_metric_requires_the_three_stages() -> None:
    stages = _stages(10, 5, 4, 3)
    del stages["production"]
    with pytest.raises(ValueError, match="production"):
        compare_metric("m", stages)


def test_compare_metric_assembles_the_parts() -> None:
    stages = _stages(50, 40, 20, 10)
    stages["sft_dpo"] = _first(15, 50)
    stages["sft_only"]["p0049"] = None
    res = compare_metric("m", stages, margin=0.1, level=0.9, alpha=0.1, n_boot=300, seed=2)
    assert set(res.rates) == {"base", "sft_only", "production", "sft_dpo"}
    assert res.rates["sft_only"] == rate(stages["sft_only"], 0.9)
    assert (res.difference.a, res.difference.b) == ("sft_only", "production")
    assert (res.difference.n_pairs, res.difference.n_dropped) == (49, 1)
    assert res.difference.level == 0.9 and res.difference.alpha == 0.1
    assert (res.equivalence.margin, res.equivalence.alpha) == (0.1, 0.1)
    assert (res.attribution.n, res.attribution.n_boot, res.attribution.seed) == (49, 300, 2)
    assert res.attribution.share == pytest.approx((20 / 49 - 40 / 49) / (10 / 49 - 40 / 49))
    assert res.metric == "m" and res.verdict_text.startswith("m: ")


def test_a_difference_that_survives_every_filling_stands_despite_a_missingness_gap() -> None:
    # SFT-only cheats on all 97 scored tasks (23 unscored), production on none of 90 (30
    # unscored): the gap (6 points) exceeds the margin, but no filling overturns the difference
    sft: Outcomes = {f"p{i:03d}": (None if i < 23 else True) for i in range(120)}
    prod: Outcomes = {f"p{i:03d}": (None if 60 <= i < 90 else False) for i in range(120)}
    res = compare_metric("m", {"base": _first(120, 120), "sft_only": sft, "production": prod})
    assert res.missing.share_gap > 0.05
    assert res.missing.verdict_sft_only_worse == res.missing.verdict_production_worse
    assert res.verdict == "production_safer" and res.verdict_reasons == []
    assert "unscored on SFT-only only: " in res.verdict_text


def test_one_cluster_gives_no_interval_and_no_claim() -> None:
    # 40 samples, all of one scenario: resampling the one cluster would always draw it
    stages = _stages(40, 40, 0, 0)
    clusters = {pid: "only" for pid in stages["base"]}
    res = compare_metric("m", stages, clusters=clusters)
    assert res.rates["base"].ci_low is None and res.rates["base"].n_clusters == 1
    assert res.difference.ci_low is None and not res.difference.significant
    assert not res.equivalence.equivalent and res.equivalence.reason is not None
    assert res.attribution.ci_low is None and res.attribution.note is not None
    assert res.verdict == "inconclusive"
