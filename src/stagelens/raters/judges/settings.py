"""How a suite's judge is declared and how it travels: the spec's `JudgeSpec`, and its
settings as Inspect task arguments, with the graders as model roles.

Task arguments must be plain data (Inspect stores them in the log and rebuilds the task
from them on retry), so a judge reaches a suite as `JudgeSettings`; the grader models are
not task arguments but model roles of the eval, one role per panel member.
"""

from __future__ import annotations

from typing import Literal

from inspect_ai.scorer import Scorer
from pydantic import Field, model_validator

from stagelens.raters.base import judge_rater
from stagelens.raters.judges.prompts import RUBRIC_VERSIONS
from stagelens.raters.judges.scorer import GRADER_ROLE, grader_roles, judged
from stagelens.raters.rubrics import Rubric
from stagelens.records import RaterIdentity, StrictModel

__all__ = [
    "GRADER_ROLE",
    "JudgeSettings",
    "JudgeSpec",
    "grader_roles",
    "judge_identity",
    "model_roles_for",
    "settings_for",
]


class JudgeSpec(StrictModel):
    """An LLM judge (or a panel of them) that a suite names as its rater: `judge:NAME`.

    A spec's `[[judges]]` table, also built from the command line's `--judge` options.
    """

    name: str = Field(min_length=1)
    rubric: Rubric
    model: str | None = None  # one grader: an Inspect model string
    models: list[str] = Field(default_factory=list)  # a panel of graders
    aggregate: Literal["majority", "median"] = "majority"
    retries: int = Field(default=2, ge=0, le=10)
    max_tokens: int | None = Field(default=None, ge=16)  # per reply; None: 1024
    # pin the rubric: a run fails rather than silently grade with a changed prompt
    rubric_version: str | None = None

    @model_validator(mode="after")
    def _graders(self) -> JudgeSpec:
        if (self.model is None) == (not self.models):
            raise ValueError("give exactly one of 'model' (one grader) or 'models' (a panel)")
        if len(set(self.graders)) != len(self.graders):
            raise ValueError("a panel's models must be distinct")
        current = RUBRIC_VERSIONS[self.rubric]
        if self.rubric_version is not None and self.rubric_version != current:
            raise ValueError(
                f"rubric_version {self.rubric_version!r} is not this stagelens's "
                f"{self.rubric!r} rubric ({current!r})"
            )
        return self

    @property
    def graders(self) -> list[str]:
        """The grader models: the one `model`, or the panel's `models`."""
        return [self.model] if self.model is not None else list(self.models)

    @property
    def identity(self) -> RaterIdentity:
        """Who rates when this judge does: its name, rubric version and graders."""
        return judge_identity(self.name, self.rubric, self.graders, self.aggregate,
                              self.max_tokens)  # fmt: skip


class JudgeSettings(StrictModel):
    """A judge as a task argument: its rubric, how many graders, how they agree, retries."""

    rubric: Rubric
    n_graders: int = Field(default=1, ge=1)
    aggregate: Literal["majority", "median"] = "majority"
    retries: int = Field(default=2, ge=0)
    max_tokens: int | None = None
    cache: str | None = None  # verdict cache file; None: stagelens's default; "none": off
    # a panel leaves out a grader that is the model under test (ODCV-Bench's median rule)
    exclude_self: bool = False

    def roles(self) -> list[str]:
        """The grader model roles an eval must bind for these settings."""
        return grader_roles(self.n_graders)

    def scorer(
        self, event: str, response: str = "completion", exact: str | None = None
    ) -> Scorer:
        """The `judged` scorer these settings describe, deciding `event` (after the exact
        rule `exact`, where one is named)."""
        return judged(self.rubric, event, retries=self.retries, graders=self.roles(),
                      aggregate=self.aggregate, cache=self.cache, response=response,
                      max_tokens=self.max_tokens, exact=exact,
                      exclude_self=self.exclude_self)  # fmt: skip


def settings_for(judge: JudgeSpec, cache: str | None = None) -> JudgeSettings:
    """The task-argument form of `judge` (with the verdict cache file to use)."""
    return JudgeSettings(
        rubric=judge.rubric,
        n_graders=len(judge.graders),
        aggregate=judge.aggregate,
        retries=judge.retries,
        max_tokens=judge.max_tokens,
        cache=cache,
    )


def model_roles_for(judge: JudgeSpec) -> dict[str, str]:
    """The eval's model roles for `judge`: grader role -> Inspect model string."""
    return dict(zip(grader_roles(len(judge.graders)), judge.graders, strict=True))


def judge_identity(
    name: str, rubric: str, graders: list[str], aggregate: str, max_tokens: int | None = None
) -> RaterIdentity:
    """The rater identity of the judge `name` (`judge:NAME`): its rubric version and graders."""
    panel = len(graders) > 1
    how = f"{aggregate} of {len(graders)} graders" if panel else "one grader"
    if max_tokens is not None:
        how += f" (replies capped at {max_tokens} tokens)"
    return RaterIdentity(
        name=judge_rater(name),
        version=RUBRIC_VERSIONS[rubric],
        kind="panel" if panel else "llm_judge",
        description=f"{rubric} rubric ({RUBRIC_VERSIONS[rubric]}), {how}: {', '.join(graders)}; "
        "invalid verdicts retried, then unscored",
        developed_on="the rubric's prompt follows the benchmark's paper; no labelled answer "
        "tuned it (measure it with `stagelens calibrate`)",
    )
