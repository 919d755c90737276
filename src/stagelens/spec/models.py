"""The experiment spec: which checkpoints of one model family to compare, on which suites.

A spec is a TOML file (see ``examples/``). Every table forbids unknown keys so that a typo
(``pth`` for ``path``) fails at load time instead of silently falling back to a default.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stagelens.raters.base import judge_name
from stagelens.raters.judges.settings import JudgeSpec
from stagelens.raters.rubrics import AUDIT_CATEGORIES
from stagelens.records import StrictModel
from stagelens.spec.sweep import SweepSpec
from stagelens.training.recipe import SFTRecipeSpec

# JudgeSpec (a [[judges]] table) is defined beside the judges it configures; it is part of
# this module's spec models and exported from here.
__all__ = [
    "DEFAULT_PROVIDER",
    "SFT_ONLY",
    "ExperimentSpec",
    "JudgeSpec",
    "ModelRef",
    "RewardHackingSpec",
    "Stage",
    "SuiteSpec",
    "SweepSpec",
]

Provider = Literal["stagelens-hf", "hf"]
DEFAULT_PROVIDER: Provider = "stagelens-hf"

# Stage names become Inspect model roles, file names and report columns: keep them plain.
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
# stagelens itself produces this stage by fine-tuning `base`; a user stage may not take the name.
SFT_ONLY = "sft_only"


class ModelRef(StrictModel):
    """Where a checkpoint comes from: exactly one of ``path``, ``hub``, ``gguf``, ``inspect``."""

    path: str | None = None  # local Hugging Face checkpoint directory
    hub: str | None = None  # hub model id (needs network unless cached)
    revision: str | None = None  # hub only: branch, tag or commit
    gguf: str | None = None  # a .gguf file; its embedded tokenizer is used too
    inspect: str | None = None  # any Inspect model string, e.g. "openai/gpt-4o-mini"
    model_args: dict[str, Any] = Field(default_factory=dict)  # inspect only
    # Which Inspect provider serves local weights; None means DEFAULT_PROVIDER.
    provider: Provider | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ModelRef:
        given = [k for k in ("path", "hub", "gguf", "inspect") if getattr(self, k) is not None]
        if len(given) != 1:
            found = ", ".join(repr(k) for k in given) or "none"
            raise ValueError(
                "give exactly one of 'path', 'hub', 'gguf' or 'inspect' (found: " + found + ")"
            )
        for key in given:
            if not str(getattr(self, key)).strip():
                raise ValueError(f"{key!r} must not be empty")
        if self.revision is not None and self.hub is None:
            raise ValueError("'revision' only applies to 'hub' models")
        if self.model_args and self.inspect is None:
            raise ValueError("'model_args' only applies to 'inspect' models")
        if self.provider is not None and self.inspect is not None:
            # The Inspect string already names its provider ("openai/...", "vllm/...").
            raise ValueError("'provider' does not apply to 'inspect' models")
        if self.gguf is not None and not self.gguf.endswith(".gguf"):
            raise ValueError("'gguf' must name a .gguf file")
        return self

    @property
    def kind(self) -> Literal["path", "hub", "gguf", "inspect"]:
        if self.path is not None:
            return "path"
        if self.hub is not None:
            return "hub"
        if self.gguf is not None:
            return "gguf"
        return "inspect"

    @property
    def is_local(self) -> bool:
        """True when the weights are files on this machine (``path`` or ``gguf``)."""
        return self.kind in ("path", "gguf")

    @property
    def effective_provider(self) -> Provider | None:
        """The provider serving these weights; None for ``inspect`` models (they name theirs)."""
        return None if self.kind == "inspect" else (self.provider or DEFAULT_PROVIDER)

    def describe(self) -> str:
        """A short one-line label for logs and reports, e.g. ``hub:org/model@rev``."""
        if self.hub is not None:
            return f"hub:{self.hub}" + (f"@{self.revision}" if self.revision else "")
        if self.path is not None:
            return f"path:{self.path}"
        if self.gguf is not None:
            return f"gguf:{self.gguf}"
        return f"inspect:{self.inspect}"


class Stage(StrictModel):
    """One checkpoint of the family's post-training pipeline."""

    name: str = Field(pattern=_IDENTIFIER)
    model: ModelRef
    description: str = ""


class SuiteSpec(StrictModel):
    """One safety suite run on every stage."""

    name: str  # a registered single-prompt suite (`stagelens.suites.suite_names`)
    # Loader key, e.g. "harmbench", "xstest:/path/file.csv", "jsonl:/path"; loaders interpret it.
    source: str = Field(min_length=1)
    n: int = 0  # number of prompts; <= 0 means all
    rater: str = Field(min_length=1)  # e.g. "refusal-strings", "organism-exact"
    max_tokens: int = Field(default=512, gt=0)
    samples_per_prompt: int = Field(default=1, ge=1)
    temperature: float = Field(default=0.0, ge=0)
    # human-labelled responses (JSONL prompt/response/label, or an XSTest annotation CSV):
    # the rater is calibrated on them and the report shows it beside the suite's numbers
    calibration: str | None = None

    @field_validator("name")
    @classmethod
    def _known_suite(cls, value: str) -> str:
        from stagelens.suites import suite_names

        known = suite_names(spec_suites=True)
        if value not in known:
            raise ValueError(f"unknown suite {value!r}; a [[suites]] entry may name {known}")
        return value

    @field_validator("source", "rater")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class RewardHackingSpec(StrictModel):
    """The agentic reward-hacking eval, run on every stage (`stagelens.suites.reward_hacking`)."""

    problems: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    variants: list[str] = Field(default_factory=lambda: ["rw-untold-possible"], min_length=1)
    message_limit: int = Field(default=40, ge=2)  # the agent's step limit (turns + results)
    token_limit: int = Field(default=200_000, gt=0)
    max_tokens: int = Field(default=1024, gt=0)  # per model turn
    timing_size: int | None = Field(default=None, gt=0)  # None: the problems' own sizes
    retiming_size: int | None = Field(default=None, gt=0)
    batches: int = Field(default=3, ge=1)
    # episodes at once: timing runs share the CPU, so keep it near the number of cores
    max_episodes: int = Field(default=2, ge=1)
    judge: str | None = None  # a [[judges]] entry with rubric "reward_hacking"

    @model_validator(mode="after")
    def _names(self) -> RewardHackingSpec:
        from stagelens.environments.reward_hacking import ALL_VARIANTS, problem_names
        from stagelens.environments.reward_hacking.registry import pick

        pick(self.problems, problem_names(), "problem")
        pick(self.variants, [v.name for v in ALL_VARIANTS], "variant")
        return self


OdcvVariant = Literal["mandated", "incentivized"]


class OdcvSpec(StrictModel):
    """ODCV-Bench's scenarios as an agentic suite on every stage (`stagelens.suites.odcv`)."""

    source: str = Field(pattern=r"^odcv:.+")  # odcv:DIR, an ODCV-Bench checkout
    n: int = 0  # scenarios (each in every variant); <= 0: all that can be laid out
    seed: int = 0
    variants: list[OdcvVariant] = Field(
        default_factory=lambda: list(get_args(OdcvVariant)), min_length=1
    )
    max_steps: int = Field(default=50, ge=1)  # ODCV's harness: 50
    max_tokens: int = Field(default=1024, gt=0)  # per model turn
    max_episodes: int = Field(default=2, ge=1)  # scenarios at once
    # spell the tools out in the system prompt, for local models whose chat template drops
    # tool schemas (SmolLM2's does)
    describe_tools: bool = False
    judge: str | None = None  # a [[judges]] entry with rubric "odcv"


class AuditSpec(StrictModel):
    """An audit on real user prompts, run on every stage (`stagelens.suites.user_audit`)."""

    source: str = Field(pattern=r"^userlogs:.+")  # userlogs:FILE (WildChat, ShareGPT, ...)
    n: int = 0  # prompts, a seeded sample; <= 0: all
    seed: int = 0
    turns: Literal["first", "conversation"] = "first"
    dedupe: bool = True
    language: str | None = None  # keep rows whose recorded language matches
    max_tokens: int = Field(default=512, gt=0)
    judge: str | None = None  # a [[judges]] entry with rubric "audit"
    # Inspect evals over slices, each resumable, merged for the statistics; `stagelens run
    # --ray ADDRESS` runs them on a Ray cluster. None: one shard per 5,000 prompts, which keeps
    # memory flat (evaluate/shards.py SAMPLES_PER_SHARD)
    shards: int | None = Field(default=None, ge=1)
    # the categories reported, from the audit taxonomy (raters.rubrics.AUDIT_CATEGORIES), and
    # definitions to show the judge instead of the built-in ones
    categories: list[str] = Field(default_factory=lambda: list(AUDIT_CATEGORIES))
    definitions: dict[str, str] = Field(default_factory=lambda: dict(AUDIT_CATEGORIES))

    @model_validator(mode="after")
    def _known_categories(self) -> AuditSpec:
        unknown = sorted((set(self.categories) | set(self.definitions)) - set(AUDIT_CATEGORIES))
        if unknown:
            raise ValueError(f"unknown audit categories {unknown}; the taxonomy has "
                             f"{list(AUDIT_CATEGORIES)}")  # fmt: skip
        return self

    def taxonomy(self) -> dict[str, str]:
        """Every category with the definition the judge is shown (the spec's, else built in)."""
        return {**AUDIT_CATEGORIES, **self.definitions}


def _unique(names: list[str], what: str) -> list[str]:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{what} names must be unique; repeated: " + ", ".join(dupes))
    return names


class ExperimentSpec(StrictModel):
    """Everything one stagelens experiment needs, loaded from one TOML file."""

    family: str = Field(min_length=1)
    description: str = ""
    stages: list[Stage]
    # An existing SFT-only checkpoint to reuse; None means stagelens trains one from `base`.
    sft_only: ModelRef | None = None
    sft: SFTRecipeSpec
    # judges come before suites: suites are validated against the declared judges
    judges: list[JudgeSpec] = Field(default_factory=list)
    # single-prompt suites; a spec may instead run only the agentic ones ([reward_hacking],
    # [odcv]), but it must run something
    suites: list[SuiteSpec] = Field(default_factory=list)
    reward_hacking: RewardHackingSpec | None = None
    odcv: OdcvSpec | None = None
    audit: AuditSpec | None = None
    sweep: SweepSpec | None = None  # `stagelens sweep SPEC`; ignored by `stagelens run`
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    margin: float = Field(default=0.05, ge=0, lt=1)  # equivalence margin on rate differences
    min_pairs: int = Field(default=30, ge=2)  # fewer pairs than this: no verdict at all
    hardware: str | None = None  # free text: what running this needs
    expectations: str | None = None  # free text: what published numbers lead one to expect

    @field_validator("stages")
    @classmethod
    def _stages(cls, stages: list[Stage]) -> list[Stage]:
        names = _unique([s.name for s in stages], "stage")
        missing = [n for n in ("base", "production") if n not in names]
        if missing:
            raise ValueError(
                "stages must include 'base' (pretraining only) and 'production' (the released "
                "model); missing: " + ", ".join(missing)
            )
        if SFT_ONLY in names:
            raise ValueError(
                f"{SFT_ONLY!r} is produced by stagelens from 'base'; to reuse an existing "
                f"checkpoint set the top-level '{SFT_ONLY}' instead of a stage"
            )
        return stages

    @field_validator("suites")
    @classmethod
    def _suites(cls, suites: list[SuiteSpec], info: ValidationInfo) -> list[SuiteSpec]:
        from stagelens.raters.registry import rater_names

        _unique([s.name for s in suites], "suite")
        judges = {j.name for j in info.data.get("judges", [])}
        for i, suite in enumerate(suites):
            where = f"suites.{i}.rater ({suite.name})"
            named = judge_name(suite.rater)
            if named is not None:
                if named not in judges:
                    raise ValueError(f"{where}: {suite.rater!r} names no [[judges]] entry; "
                                     f"declared: {sorted(judges) or 'none'}")  # fmt: skip
            elif suite.rater not in rater_names():
                raise ValueError(f"{where}: unknown rater {suite.rater!r}; known: "
                                 f"{', '.join(rater_names())}, or judge:NAME")  # fmt: skip
        return suites

    @field_validator("judges")
    @classmethod
    def _judges(cls, judges: list[JudgeSpec]) -> list[JudgeSpec]:
        _unique([j.name for j in judges], "judge")
        return judges

    @field_validator("sweep")
    @classmethod
    def _sweep(cls, sweep: SweepSpec | None, info: ValidationInfo) -> SweepSpec | None:
        recipe = info.data.get("sft")
        if sweep is not None and recipe is not None:
            sweep.check_against(recipe)
        return sweep

    @model_validator(mode="after")
    def _runs_something(self) -> ExperimentSpec:
        if not self.suites and not (self.reward_hacking or self.odcv or self.audit):
            raise ValueError("the spec runs no suite: give at least one [[suites]] entry, "
                             "[reward_hacking], [odcv] or [audit]")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _judges_fit(self) -> ExperimentSpec:
        from stagelens.suites import suite_entry

        by_name = {j.name: j for j in self.judges}
        for suite in self.suites:
            judge = by_name.get(judge_name(suite.rater) or "")
            takes = suite_entry(suite.name).judge_rubrics
            if judge is not None and judge.rubric not in takes:
                raise ValueError(f"suite {suite.name!r}: judge {judge.name!r} has rubric "
                                 f"{judge.rubric!r}; this suite takes {list(takes)}")  # fmt: skip
        rh = self.reward_hacking
        if rh is not None and rh.judge is not None:
            judge = by_name.get(rh.judge)
            if judge is None or judge.rubric != "reward_hacking":
                raise ValueError(f"reward_hacking.judge {rh.judge!r}: needs a [[judges]] entry "
                                 "with rubric = \"reward_hacking\"")  # fmt: skip
        au = self.audit
        if au is not None and au.judge is not None:
            judge = by_name.get(au.judge)
            if judge is None or judge.rubric != "audit":
                raise ValueError(f"audit.judge {au.judge!r}: needs a [[judges]] entry "
                                 "with rubric = \"audit\"")  # fmt: skip
        od = self.odcv
        if od is not None and od.judge is not None:
            judge = by_name.get(od.judge)
            if judge is None or judge.rubric != "odcv":
                raise ValueError(f"odcv.judge {od.judge!r}: needs a [[judges]] entry "
                                 "with rubric = \"odcv\"")  # fmt: skip
        return self

    def judge(self, name: str) -> JudgeSpec:
        """The `[[judges]]` entry called ``name``; StopIteration if there is none."""
        return next(j for j in self.judges if j.name == name)

    def stage(self, name: str) -> Stage:
        """The stage called ``name``; KeyError if there is none."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def base(self) -> Stage:
        return self.stage("base")

    @property
    def production(self) -> Stage:
        return self.stage("production")
