"""The versioned run record written to ``results.json``.

A record is self-describing: it carries the configuration, the code and package
versions, seeds, data provenance, the rater's identity and, for every number,
its n, interval method and level, so that a reader needs nothing else to
interpret or reproduce it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    expected: dict[str, Verdict] | None = None  # ground truth, where the experiment has one
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per phase
