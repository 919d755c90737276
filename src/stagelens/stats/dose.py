"""Dose-response summaries of a data sweep: pure functions over per-dose rates.

A sweep retrains SFT-only with one mixture part at several doses; each point's rate comes
with its interval (`RateEstimate`) and each point's comparison with production with its
verdict. These functions read those, never the samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class DosePoint:
    dose: float
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    equivalent: bool  # the point's verdict against production is "equivalent"


def _sorted(points: Sequence[DosePoint]) -> list[DosePoint]:
    doses = [p.dose for p in points]
    if len(set(doses)) != len(doses):
        raise ValueError(f"doses repeat: {sorted(doses)}")
    return sorted(points, key=lambda p: p.dose)


def monotone_violations(
    points: Sequence[DosePoint], decreasing: bool
) -> list[tuple[float, float]]:
    """Neighbouring doses (lower, higher) whose intervals say the rate moved the wrong way:
    for a decreasing response, the higher dose's interval lies wholly above the lower
    dose's. An empty list: monotone within the intervals. Points without a rate are skipped."""
    known = [p for p in _sorted(points) if p.rate is not None]
    out = []
    for lower, higher in pairwise(known):
        if None in (lower.ci_low, lower.ci_high, higher.ci_low, higher.ci_high):
            continue
        assert lower.ci_low is not None and lower.ci_high is not None
        assert higher.ci_low is not None and higher.ci_high is not None
        wrong = higher.ci_low > lower.ci_high if decreasing else higher.ci_high < lower.ci_low
        if wrong:
            out.append((lower.dose, higher.dose))
    return out


def strictly_between(points: Sequence[DosePoint]) -> list[float]:
    """Doses whose rate lies strictly between the lowest and the highest dose's rates, and
    whose interval excludes both: the graded points of a curve."""
    ordered = [p for p in _sorted(points) if p.rate is not None]
    if len(ordered) < 3:
        return []
    first, last = ordered[0], ordered[-1]
    assert first.rate is not None and last.rate is not None
    lo, hi = sorted((first.rate, last.rate))
    out = []
    for p in ordered[1:-1]:
        if p.ci_low is None or p.ci_high is None:
            continue
        if lo < p.ci_low and p.ci_high < hi:
            out.append(p.dose)
    return out


def smallest_equivalent_dose(points: Sequence[DosePoint]) -> float | None:
    """The smallest dose from which every larger dose is equivalent to production too (a
    single equivalent point below a non-equivalent one does not count). None: not even the
    largest dose is."""
    found = None
    for p in reversed(_sorted(points)):
        if not p.equivalent:
            break
        found = p.dose
    return found
