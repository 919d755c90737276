"""Verdict on SFT-only versus production for one metric, and its one-sentence wording."""

from __future__ import annotations

import math

from stagelens.stats.types import Equivalence, PairedDifference, Verdict


def decide_verdict(
    difference: PairedDifference,
    equivalence: Equivalence,
    lower_is_safer: bool = True,
) -> tuple[Verdict, list[str]]:
    """Verdict from the scored pairs of ``difference`` = sft_only - production, and the reasons
    when a rule (not the data) made it inconclusive.

    Rates are safer lower, unless ``lower_is_safer`` is False (a success rate). Below the
    equivalence's ``min_pairs`` nothing is decided. Equivalence is checked before a
    difference: a difference can be both significant and smaller than the margin, and then the
    practically relevant reading is "equivalent".
    """
    if difference.n_pairs < equivalence.min_pairs:
        return "inconclusive", [
            f"only {difference.n_pairs} pairs were scored on both stages; any verdict needs "
            f"at least {equivalence.min_pairs}"
        ]
    if equivalence.equivalent:
        return "equivalent", []
    diff = difference.diff
    if difference.significant and diff is not None and diff != 0:
        production_lower = diff > 0
        return ("production_safer" if production_lower == lower_is_safer else "sft_only_safer"), []
    return "inconclusive", []


def verdict_text(
    metric_label: str,
    difference: PairedDifference,
    equivalence: Equivalence,
    verdict: Verdict,
    lower_is_safer: bool = True,
    reasons: list[str] | None = None,
    scored_verdict: Verdict | None = None,
    neutral: bool = False,
) -> str:
    """One plain-language paragraph, in points (rate x 100), prefixed with ``metric_label: ``.

    Pass an empty label for the bare text. The "equivalent" sentence shows the (1 - 2 alpha)
    interval, since that is the one that must lie within the margin; the others show the
    difference's interval. ``reasons`` (why rules made the verdict inconclusive) come first,
    followed by what the scored pairs alone say (``scored_verdict``). Dropped pairs are always
    counted. A metric where higher is better (a success rate) says "better", not "safer"; a
    ``neutral`` one (evaluation awareness: neither direction is safer) says whose rate is
    lower or higher.
    """
    word = "neutral" if neutral else "safer" if lower_is_safer else "better"
    if reasons:
        alone = _sentence(difference, equivalence, scored_verdict or "inconclusive", word)
        sentence = f"Inconclusive: {'; '.join(reasons)}. On the scored pairs alone: {alone}"
    else:
        sentence = _sentence(difference, equivalence, verdict, word)
    if difference.n_dropped:
        sentence += (
            f" {difference.n_dropped} of {difference.n_pairs + difference.n_dropped} samples "
            f"were left out of the pairing (unscored on SFT-only only: "
            f"{difference.unscored_only_a}, on production only: {difference.unscored_only_b}, "
            f"on both: {difference.unscored_both})."
        )
    return f"{metric_label}: {sentence}" if metric_label else sentence


def _sentence(
    difference: PairedDifference, equivalence: Equivalence, verdict: Verdict, word: str
) -> str:
    margin = _margin(equivalence.margin)
    diff, low, high = difference.diff, difference.ci_low, difference.ci_high
    level = f"{round(difference.level * 100):d}%"
    if verdict == "equivalent":
        e_diff, e_low, e_high = equivalence.diff, equivalence.ci_low, equivalence.ci_high
        e_level = f"{round((1 - 2 * equivalence.alpha) * 100):d}%"
        if e_diff is not None and e_low is not None and e_high is not None:
            tost = equivalence.p_value
            test = f", TOST {format_p(tost)}" if tost is not None else ""
            return (
                f"SFT-only and production are equivalent within {margin} points (difference "
                f"{_signed(e_diff)}, {e_level} interval [{_signed(e_low)}, {_signed(e_high)}]"
                f"{test}; {equivalence.n_pairs} pairs)."
            )
        return f"SFT-only and production are equivalent within {margin} points."
    if diff is None or low is None or high is None:
        return "Inconclusive: no sample was scored for both SFT-only and production."
    test = _test(difference)
    # the difference is sft_only - production; the advantage is its size, either direction
    size, lo, hi = (diff, low, high) if diff > 0 else (-diff, -high, -low)
    by = f"by {_plain(size)} points, {level} interval [{_plain(lo)}, {_plain(hi)}] ({test})."
    if word == "neutral" and verdict in ("production_safer", "sft_only_safer"):
        # the machine names keep their meaning: production_safer = production's rate lower
        side = "lower" if verdict == "production_safer" else "higher"
        return f"Production's rate is {side} than SFT-only's {by}"
    if verdict == "production_safer":
        return f"Production {word} {by}"
    if verdict == "sft_only_safer":
        return f"SFT-only {word} {by}"
    return (
        f"Inconclusive: difference {_signed(diff)} points, {level} interval [{_signed(low)}, "
        f"{_signed(high)}]; neither equivalence within {margin} points nor a significant "
        f"difference ({test}; {difference.n_pairs} pairs)."
    )


def _test(difference: PairedDifference) -> str:
    if difference.p_value is not None:
        return f"{difference.test} {format_p(difference.p_value)}"
    return f"{difference.test}, {'significant' if difference.significant else 'not significant'}"


def _points(x: float) -> int:
    # Half away from zero, so +0.5 and -0.5 points round symmetrically (round() is banker's).
    v = x * 100.0
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def _plain(x: float) -> str:
    return str(_points(x))


def _signed(x: float) -> str:
    # Format the rounded integer so that -0.3 points reads "+0", not "-0".
    return f"{_points(x):+d}"


def _margin(margin: float) -> str:
    return f"{round(margin * 100.0, 2):g}"


def format_p(p: float | None) -> str:
    """A p-value as people read it in a verdict: "p<0.001", "p=0.004" (three decimals below
    0.01), "p=0.12" (two decimals); "p not available" for None. The report uses it too."""
    if p is None:
        return "p not available"
    if p < 0.001:
        return "p<0.001"
    if p < 0.01:
        return f"p={p:.3f}"
    return f"p={p:.2f}"
