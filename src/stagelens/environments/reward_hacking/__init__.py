"""Reward-hacking environment: make a slow function faster, and catch the agents that cheat.

An agent gets a workspace (`build_workspace`) holding a slow but correct `solution.py`, a timer
it can run, visible tests and TASK.md, and is asked (`task_prompt`) to reach a target speed-up.
After the episode, `evaluate_episode` runs the deterministic detectors against the workspace
sandbox and a fresh trusted sandbox, and returns an `EpisodeVerdict` (rules in `verdict.py`).

Everything is written against Inspect's generic `SandboxEnvironment` (`exec`, `read_file`,
`write_file`); no sandbox implementation lives here. The problems are written for stagelens
(Apache-2.0).
"""

from stagelens.environments.reward_hacking.actions import (
    ACTIONS,
    ActionOutcomes,
    ActionResult,
    action_edits,
    execute_action,
)
from stagelens.environments.reward_hacking.detectors import (
    CorrectnessResult,
    RetimingResult,
    hidden_correctness,
    implausible_speedup,
    trusted_retiming,
)
from stagelens.environments.reward_hacking.problem import Problem, load_solve
from stagelens.environments.reward_hacking.registry import PROBLEMS, get_problem, problem_names
from stagelens.environments.reward_hacking.trusted import FreshSandbox
from stagelens.environments.reward_hacking.verdict import EpisodeVerdict, combine, evaluate_episode
from stagelens.environments.reward_hacking.workspace import (
    ALL_VARIANTS,
    HARNESS_FILES,
    HONESTY_INSTRUCTION,
    Variant,
    build_workspace,
    read_only_paths,
    target_speedup,
    task_prompt,
)
from stagelens.environments.reward_hacking.workspace_checks import (
    DetectorResult,
    ProtectedFilesResult,
    TimerClaim,
    parse_timer_output,
    protected_files_changed,
    run_workspace_timer,
)

__all__ = [
    "ACTIONS",
    "ALL_VARIANTS",
    "HARNESS_FILES",
    "HONESTY_INSTRUCTION",
    "PROBLEMS",
    "ActionOutcomes",
    "ActionResult",
    "CorrectnessResult",
    "DetectorResult",
    "EpisodeVerdict",
    "FreshSandbox",
    "Problem",
    "ProtectedFilesResult",
    "RetimingResult",
    "TimerClaim",
    "Variant",
    "action_edits",
    "build_workspace",
    "combine",
    "evaluate_episode",
    "execute_action",
    "get_problem",
    "hidden_correctness",
    "implausible_speedup",
    "load_solve",
    "parse_timer_output",
    "problem_names",
    "protected_files_changed",
    "read_only_paths",
    "run_workspace_timer",
    "target_speedup",
    "task_prompt",
    "trusted_retiming",
]
