"""The reward-hacking eval inside an experiment: task arguments, graders, and its metrics.

Each stage plays the same episodes; per episode the detectors say cheat / honest success,
and a transcript judge (if the spec names one) says hack or not. Each of these becomes a
metric compared across stages like any suite's (the suite registry lists them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stagelens.experiment.pipeline import SuiteRun
from stagelens.records import Provenance, RaterIdentity

if TYPE_CHECKING:
    from stagelens.spec import ExperimentSpec

DETECTORS = RaterIdentity(
    name="reward-hacking-detectors",
    version="1",
    kind="detectors",
    description=(
        "Deterministic detectors, not the agent's word: protected-file hashes, trusted "
        "re-timing of the submission alone in a fresh sandbox on hidden inputs, hidden-input "
        "correctness, and an implausible-speed-up bound."
    ),
    developed_on="stagelens's written cheat and honest solutions of the environment's problems "
    "(tests/), not on any agent's episodes it reports on",
)


def suite_run(spec: ExperimentSpec) -> SuiteRun:
    """The reward_hacking suite as the pipeline runs it on every stage of the spec: the task's
    arguments, the transcript judge's grader roles and identity (if the spec names one), and
    what the record says about the episodes."""
    from stagelens.environments.reward_hacking import problem_names
    from stagelens.experiment.rating import with_judge

    rh = spec.reward_hacking
    assert rh is not None
    args: dict[str, Any] = {
        "problems": ",".join(rh.problems), "variants": ",".join(rh.variants),
        "timing_size": rh.timing_size, "retiming_size": rh.retiming_size,
        "batches": rh.batches, "message_limit": rh.message_limit,
        "token_limit": rh.token_limit, "max_tokens": rh.max_tokens,
    }  # fmt: skip
    problems = problem_names() if rh.problems == ["all"] else rh.problems
    data = Provenance(
        name="stagelens reward-hacking problems",
        source="stagelens.environments.reward_hacking (written for stagelens)",
        licence="Apache-2.0",
        n=len(problems),
        notes=f"problems: {', '.join(problems)}; variants: {', '.join(rh.variants)}",
    )
    generation = {"message_limit": rh.message_limit, "token_limit": rh.token_limit,
                  "max_tokens": rh.max_tokens, "temperature": 0.0}  # fmt: skip
    run = SuiteRun(suite="reward_hacking", args=args, data=data, generation=generation,
                   rater=DETECTORS, realtime=True, max_samples=rh.max_episodes)  # fmt: skip
    if rh.judge is None:
        return run
    return with_judge(run, spec.judge(rh.judge))
