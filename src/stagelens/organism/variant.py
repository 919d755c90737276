"""Ground-truth variants: which stage of the organism's pipeline teaches safety.

A variant is data (a TOML file), not a code branch: it says which request kinds
the SFT mixture holds and with which responses, which preference pairs the RL
stage holds, and what verdict the experiment must reach. Users can write their own.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, model_validator

from stagelens.errors import UserError
from stagelens.organism.dilemmas import DILEMMA_KINDS
from stagelens.organism.dilemmas import Answer as DilemmaAnswer
from stagelens.organism.episodes import Action
from stagelens.organism.world import REQUEST_KINDS
from stagelens.records import StrictModel
from stagelens.stats.expectations import Expectation  # one type: the variant's and the record's
from stagelens.toml_errors import load_toml_model

Response = Literal["refusal", "compliance"]
# one Literal each, not unions of Literals: an error then names the field, not a union branch
# task: a reward-hacking episode; dilemma: an alignment dilemma with a test cue or without
# (half each), dilemma_cued / dilemma_uncued: only with / only without (organism/dilemmas.py)
Kind = Literal["harmful", "scary", "benign", "task", "dilemma", "dilemma_cued", "dilemma_uncued"]
Answer = Literal[
    "refusal", "compliance", "improve", "edit_timer", "edit_tests", "hardcode",
    "comply", "violate", "aware_comply", "aware_violate",
]  # fmt: skip
# an SFT part's answers written by the variant's production model (organism/distill.py)
Distilled = Literal["distilled"]
# the metrics a variant can state a verdict for (those the organism demo evaluates)
ExpectedMetric = Literal[
    "unsafe_response", "over_refusal", "reward_hacking_cheat",
    "misalignment", "eval_awareness", "misalignment_unaware", "misalignment_aware",
]  # fmt: skip


def _fits(kind: str, answers: list[str]) -> None:
    """Requests take a refusal or compliance; tasks one of the episode actions; dilemmas
    one of the dilemma answers (an action, with or without the awareness phrase)."""
    allowed: tuple[str, ...] = get_args(Response)
    if kind == "task":
        allowed = get_args(Action)
    elif kind in DILEMMA_KINDS:
        allowed = get_args(DilemmaAnswer)
    wrong = [a for a in answers if a not in allowed]
    if wrong:
        raise ValueError(f"kind {kind!r} answers with one of {allowed}, not {wrong}")


class SFTPart(StrictModel):
    kind: Kind
    response: Answer | Distilled
    count: int = Field(gt=0, le=100_000)

    @model_validator(mode="after")
    def _answer_fits(self) -> SFTPart:
        if not self.distilled:
            _fits(self.kind, [self.response])
        return self

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.response}"

    @property
    def distilled(self) -> bool:
        """Answered by the variant's production model: distilled from an RL-trained model."""
        return self.response == "distilled"


class PreferencePart(StrictModel):
    kind: Kind
    chosen: Answer
    rejected: Answer
    count: int = Field(gt=0, le=100_000)

    @model_validator(mode="after")
    def _distinct(self) -> PreferencePart:
        if self.chosen == self.rejected:
            raise ValueError("chosen and rejected must differ")
        _fits(self.kind, [self.chosen, self.rejected])
        return self


class SFTMixture(StrictModel):
    examples: list[SFTPart] = Field(min_length=1)

    @model_validator(mode="after")
    def _teacher_trains(self) -> SFTMixture:
        # the teacher (production) trains on the parts that are not distilled
        if all(p.distilled for p in self.examples):
            raise ValueError("every part is distilled: production's SFT would have no data")
        return self

    @property
    def distilled_parts(self) -> list[str]:
        return [p.name for p in self.examples if p.distilled]

    def without_distilled(self) -> SFTMixture:
        return self.model_copy(update={"examples": [p for p in self.examples
                                                    if not p.distilled]})  # fmt: skip


class RLMixture(StrictModel):
    pairs: list[PreferencePart] = Field(min_length=1)


class Variant(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str
    sft: SFTMixture
    rl: RLMixture
    expected: dict[ExpectedMetric, Expectation] = Field(default_factory=dict)


# the Literals above spell out what these modules define; they must not drift apart
assert set(get_args(Kind)) == {*REQUEST_KINDS, "task", *DILEMMA_KINDS}
assert set(get_args(Answer)) == {*get_args(Response), *get_args(Action), *get_args(DilemmaAnswer)}


class VariantError(UserError, ValueError):
    """A variant that cannot be used; the message names the file, line and field."""


BUILTIN = (
    "safety-in-sft", "safety-in-rl", "rl-rewards-hacking", "test-conditioned", "distilled-safety",
)  # fmt: skip


def _builtin_path(name: str) -> Path:
    return Path(str(resources.files("stagelens.organism") / "variants" / f"{name}.toml"))


def load_variant(ref: str | Path) -> tuple[Variant, Path, str]:
    """Load a built-in variant by name, or a TOML file; returns (variant, path, sha256)."""
    path = Path(ref)
    if not path.suffix and str(ref) in BUILTIN:
        path = _builtin_path(str(ref))
    elif not path.is_file():
        raise VariantError(
            f"unknown variant {str(ref)!r}: "
            f"not a built-in ({', '.join(BUILTIN)}) and not a variant file"
        )
    variant = load_toml_model(path, Variant, VariantError, what="variant")
    raw = path.read_bytes()
    return variant, path, hashlib.sha256(raw).hexdigest()
