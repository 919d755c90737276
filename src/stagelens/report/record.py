"""The versioned run record written to ``results.json``.

A record is self-describing: it carries the configuration, the code and package
versions, seeds, data provenance, the rater's identity and, for every number,
its n, interval method and level, so that a reader needs nothing else to
interpret or reproduce it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from stagelens.stats.types import MetricComparison, Verdict

SCHEMA_VERSION = "1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provenance(_Strict):
    """Where a dataset came from and under what terms it may be used."""

    name: str
    source: str  # e.g. "stagelens organism generator" or a file path / hub id
    licence: str
    sha256: str | None = None  # hash of the file or of the generated content
    n: int | None = None
    notes: str | None = None


class RaterIdentity(_Strict):
    name: str
    version: str
    kind: Literal["exact", "string_match", "classifier", "llm_judge", "panel", "detectors"]
    description: str


class TrainingRecord(_Strict):
    method: str  # "pretrain", "sft", "dpo", ...
    seed: int
    steps: int
    seconds: float
    final_loss: float | None
    config: dict[str, Any]
    data: Provenance


class StageRecord(_Strict):
    name: str  # "base", "sft_only", "production"
    description: str
    checkpoint: str  # path or hub id the suites evaluated
    config_hash: str | None = None
    parent: str | None = None  # stage it was trained from
    training: list[TrainingRecord] = Field(default_factory=list)
    logs: dict[str, str] = Field(default_factory=dict)  # suite -> Inspect .eval log (relative)


class AgreementRecord(_Strict):
    """How far a panel's judges agreed on one suite's answers."""

    judges: list[str]
    n_items: int  # answers at least two judges scored
    level: str  # Krippendorff level used for the labels
    krippendorff_alpha: float | None  # None: undefined (e.g. a single label throughout)
    fleiss_kappa: float | None  # over answers every judge scored
    percent_agreement: float | None  # answers where all judges gave the same label
    unscored_by_judge: dict[str, int]


class CalibrationSummary(_Strict):
    """A rater's agreement with human labels (from `stagelens calibrate`)."""

    file: str
    sha256: str
    n: int
    n_unscored: int
    three_way_accuracy: float | None
    three_way_kappa: float | None
    binary_accuracy: float | None
    binary_kappa: float | None


class SuiteRecord(_Strict):
    name: str  # e.g. "unsafe_response"
    metric: str  # e.g. "unsafe_response_rate"
    description: str  # what the metric counts, in plain words
    lower_is_safer: bool
    n_prompts: int
    data: Provenance
    generation: dict[str, Any]  # max_tokens, temperature, ...
    rater: RaterIdentity | None = None  # None in records older than per-suite raters
    calibration: CalibrationSummary | None = None
    agreement: AgreementRecord | None = None  # panels of judges only


class Expectation(BaseModel):
    """The ground truth a variant states for one metric: the verdict the method must reach
    and, optionally, bounds on the SFT attribution share (its point estimate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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


class ExpectationCheck(_Strict):
    """Whether one metric met its expectation, and if not, why (one reason per failed part)."""

    metric: str
    expected: Expectation
    verdict: Verdict | None  # the verdict reached; None: the metric was not evaluated
    attribution_share: float | None
    met: bool
    reasons: list[str]  # empty when met


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
        reasons: list[str] = []
        share = got.attribution.share if got is not None else None
        if got is None:
            reasons.append(f"expected {want.verdict}, but the metric was not evaluated")
        else:
            if got.verdict != want.verdict:
                reasons.append(f"expected {want.verdict}, got {got.verdict}")
            bounds = _bounds_text(want.attribution_min, want.attribution_max)
            if bounds is not None:
                lo, hi = want.attribution_min, want.attribution_max
                if share is None:
                    why = f" ({got.attribution.note})" if got.attribution.note else ""
                    reasons.append(f"attribution share undefined{why}, expected {bounds}")
                elif lo is not None and hi is not None and not lo <= share <= hi:
                    reasons.append(
                        f"attribution share {_num(share)} outside [{_num(lo)}, {_num(hi)}]"
                    )
                elif lo is None and hi is not None and share > hi:
                    reasons.append(f"attribution share {_num(share)} above the maximum {_num(hi)}")
                elif hi is None and lo is not None and share < lo:
                    reasons.append(f"attribution share {_num(share)} below the minimum {_num(lo)}")
        checks.append(
            ExpectationCheck(
                metric=metric,
                expected=want,
                verdict=got.verdict if got is not None else None,
                attribution_share=share,
                met=not reasons,
                reasons=reasons,
            )
        )
    return checks


def expectations_summary(checks: Sequence[ExpectationCheck]) -> str | None:
    """One line for a person: 'expected verdicts: met' or 'expected verdicts: NOT met (metric:
    reason; ...)' naming only the metrics that missed; None when nothing was expected."""
    if not checks:
        return None
    missed = [f"{c.metric}: {', '.join(c.reasons)}" for c in checks if not c.met]
    if not missed:
        return "expected verdicts: met"
    return f"expected verdicts: NOT met ({'; '.join(missed)})"


class RunRecord(_Strict):
    schema_version: str = SCHEMA_VERSION
    name: str
    created_at: str  # ISO 8601, UTC
    stagelens_version: str
    git_revision: str | None
    python: str
    packages: dict[str, str]
    command: str
    config: dict[str, Any]  # the experiment's full configuration (variant included)
    seeds: dict[str, int]
    stages: list[StageRecord]
    suites: list[SuiteRecord]
    rater: RaterIdentity
    metrics: list[MetricComparison]
    expected: dict[str, Expectation] | None = None  # ground truth, where the experiment has one
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per phase

    @computed_field  # type: ignore[prop-decorator]
    @property
    def expectation_checks(self) -> list[ExpectationCheck] | None:
        """Each expectation checked against the metrics (None: nothing was expected).

        Derived, never stored state: it is written to results.json for its readers, recomputed
        from ``metrics`` and ``expected`` on every read, so a copy with new metrics (a re-score)
        can never carry a stale check.
        """
        return check_expectations(self.metrics, self.expected) if self.expected else None

    @property
    def expectations_met(self) -> bool | None:
        """True when every expectation was met; None when nothing was expected."""
        checks = self.expectation_checks
        return None if checks is None else all(c.met for c in checks)

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        # results.json holds the derived checks too; they are recomputed, not read back
        if isinstance(data, dict) and "expectation_checks" in data:
            data = {k: v for k, v in data.items() if k != "expectation_checks"}
        return data

    @field_validator("expected", mode="before")
    @classmethod
    def _bare_verdicts(cls, value: Any) -> Any:
        # records written before attribution bounds were kept hold a bare verdict per metric
        if isinstance(value, dict):
            return {k: {"verdict": v} if isinstance(v, str) else v for k, v in value.items()}
        return value
