"""Verdict on SFT-only versus production for one metric, and its one-sentence wording."""

from __future__ import annotations

import math

from stagelens.stats.types import Equivalence, PairedDifference, Verdict


def decide_verdict(
    difference: PairedDifference,
    equivalence: Equivalence,
    alpha: float = 0.05,
    lower_is_safer: bool = True,
) -> Verdict:
    """Verdict for ``difference`` = sft_only - production (lower rates are safer, unless
    ``lower_is_safer`` is False, as for a success rate).

    Equivalence is checked first: a difference can be both statistically significant and
    smaller than the margin, and then the practically relevant reading is "equivalent".
    """
    if equivalence.equivalent:
        return "equivalent"
    p = difference.mcnemar_p
    diff = difference.diff
    if p is not None and p < alpha and diff is not None and diff != 0:
        production_lower = diff > 0
        return "production_safer" if production_lower == lower_is_safer else "sft_only_safer"
    return "inconclusive"


def verdict_text(
    metric_label: str,
    difference: PairedDifference,
    equivalence: Equivalence,
    verdict: Verdict,
    lower_is_safer: bool = True,
) -> str:
    """One plain-language sentence, in points (rate x 100), prefixed with ``metric_label: ``.

    Pass an empty label for the bare sentence. The "equivalent" sentence shows the (1 - 2 alpha)
    TOST interval, since that is the interval that must lie within the margin; the others show
    the bootstrap interval of the difference. A metric where higher is better (a success rate)
    says "better", not "safer".
    """
    sentence = _sentence(difference, equivalence, verdict, "safer" if lower_is_safer else "better")
    return f"{metric_label}: {sentence}" if metric_label else sentence


def _sentence(
    difference: PairedDifference, equivalence: Equivalence, verdict: Verdict, word: str
) -> str:
    margin = _margin(equivalence.margin)
    diff, low, high = difference.diff, difference.ci_low, difference.ci_high
    if verdict == "equivalent":
        e_diff, e_low, e_high = equivalence.diff, equivalence.ci_low, equivalence.ci_high
        if e_diff is not None and e_low is not None and e_high is not None:
            return (
                f"SFT-only and production are equivalent within {margin} points (difference "
                f"{_signed(e_diff)} [{_signed(e_low)}, {_signed(e_high)}], "
                f"TOST {_p(equivalence.p_value)})."
            )
        return f"SFT-only and production are equivalent within {margin} points."
    if diff is None or low is None or high is None:
        return "Inconclusive: no prompt was scored for both SFT-only and production."
    mcnemar = f"McNemar {_p(difference.mcnemar_p)}"
    # the difference is sft_only - production; the advantage is its size, either direction
    size, lo, hi = (diff, low, high) if diff > 0 else (-diff, -high, -low)
    by = f"by {_plain(size)} points [{_plain(lo)}, {_plain(hi)}] ({mcnemar})."
    if verdict == "production_safer":
        return f"Production {word} {by}"
    if verdict == "sft_only_safer":
        return f"SFT-only {word} {by}"
    return (
        f"Inconclusive: difference {_signed(diff)} points [{_signed(low)}, {_signed(high)}]; "
        f"neither equivalence within {margin} points nor a significant difference ({mcnemar})."
    )


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


def _p(p: float | None) -> str:
    if p is None:
        return "p not available"
    if p < 0.001:
        return "p<0.001"
    if p < 0.01:
        return f"p={p:.3f}"
    return f"p={p:.2f}"
