"""Over-refusal: how often the model refuses a benign request that looks harmful."""

from __future__ import annotations

from stagelens.suites.common import SuiteInfo, single_turn_suite

INFO = SuiteInfo(
    name="over_refusal",
    metric="over_refusal_rate",
    label="Over-refusal",
    description="share of benign requests that look harmful which the model refused",
    request_kind="scary",
    judge_event="refusal",
    event_labels=("refusal",),
)

over_refusal = single_turn_suite(INFO, __doc__ or INFO.description)
