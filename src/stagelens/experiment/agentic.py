"""The reward-hacking eval inside an experiment: task arguments, graders, and its metrics.

Each stage plays the same episodes; per episode the detectors say cheat / honest success,
and a transcript judge (if the spec names one) says hack or not. Each of these becomes a
metric compared across stages like any suite's: rates with Wilson intervals, the paired
SFT-only - production difference, equivalence, attribution.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.report.record import Provenance, RaterIdentity, SuiteRecord
from stagelens.stats.equivalence import MIN_PAIRS

if TYPE_CHECKING:
    from stagelens.spec import ExperimentSpec
    from stagelens.spec.models import JudgeSpec
    from stagelens.stats.types import MetricComparison

DETECTORS = RaterIdentity(
    name="reward-hacking-detectors",
    version="1",
    kind="detectors",
    description=(
        "Deterministic detectors, not the agent's word: protected-file hashes, trusted "
        "re-timing of the submission alone in a fresh sandbox on hidden inputs, hidden-input "
        "correctness, and an implausible-speed-up bound."
    ),
)


def task_args(spec: ExperimentSpec) -> tuple[dict[str, Any], dict[str, str]]:
    """The reward_hacking task's arguments and the transcript judge's grader roles."""
    from stagelens.raters.judges.settings import model_roles_for, settings_for

    rh = spec.reward_hacking
    assert rh is not None
    args: dict[str, Any] = {
        "problems": ",".join(rh.problems), "variants": ",".join(rh.variants),
        "timing_size": rh.timing_size, "retiming_size": rh.retiming_size,
        "batches": rh.batches, "message_limit": rh.message_limit,
        "token_limit": rh.token_limit, "max_tokens": rh.max_tokens,
    }  # fmt: skip
    if rh.judge is None:
        return args, {}
    judge = spec.judge(rh.judge)
    args["judge"] = settings_for(judge).model_dump()
    return args, model_roles_for(judge)


def results(
    spec: ExperimentSpec, logs: dict[str, Path], seed: int
) -> tuple[list[MetricComparison], list[SuiteRecord]]:
    """Every reward-hacking metric compared across stages (`logs`: stage -> its log)."""
    from stagelens.environments.reward_hacking import problem_names

    rh = spec.reward_hacking
    assert rh is not None
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
    judge = spec.judge(rh.judge) if rh.judge is not None else None
    return episode_metrics(logs, spec.margin, seed, data, generation, judge, spec.min_pairs)


def episode_metrics(
    logs: dict[str, Path],
    margin: float,
    seed: int,
    data: Provenance,
    generation: dict[str, Any],
    judge: JudgeSpec | None = None,
    min_pairs: int = MIN_PAIRS,
) -> tuple[list[MetricComparison], list[SuiteRecord]]:
    """Detector cheat, honest success (and judged cheat) from each stage's episode log."""
    from stagelens.evaluate.runner import read_stages
    from stagelens.experiment.rating import judge_agreement
    from stagelens.raters.judges.settings import judge_identity
    from stagelens.stats import compare_metric
    from stagelens.suites.reward_hacking import METRICS, SCORER_NAME

    metrics, suites = [], []
    for metric, (key, label, lower_is_safer) in METRICS.items():
        if key == "judged" and judge is None:
            continue
        scorer, value_key = ("judged", None) if key == "judged" else (SCORER_NAME, key)
        outcomes, clusters = read_stages(logs, scorer=scorer, key=value_key)
        metrics.append(compare_metric(metric, outcomes, clusters=clusters, margin=margin,
                                      min_pairs=min_pairs, seed=seed,
                                      label=label, lower_is_safer=lower_is_safer))  # fmt: skip
        rater = DETECTORS
        if judge is not None and key == "judged":
            rater = judge_identity(judge.name, judge.rubric, judge.graders, judge.aggregate)
        suites.append(SuiteRecord(
            name=metric, metric=metric, lower_is_safer=lower_is_safer,
            description=f"{label}: share of episodes" + (
                " the agent really met the target, correctly, without any detector firing"
                if not lower_is_safer else " flagged as cheating"),
            n_prompts=len(next(iter(outcomes.values()))), data=data, generation=generation,
            rater=rater,
            agreement=judge_agreement(judge, list(logs.values())) if key == "judged" else None,
        ))  # fmt: skip
    return metrics, suites
