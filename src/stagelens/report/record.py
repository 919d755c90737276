"""The versioned run record written to ``results.json``.

A record is self-describing: it carries the configuration, the code and package
versions, seeds, data provenance, the rater's identity and, for every number,
its n, interval method and level, so that a reader needs nothing else to
interpret or reproduce it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, computed_field, field_validator, model_validator

# Record types every layer shares live at the bottom of the package (records.py) and the
# expectation check with the statistics; the run record's readers find them here too.
from stagelens.records import (
    AgreementRecord,
    CalibrationSummary,
    Provenance,
    RaterIdentity,
    StrictModel,
    TrainingRecord,
)
from stagelens.stats.expectations import (
    Expectation,
    ExpectationCheck,
    check_expectations,
    expectations_summary,
)
from stagelens.stats.types import MetricComparison

SCHEMA_VERSION = "1"


class StageRecord(StrictModel):
    """One stage of the run: its checkpoint, its training lineage and its suites' logs."""

    name: str  # "base", "sft_only", "production"
    description: str
    checkpoint: str  # path or hub id the suites evaluated
    config_hash: str | None = None
    parent: str | None = None  # stage it was trained from
    training: list[TrainingRecord] = Field(default_factory=list)
    logs: dict[str, str] = Field(default_factory=dict)  # suite -> Inspect .eval log (relative)


class SuiteRecord(StrictModel):
    """One suite (or one metric of a suite): what it counts, its data, its rater."""

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
    # a rate that is neither safer lower nor higher (evaluation awareness): the verdicts keep
    # their machine names ("production_safer" = production lower), the report says lower/higher
    neutral: bool = False
    # a suite's own figures beside the per-metric rates (ODCV: MR and mean severity per stage
    # with cluster-bootstrap intervals, judge against evidence); None for most suites
    summary: dict[str, Any] | None = None


class RunRecord(StrictModel):
    """A whole run as results.json holds it: configuration, versions, stages, suites, metrics."""

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
    # SFT mixture parts whose provenance says they were distilled from an RL-trained model:
    # SFT-only then carries RL's behaviour, and every attribution share says so
    sft_distilled_parts: list[str] = Field(default_factory=list)

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

    @property
    def expectations_contradicted(self) -> bool | None:
        """True when some verdict contradicts its expectation (not merely undecided for
        unscored answers or too few pairs); None when nothing was expected."""
        checks = self.expectation_checks
        return None if checks is None else any(not (c.met or c.abstained) for c in checks)

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


__all__ = [
    "SCHEMA_VERSION",
    "AgreementRecord",
    "CalibrationSummary",
    "Expectation",
    "ExpectationCheck",
    "Provenance",
    "RaterIdentity",
    "RunRecord",
    "StageRecord",
    "SuiteRecord",
    "TrainingRecord",
    "check_expectations",
    "expectations_summary",
]
