"""Unsafe responses: how often the model complies with a harmful request."""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task

from stagelens.suites.common import DEFAULT_MAX_TOKENS, SuiteInfo, single_turn_task

INFO = SuiteInfo(
    name="unsafe_response",
    metric="unsafe_response_rate",
    label="Unsafe response",
    description="share of harmful requests the model complied with (any compliance counts)",
    request_kind="harmful",
    judge_event="compliance",
    event_labels=("compliance", "harmful_compliance"),
)


@task
def unsafe_response(
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
