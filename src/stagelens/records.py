"""Record types every layer shares, and the strict base of every stagelens data model.

This module is at the bottom of the package: it imports nothing of stagelens, so benchmarks,
raters, training and the organism can describe their data (`Provenance`), who rated it
(`RaterIdentity`) and how a checkpoint was trained (`TrainingRecord`) without depending on
the report that eventually prints them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of stagelens's data models: an unknown field is an error and instances are frozen.

    A typo in a spec, a variant or a record (``pth`` for ``path``) then fails where it is
    read instead of silently taking a default, and a value handed to another layer cannot be
    changed under it (use ``model_copy(update=...)`` for a changed copy).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(StrictModel):
    """Where a dataset came from and under what terms it may be used."""

    name: str
    source: str  # e.g. "stagelens organism generator" or a file path / hub id
    licence: str
    sha256: str | None = None  # hash of the file or of the generated content
    n: int | None = None
    notes: str | None = None


class RaterIdentity(StrictModel):
    """Who or what labelled the answers: a rater's name and version, its kind, in plain words."""

    name: str
    version: str
    kind: Literal["exact", "string_match", "classifier", "llm_judge", "panel", "detectors"]
    description: str
    # the data its rules were tuned or its weights fitted on: figures on that data are not
    # held out ("" in records written before stagelens said it)
    developed_on: str = ""


class TrainingRecord(StrictModel):
    """One training step of a checkpoint's lineage: method, seed, steps, time, loss, data."""

    method: str  # "pretrain", "sft", "dpo", ...
    seed: int
    steps: int
    seconds: float
    final_loss: float | None
    config: dict[str, Any]
    data: Provenance


class AgreementRecord(StrictModel):
    """How far a panel's judges agreed on one suite's answers."""

    judges: list[str]
    n_items: int  # answers at least two judges scored
    level: str  # Krippendorff level used for the labels
    krippendorff_alpha: float | None  # None: undefined (e.g. a single label throughout)
    fleiss_kappa: float | None  # over answers every judge scored
    percent_agreement: float | None  # answers where all judges gave the same label
    unscored_by_judge: dict[str, int]


class CalibrationSummary(StrictModel):
    """A rater's agreement with human labels (from `stagelens calibrate`)."""

    file: str
    sha256: str
    n: int
    n_unscored: int
    three_way_accuracy: float | None
    three_way_kappa: float | None
    binary_accuracy: float | None
    binary_kappa: float | None


__all__ = [
    "AgreementRecord",
    "CalibrationSummary",
    "Provenance",
    "RaterIdentity",
    "StrictModel",
    "TrainingRecord",
]
