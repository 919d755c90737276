"""Dose-response summaries: monotonicity within intervals, graded points, the smallest
equivalent dose."""

from __future__ import annotations

import pytest

from stagelens.stats.dose import (
    DosePoint,
    monotone_violations,
    smallest_equivalent_dose,
    strictly_between,
)


def _p(dose: float, rate: float, half: float = 0.03, eq: bool = False) -> DosePoint:
    return DosePoint(dose, rate, max(0.0, rate - half), min(1.0, rate + half), eq)


def test_a_decreasing_curve_with_noise_inside_its_intervals_is_monotone() -> None:
    points = [_p(0, 0.9), _p(0.1, 0.6), _p(0.25, 0.62), _p(0.5, 0.2), _p(1, 0.01)]
    assert monotone_violations(points, decreasing=True) == []
    # the order the points come in does not matter
    assert monotone_violations(points[::-1], decreasing=True) == []


def test_a_rise_beyond_the_intervals_is_reported() -> None:
    points = [_p(0, 0.9), _p(0.1, 0.3), _p(0.25, 0.5), _p(1, 0.0)]
    assert monotone_violations(points, decreasing=True) == [(0.1, 0.25)]
    assert monotone_violations(points, decreasing=False) == [(0, 0.1), (0.25, 1)]


def test_graded_points_lie_strictly_between_the_extremes() -> None:
    points = [_p(0, 0.9), _p(0.05, 0.88), _p(0.1, 0.5), _p(0.25, 0.2), _p(0.5, 0.02), _p(1, 0)]
    # 0.05's interval reaches the top extreme, 0.5's the bottom one
    assert strictly_between(points) == [0.1, 0.25]
    assert strictly_between(points[:2]) == []


def test_the_smallest_equivalent_dose_needs_every_larger_dose_equivalent() -> None:
    points = [_p(0, 0.9), _p(0.1, 0.0, eq=True), _p(0.25, 0.3), _p(0.5, 0.0, eq=True),
              _p(1, 0.0, eq=True)]  # fmt: skip
    assert smallest_equivalent_dose(points) == 0.5
    assert smallest_equivalent_dose([_p(0, 0.9), _p(1, 0.5)]) is None


def test_repeated_doses_are_an_error() -> None:
    with pytest.raises(ValueError, match="doses repeat"):
        smallest_equivalent_dose([_p(0.5, 0.1), _p(0.5, 0.2)])
