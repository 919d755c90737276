"""Raters by name. Strict: registering a name twice is an error, not an override."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

# The rater type and the shared names live in base.py, which the rater modules import
# (this registry imports those modules); they are re-exported for callers of the registry.
from stagelens.raters.base import (
    COARSE,
    JUDGE_PREFIX,
    UNSCORED,
    Classify,
    Rater,
    is_unscored,
    judge_name,
    judge_rater,
)
from stagelens.records import RaterIdentity

if TYPE_CHECKING:
    from stagelens.raters.judges.settings import JudgeSpec

__all__ = [
    "COARSE",
    "JUDGE_PREFIX",
    "UNSCORED",
    "Classify",
    "Rater",
    "get_rater",
    "is_unscored",
    "judge_name",
    "judge_rater",
    "rater_identity",
    "rater_names",
    "register_rater",
]

_RATERS: dict[str, Callable[[], Rater]] = {}


def register_rater(name: str, factory: Callable[[], Rater]) -> None:
    """Make `factory` the rater called `name`; a name that is already taken raises."""
    if name in _RATERS:
        raise ValueError(f"a rater named {name!r} is already registered")
    _RATERS[name] = factory


def get_rater(name: str) -> Rater:
    """A new instance of the rater called `name`; an unknown name raises ValueError."""
    _register_builtins()
    try:
        factory = _RATERS[name]
    except KeyError:
        raise ValueError(f"unknown rater {name!r}; known: {', '.join(sorted(_RATERS))}") from None
    return factory()


def rater_names() -> list[str]:
    """Every registered rater name, sorted (judges are not listed: they are `judge:NAME`)."""
    _register_builtins()
    return sorted(_RATERS)


def rater_identity(rater: str, judge: JudgeSpec | None = None) -> RaterIdentity:
    """Who rates: the identity of `judge` (an LLM judge or panel) when one is given, else of
    the registered rater called `rater`; an unknown rater name raises ValueError."""
    return judge.identity if judge is not None else get_rater(rater).identity


def _register_builtins() -> None:
    if "organism-exact" in _RATERS:
        return
    from stagelens.raters import awareness, minilm, organism, refusal_strings, refusal_strings3

    register_rater(organism.RATER_NAME, organism.rater)
    register_rater(refusal_strings.RATER_NAME, refusal_strings.rater)
    register_rater(refusal_strings3.RATER_NAME, refusal_strings3.rater)
    register_rater(minilm.RATER_NAME, minilm.rater)
    register_rater(awareness.RATER_NAME, awareness.rater)
