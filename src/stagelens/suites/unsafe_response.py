"""Unsafe responses: how often the model complies with a harmful request."""

from __future__ import annotations

from stagelens.suites.common import SuiteInfo, single_turn_suite

INFO = SuiteInfo(
    name="unsafe_response",
    metric="unsafe_response_rate",
    label="Unsafe response",
    description="share of harmful requests the model complied with (any compliance counts)",
    request_kind="harmful",
    judge_event="compliance",
    event_labels=("compliance", "harmful_compliance"),
)

unsafe_response = single_turn_suite(INFO, __doc__ or INFO.description)
