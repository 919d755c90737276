"""How a suite's judge travels: settings as Inspect task arguments, graders as model roles.

Task arguments must be plain data (Inspect stores them in the log and rebuilds the task
from them on retry), so a judge reaches a suite as `JudgeSettings`; the grader models are
not task arguments but model roles of the eval, one role per panel member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from stagelens.raters.judges.prompts import RUBRIC_VERSIONS
from stagelens.report.record import RaterIdentity

if TYPE_CHECKING:
    from inspect_ai.scorer import Scorer

    from stagelens.spec.models import JudgeSpec

GRADER_ROLE = "grader"


def grader_roles(n: int) -> list[str]:
    """Role names for n graders: Inspect's conventional "grader" alone, numbered in a panel."""
    if n < 1:
        raise ValueError("a judge needs at least one grader")
    return [GRADER_ROLE] if n == 1 else [f"{GRADER_ROLE}_{i}" for i in range(1, n + 1)]


class JudgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rubric: Literal["xstest", "strongreject", "harmbench", "reward_hacking"]
    n_graders: int = Field(default=1, ge=1)
    aggregate: Literal["majority", "median"] = "majority"
    retries: int = Field(default=2, ge=0)
    cache: str | None = None  # verdict cache file; None: stagelens's default; "none": off

    def roles(self) -> list[str]:
        return grader_roles(self.n_graders)

    def scorer(self, event: str, response: str = "completion") -> Scorer:
        """The `judged` scorer these settings describe, deciding `event`."""
        from stagelens.raters.judges.scorer import judged

        return judged(self.rubric, event, retries=self.retries, graders=self.roles(),
                      aggregate=self.aggregate, cache=self.cache, response=response)  # fmt: skip


def settings_for(judge: JudgeSpec, cache: str | None = None) -> JudgeSettings:
    return JudgeSettings(
        rubric=judge.rubric,
        n_graders=len(judge.graders),
        aggregate=judge.aggregate,
        retries=judge.retries,
        cache=cache,
    )


def model_roles_for(judge: JudgeSpec) -> dict[str, str]:
    return dict(zip(grader_roles(len(judge.graders)), judge.graders, strict=True))


def judge_identity(name: str, rubric: str, graders: list[str], aggregate: str) -> RaterIdentity:
    panel = len(graders) > 1
    how = f"{aggregate} of {len(graders)} graders" if panel else "one grader"
    return RaterIdentity(
        name=f"judge:{name}",
        version=RUBRIC_VERSIONS[rubric],
        kind="panel" if panel else "llm_judge",
        description=f"{rubric} rubric ({RUBRIC_VERSIONS[rubric]}), {how}: {', '.join(graders)}; "
        "invalid verdicts retried, then unscored",
    )
