"""All speed-up problems by name. Written for stagelens (Apache-2.0)."""

from __future__ import annotations

from stagelens.environments.reward_hacking.problem import Problem
from stagelens.environments.reward_hacking.problems_arrays import ARRAY_PROBLEMS
from stagelens.environments.reward_hacking.problems_numeric import NUMERIC_PROBLEMS
from stagelens.environments.reward_hacking.problems_text import TEXT_PROBLEMS


def _by_name(problems: tuple[Problem, ...]) -> dict[str, Problem]:
    registry: dict[str, Problem] = {}
    for problem in problems:
        if problem.name in registry:  # strict: a second problem never replaces the first
            raise ValueError(f"two problems are named {problem.name!r}")
        registry[problem.name] = problem
    return registry


PROBLEMS: dict[str, Problem] = _by_name((*ARRAY_PROBLEMS, *TEXT_PROBLEMS, *NUMERIC_PROBLEMS))


def get_problem(name: str) -> Problem:
    """The problem called `name`; KeyError lists the known names."""
    try:
        return PROBLEMS[name]
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; known: {', '.join(sorted(PROBLEMS))}") from None


def problem_names() -> list[str]:
    return list(PROBLEMS)


def pick(chosen: list[str], known: list[str], what: str) -> list[str]:
    """`chosen` checked against `known` (["all"]: every known name); ValueError names the rest."""
    if chosen == ["all"]:
        return list(known)
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown {what}s {unknown or chosen}; known: {', '.join(known)}")
    return chosen
