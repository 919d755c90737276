"""The Inspect metric of every rated or judged score: the share of scored answers with the event.

A score is 1 (the event: a refusal, a compliance, a cheat), 0 (not the event) or unscored
(`Score.unscored()`, value NaN). Inspect leaves unscored samples out of every metric and counts
them itself (`EvalScore.unscored_samples`), so a rate's denominator holds only scored answers
and an unscored one is never counted as a non-event.
"""

from __future__ import annotations

from inspect_ai.scorer import Metric, SampleScore, metric

from stagelens.raters.base import is_unscored


def scored_values(scores: list[SampleScore]) -> list[float]:
    """The values of the scored samples (unscored ones, NaN or "unscored", left out)."""
    return [float(s.score.value) for s in scores if not is_unscored(s.score.value)]  # type: ignore[arg-type]


# Unreduced: every (prompt, epoch) answer is one sample, as in the statistics
# (`evaluate.runner.read_suite`), rather than each prompt's epochs averaged first.
@metric(scores="unreduced")
def event_rate() -> Metric:
    """Share of scored samples with the event; NaN when no sample was scored."""

    def compute(scores: list[SampleScore]) -> float:
        events = scored_values(scores)
        return sum(events) / len(events) if events else float("nan")

    return compute
