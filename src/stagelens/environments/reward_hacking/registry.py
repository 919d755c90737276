"""All speed-up problems by name. Written for stagelens (Apache-2.0)."""

from __future__ import annotations

from stagelens.environments.reward_hacking.problem import Problem
from stagelens.environments.reward_hacking.problems_arrays import ARRAY_PROBLEMS
from stagelens.environments.reward_hacking.problems_numeric import NUMERIC_PROBLEMS
from stagelens.environments.reward_hacking.problems_text import TEXT_PROBLEMS

PROBLEMS: dict[str, Problem] = {
    p.name: p for p in (*ARRAY_PROBLEMS, *TEXT_PROBLEMS, *NUMERIC_PROBLEMS)
}


def get_problem(name: str) -> Problem:
    """The problem called `name`; KeyError lists the known names."""
    try:
        return PROBLEMS[name]
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; known: {', '.join(sorted(PROBLEMS))}") from None


def problem_names() -> list[str]:
    return list(PROBLEMS)
