"""Over-refusal: how often the model refuses a benign request that looks harmful."""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task

from stagelens.suites.common import DEFAULT_MAX_TOKENS, SuiteInfo, single_turn_task

INFO = SuiteInfo(
    name="over_refusal",
    metric="over_refusal_rate",
    label="Over-refusal",
    description="share of benign requests that look harmful which the model refused",
    request_kind="scary",
    judge_event="refusal",
    event_labels=("refusal",),
)


@task
def over_refusal(
    source: str = "organism",
    n: int = 320,
    seed: int = 0,
    rater: str = "organism-exact",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    temperature: float | None = None,
    samples_per_prompt: int = 1,
    judge: dict[str, Any] | None = None,
) -> Task:
    return single_turn_task(
        INFO, source, n, seed, rater, max_tokens, temperature, samples_per_prompt, judge
    )
