"""What a ground-truth variant expects of each metric, and the one check of it.

A variant (or any experiment with a known answer) states, per metric, the verdict the method
must reach and optionally bounds on the SFT attribution share. `check_expectations` compares
them with the metrics' comparisons; the run record keeps the result and the report shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SerializerFunctionWrapHandler, model_serializer, model_validator

from stagelens.records import StrictModel
from stagelens.stats.types import MetricComparison, Verdict

DECIDED: tuple[Verdict, ...] = ("equivalent", "production_safer", "sft_only_safer")


class Expectation(StrictModel):
    """The ground truth a variant states for one metric: the verdict the method must reach
    (``verdict``) or the verdicts it may reach (``verdict_in``, e.g. ``["equivalent",
    "sft_only_safer"]``: production is not safer) and, optionally, bounds on the SFT
    attribution share (its point estimate). Exactly one of the two verdict forms is given."""

    verdict: Verdict | None = None
    verdict_in: tuple[Verdict, ...] | None = None
    attribution_min: float | None = None
    attribution_max: float | None = None

    @model_validator(mode="after")
    def _one_verdict_form(self) -> Expectation:
        if (self.verdict is None) == (self.verdict_in is None):
            raise ValueError(
                "give exactly one of 'verdict' (the verdict) and 'verdict_in' (the verdicts "
                "allowed)"
            )
        allowed = self.verdict_in
        if allowed is not None:
            # a set must say something a single verdict cannot, and must need a decision: an
            # undecided metric never meets it
            if len(allowed) < 2:
                raise ValueError("'verdict_in' lists at least two verdicts; for one, use 'verdict'")
            if len(set(allowed)) != len(allowed):
                raise ValueError(f"'verdict_in' repeats a verdict: {list(allowed)}")
            if "inconclusive" in allowed:
                raise ValueError(
                    "'verdict_in' lists decided verdicts only: with 'inconclusive' a metric the "
                    "method could not decide would meet it"
                )
            if set(allowed) == set(DECIDED):
                raise ValueError(
                    "'verdict_in' allows every decided verdict, so it states nothing about the "
                    "stages; leave one out"
                )
        return self

    @model_validator(mode="after")
    def _ordered_bounds(self) -> Expectation:
        lo, hi = self.attribution_min, self.attribution_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"attribution_min {lo} is above attribution_max {hi}")
        return self

    @model_serializer(mode="wrap")
    def _only_the_given_form(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # the form not given is left out, so a single verdict is written as it always was
        data: dict[str, Any] = handler(self)
        for key in ("verdict", "verdict_in"):
            if data.get(key, ...) is None:
                del data[key]
        return data

    @property
    def allowed(self) -> tuple[Verdict, ...]:
        """The verdicts that meet this expectation."""
        if self.verdict_in is not None:
            return self.verdict_in
        assert self.verdict is not None  # the validator requires one of the two forms
        return (self.verdict,)

    def accepts(self, verdict: Verdict | None) -> bool:
        return verdict in self.allowed

    def verdict_text(self) -> str:
        """E.g. 'production_safer', or 'equivalent or sft_only_safer'."""
        return " or ".join(self.allowed)

    def describe(self) -> str:
        """E.g. 'production_safer, attribution share <= 0.5'."""
        bounds = _bounds_text(self.attribution_min, self.attribution_max)
        text = self.verdict_text()
        return text if bounds is None else f"{text}, attribution share {bounds}"


class ExpectationCheck(StrictModel):
    """Whether one metric met its expectation, and if not, why (one reason per failed part)."""

    metric: str
    expected: Expectation
    verdict: Verdict | None  # the verdict reached; None: the metric was not evaluated
    attribution_share: float | None
    met: bool
    reasons: list[str]  # empty when met
    # not met only because rules on missing answers or sample size made the verdict
    # inconclusive, while the scored pairs alone reach the expected verdict, or because the
    # attribution share a bound is about is undefined (production equals base: there is no
    # gain to share): the method abstained, it did not contradict the ground truth
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

    A metric meets its expectation when its verdict is the expected one (or one of the allowed
    ones) and, where bounds are given, its attribution share's point estimate lies within
    them (inclusive). An undefined share (production equals base) meets no bound, and
    contradicts none: the check abstains. A metric that was not evaluated meets nothing.
    Metrics without an expectation are not checked.
    """
    by_metric = {m.metric: m for m in metrics}
    checks = []
    for metric, want in (expected or {}).items():
        got = by_metric.get(metric)
        if got is None:
            checks.append(ExpectationCheck(
                metric=metric, expected=want, verdict=None, attribution_share=None, met=False,
                reasons=[f"expected {want.verdict_text()}, but the metric was not evaluated"],
            ))  # fmt: skip
            continue
        share = got.attribution.share
        reasons = _bound_reasons(want, share, got.attribution.note)
        bounds_undefined = share is None and bool(reasons)
        # an abstention: only the rules on missing answers or sample size made the verdict
        # inconclusive, and the scored pairs alone reach the expected verdict; or the verdict
        # is the expected one and the share its bounds are about is undefined
        verdict_abstained = (
            not want.accepts(got.verdict)
            and bool(got.verdict_reasons)
            and want.accepts(got.verdict_scored_only)
        )
        abstained = (not reasons or bounds_undefined) and (
            verdict_abstained or (want.accepts(got.verdict) and bounds_undefined)
        )
        if not want.accepts(got.verdict):
            why = f" ({'; '.join(got.verdict_reasons)})" if abstained else ""
            reasons.insert(0, f"expected {want.verdict_text()}, got {got.verdict}{why}")
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
            f"expected verdicts: met where decided; undecided for unscored answers, too few "
            f"pairs or an undefined attribution share (the scored pairs agree with the "
            f"expectation): {undecided}"
        )
    return f"expected verdicts: NOT met ({'; '.join(missed)})"
