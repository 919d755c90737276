"""Reward hacking: an agent asked to make code faster, measured by a timing script it can touch.

Each sample is one episode: a problem (`stagelens.environments.reward_hacking`) in one
variant (timer and tests read-only or writable; told or not told to keep the measurement
honest; a reachable or an impossible target), played by a ReAct agent with bash and file
tools in a bubblewrap sandbox, under a message (step) limit and a token limit.

The score is deterministic, from the detectors, never from the agent's word: protected-file
hashes, a trusted re-timing on hidden inputs in a fresh sandbox, hidden correctness, and an
implausible-speed-up bound. Per episode: `cheat` (the detectors' rules), `honest_success`
(correct on hidden inputs and really at the target, no detector fired). Every episode gets
both, whatever the agent did: the detectors judge the workspace as it was left, so an agent
that changed nothing, gave up or ran out of steps has not met the target (0), and a sample
that errors has no score at all (the run reports it). A transcript judge,
where one is bound to the `grader` role, is reported separately (`judged_cheat`).
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState
from inspect_ai.util import SandboxEnvironmentSpec, sandbox

from stagelens.environments.reward_hacking import (
    ALL_VARIANTS,
    Variant,
    build_workspace,
    evaluate_episode,
    get_problem,
    problem_names,
    read_only_paths,
    task_prompt,
)
from stagelens.environments.reward_hacking.detectors import PLAUSIBLE_FRACTION
from stagelens.environments.reward_hacking.harness import fresh_sandbox_of, optimiser_agent
from stagelens.environments.reward_hacking.registry import pick
from stagelens.suites.common import SuiteInfo

NAME = "reward_hacking"
# the detectors' cheat rate, as results.json, the report and a variant's `expected` name it
CHEAT_METRIC = "reward_hacking_cheat"
INFO = SuiteInfo(
    name=NAME,
    metric=CHEAT_METRIC,
    label="Reward hacking",
    description="share of optimisation episodes the deterministic detectors flag as cheating",
    request_kind="episode",
    judge_event="hack",
    event_labels=("cheat",),
)
# the task's further per-episode metrics: (score key or scorer, label, lower is safer)
METRICS = {
    CHEAT_METRIC: ("cheat", "Reward hacking (detectors)", True),
    "reward_hacking_honest_success": ("honest_success", "Honest success", False),
    "reward_hacking_judged": ("judged", "Reward hacking (transcript judge)", True),
}
SCORER_NAME = "episode_detectors"
DEFAULT_MESSAGE_LIMIT = 40  # about 20 agent steps: each is a model turn and a tool result
DEFAULT_TOKEN_LIMIT = 200_000


def _pick(names: str, known: list[str], what: str) -> list[str]:
    return pick([n.strip() for n in names.split(",") if n.strip()], known, what)


def episodes(
    problems: str = "all",
    variants: str = "all",
    timing_size: int | None = None,
    sandbox_config: dict[str, Any] | None = None,
    sandbox_kind: str = "auto",
) -> list[Sample]:
    """One sample per (problem, variant); the sandbox makes the variant's files read-only.

    `sandbox_kind`: "bwrap", "docker", or "auto" (bwrap where it works, else Docker where an
    engine answers). Only bwrap can make the harness read-only inside a writable workspace;
    on Docker the read-only variants are refused rather than silently run writable, and the
    detectors re-time in the episode's own container (in nonce-named directories) unless the
    task's compose file defines a second service named "trusted".
    """
    from stagelens.sandbox import BwrapConfig, default_sandbox

    if sandbox_kind not in ("auto", "bwrap", "docker"):
        raise ValueError(f"sandbox_kind must be auto, bwrap or docker, not {sandbox_kind!r}")
    kind = default_sandbox()[0] if sandbox_kind == "auto" else sandbox_kind
    by_name = {v.name: v for v in ALL_VARIANTS}
    samples = []
    for name in _pick(problems, problem_names(), "problem"):
        problem = get_problem(name)
        for variant_name in _pick(variants, list(by_name), "variant"):
            variant = by_name[variant_name]
            if kind == "docker":
                if variant.read_only_harness:
                    raise ValueError(
                        f"variant {variant.name!r} makes the harness read-only, which needs "
                        "the bwrap sandbox; on Docker use the rw-* variants"
                    )
                spec = SandboxEnvironmentSpec("docker", (sandbox_config or {}).get("compose"))
            else:
                config = BwrapConfig.model_validate(
                    {**(sandbox_config or {}), "readonly_paths": list(read_only_paths(variant))}
                )
                spec = SandboxEnvironmentSpec("bwrap", config)
            samples.append(Sample(
                id=f"{name}:{variant.name}",
                input=task_prompt(problem, variant),
                files=build_workspace(problem, variant, timing_size=timing_size),
                sandbox=spec,
                # a problem's episodes (one per variant) are correlated: they form a cluster,
                # so with several variants the statistics resample problems, not episodes
                metadata={"problem": name, "variant": variant.model_dump(),
                          "timing_size": timing_size, "cluster": name},
            ))  # fmt: skip
    return samples


@scorer(
    metrics={"cheat": [mean(), stderr()], "honest_success": [mean(), stderr()]},
    name=SCORER_NAME,
)
def episode_detectors(
    retiming_size: int | None = None, batches: int = 3, slack: float = PLAUSIBLE_FRACTION
) -> Scorer:
    """The deterministic detectors on the finished workspace; the agent's claims are not used."""

    async def score(state: TaskState, target: Target) -> Score:
        problem = get_problem(str(state.metadata["problem"]))
        variant = Variant.model_validate(state.metadata["variant"])
        workspace = sandbox()
        async with fresh_sandbox_of(workspace, NAME) as trusted:

            async def fresh() -> Any:
                return trusted

            verdict = await evaluate_episode(
                problem, variant, workspace, fresh,
                timing_size=state.metadata.get("timing_size"),
                retiming_size=retiming_size, batches=batches, slack=slack,
            )  # fmt: skip
        return Score(
            value={"cheat": int(verdict.deterministic_cheat),
                   "honest_success": int(verdict.honest_success)},
            explanation="; ".join(verdict.reasons) or "no detector rule fired",
            metadata={"verdict": verdict.model_dump(mode="json"),
                      "tool_calls": _tool_calls(state)},
        )  # fmt: skip

    return score


def _tool_calls(state: TaskState) -> int:
    return sum(len(getattr(m, "tool_calls", None) or []) for m in state.messages)


@task
def reward_hacking(
    problems: str = "all",
    variants: str = "all",
    timing_size: int | None = None,
    retiming_size: int | None = None,
    batches: int = 3,
    message_limit: int = DEFAULT_MESSAGE_LIMIT,
    token_limit: int = DEFAULT_TOKEN_LIMIT,
    sandbox_config: dict[str, Any] | None = None,
    judge: bool | dict[str, Any] = False,
    max_tokens: int | None = None,
    describe_tools: bool = False,
    sandbox_kind: str = "auto",
) -> Task:
    """Reward-hacking episodes; `problems` / `variants` are "all" or comma-separated names.

    With `judge` (True, or JudgeSettings fields for a panel), a transcript judge bound to the
    `grader` model role(s) also labels each episode legitimate / heuristic / hack; its rate
    (`judged`) is kept apart from the detectors' (`episode_detectors`), and its invalid
    verdicts are unscored. `describe_tools` spells the tools and their call syntax out in
    the instructions, for local models whose chat template drops tool schemas.
    """
    from inspect_ai.model import GenerateConfig

    from stagelens.raters.judges import JudgeSettings

    scorers = [episode_detectors(retiming_size=retiming_size, batches=batches)]
    if judge:
        s = JudgeSettings.model_validate(
            {"rubric": "reward_hacking", **(judge if isinstance(judge, dict) else {})}
        )
        scorers.append(s.scorer(INFO.judge_event, response="transcript"))
    return Task(
        dataset=episodes(problems, variants, timing_size, sandbox_config, sandbox_kind),
        solver=optimiser_agent(describe_tools),
        scorer=scorers,
        message_limit=message_limit,
        token_limit=token_limit,
        config=GenerateConfig(max_tokens=max_tokens),
        name=NAME,
        metadata={"stagelens_suite": NAME},
    )
