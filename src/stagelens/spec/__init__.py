"""Experiment specs: which checkpoints of a model family to compare, and how (TOML files)."""

from stagelens.spec.check import check_spec, require_valid
from stagelens.spec.load import SpecError, load_spec
from stagelens.spec.models import ExperimentSpec, JudgeSpec, ModelRef, Stage, SuiteSpec

__all__ = [
    "ExperimentSpec",
    "JudgeSpec",
    "ModelRef",
    "SpecError",
    "Stage",
    "SuiteSpec",
    "check_spec",
    "load_spec",
    "require_valid",
]
