"""What a ground-truth variant expects of each metric, and the one check of it.

A variant (or any experiment with a known answer) states, per metric, the verdict the method
must reach and optionally bounds on the SFT attribution share. `check_expectations` compares
them with the metrics' comparisons; the run record keeps the result and the report shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import model_validator

from stagelens.records import StrictModel
from stagelens.stats.types import MetricComparison, Verdict


class Expectation(StrictModel):
    """The ground truth a variant states for one metric: the verdict the method must reach
    and, optionally, bounds on the SFT attribution share (its point estimate)."""

    verdict: Verdict
    attribution_min: float | None = None
    attribution_max: float | None = None

    @model_validator(mode="after")
    def _ordered_bounds(self) -> Expectation:
        lo, hi = self.attribution_min, self.attribution_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"attribution_min {lo} is above attribution_max {hi}")
        return self

    def describe(self) -> str:
        """E.g. 'production_safer, attribution share <= 0.5'."""
        bounds = _bounds_text(self.attribution_min, self.attribution_max)
        return self.verdict if bounds is None else f"{self.verdict}, attribution share {bounds}"


class ExpectationCheck(StrictModel):
    """Whether one metric met its expectation, and if not, why (one reason per failed part)."""

    metric: str
    expected: Expectation
    verdict: Verdict | None  # the verdict reached; None: the metric was not evaluated
    attribution_share: float | None
    met: bool
    reasons: list[str]  # empty when met
    # not met only because rules on missing answers or sample size made the verdict
    # inconclusive, while the scored pairs alone reach the expected verdict: the method
    # abstained, it did not contradict the ground truth
    abstained: bool = False


def _num(x: float) -> str:
    return f"{x:.3g}"


def _bounds_text(lo: float | None, hi: float | None) -> str | None:
    if lo is not None and hi is not None:
        return f"in [{_num(lo)}, {_num(hi)}]"
    if lo is not None:
        return f">= {_num(lo)}"
    if hi is not None:
        return f"<= {_num(hi)}"
    return None


def check_expectations(
    metrics: Sequence[MetricComparison], expected: Mapping[str, Expectation] | None
) -> list[ExpectationCheck]:
    """Check every expectation against the metrics: the one place this check is made.

    A metric meets its expectation when its verdict equals the expected one and, where bounds
    are given, its attribution share's point estimate lies within them (inclusive). An
    undefined share (production equals base) meets no bound; a metric that was not evaluated
    meets nothing. Metrics without an expectation are not checked.
    """
    by_metric = {m.metric: m for m in metrics}
    checks = []
    for metric, want in (expected or {}).items():
        got = by_metric.get(metric)
        if got is None:
            checks.append(ExpectationCheck(
                metric=metric, expected=want, verdict=None, attribution_share=None, met=False,
                reasons=[f"expected {want.verdict}, but the metric was not evaluated"],
            ))  # fmt: skip
            continue
        share = got.attribution.share
        reasons = _bound_reasons(want, share, got.attribution.note)
        # an abstention: only the rules on missing answers or sample size made the verdict
        # inconclusive, and the scored pairs alone reach the expected verdict
        abstained = (
            not reasons
            and got.verdict != want.verdict
            and bool(got.verdict_reasons)
            and got.verdict_scored_only == want.verdict
        )
        if got.verdict != want.verdict:
            why = f" ({'; '.join(got.verdict_reasons)})" if abstained else ""
            reasons.insert(0, f"expected {want.verdict}, got {got.verdict}{why}")
        checks.append(ExpectationCheck(
            metric=metric, expected=want, verdict=got.verdict, attribution_share=share,
            met=not reasons, reasons=reasons, abstained=abstained,
        ))  # fmt: skip
    return checks


def _bound_reasons(want: Expectation, share: float | None, note: str | None) -> list[str]:
    """Why the attribution share misses the expected bounds (empty when it meets them)."""
    bounds = _bounds_text(want.attribution_min, want.attribution_max)
    lo, hi = want.attribution_min, want.attribution_max
    if bounds is None:
        return []
    if share is None:
        why = f" ({note})" if note else ""
        return [f"attribution share undefined{why}, expected {bounds}"]
    if lo is not None and hi is not None and not lo <= share <= hi:
        return [f"attribution share {_num(share)} outside [{_num(lo)}, {_num(hi)}]"]
    if lo is None and hi is not None and share > hi:
        return [f"attribution share {_num(share)} above the maximum {_num(hi)}"]
    if hi is None and lo is not None and share < lo:
        return [f"attribution share {_num(share)} below the minimum {_num(lo)}"]
    return []


def expectations_summary(checks: Sequence[ExpectationCheck]) -> str | None:
    """One line for a person: 'expected verdicts: met'; 'expected verdicts: met where decided;
    undecided ...: metric, ...' when the method only abstained (see `ExpectationCheck`); or
    'expected verdicts: NOT met (metric: reason; ...)' naming the metrics that missed. None
    when nothing was expected."""
    if not checks:
        return None
    missed = [f"{c.metric}: {', '.join(c.reasons)}" for c in checks if not c.met]
    if not missed:
        return "expected verdicts: met"
    if all(c.met or c.abstained for c in checks):
        undecided = ", ".join(c.metric for c in checks if c.abstained)
        return (
            f"expected verdicts: met where decided; undecided for unscored answers or too few "
            f"pairs (the scored pairs agree with the expectation): {undecided}"
        )
    return f"expected verdicts: NOT met ({'; '.join(missed)})"
