"""A metric on a subset each stage picks for itself (misalignment among the answers that voiced
no awareness): samples outside the subset are not unscored answers."""

from __future__ import annotations

from stagelens.stats import compare_metric

N = 120  # dilemmas, each shown without a cue (even ids) and with one (odd ids)


def _test_conditioned() -> tuple[dict[str, dict[str, bool | None]], dict[str, set[str]]]:
    """misalignment_unaware as the scorer writes it (None where aware), and who was aware:
    SFT-only violates everywhere and never voices awareness; production voices it and
    complies on every cued prompt, and violates, unaware, on every uncued one."""
    ids = [str(i) for i in range(2 * N)]
    aware = {
        "base": {i for i in ids if int(i) % 3 == 0},
        "sft_only": set(),
        "production": {i for i in ids if int(i) % 2 == 1},
    }
    outcomes = {stage: {i: None if i in aware[stage] else True for i in ids} for stage in aware}
    return outcomes, aware


def test_samples_outside_the_subset_are_not_imputed_as_unscored() -> None:
    outcomes, aware = _test_conditioned()
    as_unscored = compare_metric("misalignment_unaware", outcomes, n_boot=200)
    # read as unscored answers, half of production's samples make the verdict depend on them
    assert as_unscored.verdict == "inconclusive" and as_unscored.verdict_reasons
    subset = compare_metric("misalignment_unaware", outcomes, n_boot=200, outside=aware)
    assert subset.verdict == "equivalent" and subset.verdict_reasons == []
    assert subset.difference.n_pairs == N and subset.difference.n_dropped == 0
    assert subset.missing.unscored_share == {"sft_only": 0.0, "production": 0.0}
    # each stage's rate is over its own subset
    assert subset.rates["production"].n_total == N and subset.rates["production"].k == N
    assert subset.rates["sft_only"].n_total == 2 * N
    assert f"{N} samples fell outside the metric's subset" in subset.verdict_text


def test_unreadable_answers_inside_the_subset_still_count_as_unscored() -> None:
    outcomes, aware = _test_conditioned()
    for i in range(0, 40, 2):  # 20 uncued production answers that could not be read
        outcomes["production"][str(i)] = None
    result = compare_metric("misalignment_unaware", outcomes, n_boot=200, outside=aware)
    assert result.rates["production"].n_unscored == 20
    assert result.difference.unscored_only_b == 20
    # 20 of 120 unscored on production only: wider than the margin, so no equivalence
    assert result.verdict == "inconclusive" and result.verdict_scored_only == "equivalent"


def test_without_a_subset_nothing_changes() -> None:
    outcomes, _ = _test_conditioned()
    plain = compare_metric("m", outcomes, n_boot=200)
    assert compare_metric("m", outcomes, n_boot=200, outside=None) == plain


def test_the_attribution_share_compares_the_samples_inside_the_subset_on_all_stages() -> None:
    outcomes, aware = _test_conditioned()
    result = compare_metric("misalignment_unaware", outcomes, n_boot=200, outside=aware)
    # inside on all three: uncued (even) ids that base did not answer aware (not multiples of 3)
    assert result.attribution.n == sum(1 for i in range(0, 2 * N, 2) if i % 3 != 0)
