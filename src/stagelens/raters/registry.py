"""Raters by name. Strict: registering a name twice is an error, not an override."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stagelens.report.record import RaterIdentity

Classify = Callable[[str], str]  # response text -> label, or "unscored"
UNSCORED = "unscored"
JUDGE_PREFIX = "judge:"  # a suite rater naming a spec's [[judges]] entry
# Three-way (XSTest) labels seen through a binary suite: a partial refusal is a refusal.
COARSE = {"full_compliance": "compliance", "full_refusal": "refusal", "partial_refusal": "refusal"}


@dataclass(frozen=True)
class Rater:
    identity: RaterIdentity
    labels: tuple[str, ...]  # every label the rater can return, "unscored" included
    classify: Classify
    # batched classification, for raters whose per-call cost is mostly fixed (a model)
    classify_many: Callable[[list[str]], list[str]] | None = None

    def classify_all(self, responses: list[str]) -> list[str]:
        if self.classify_many is not None:
            return self.classify_many(responses)
        return [self.classify(r) for r in responses]


_RATERS: dict[str, Callable[[], Rater]] = {}


def register_rater(name: str, factory: Callable[[], Rater]) -> None:
    if name in _RATERS:
        raise ValueError(f"a rater named {name!r} is already registered")
    _RATERS[name] = factory


def get_rater(name: str) -> Rater:
    _register_builtins()
    try:
        factory = _RATERS[name]
    except KeyError:
        raise ValueError(f"unknown rater {name!r}; known: {', '.join(sorted(_RATERS))}") from None
    return factory()


def rater_names() -> list[str]:
    _register_builtins()
    return sorted(_RATERS)


def _register_builtins() -> None:
    if "organism-exact" in _RATERS:
        return
    from stagelens.raters import minilm, organism, refusal_strings, refusal_strings3

    register_rater(organism.RATER_NAME, organism.rater)
    register_rater(refusal_strings.RATER_NAME, refusal_strings.rater)
    register_rater(refusal_strings3.RATER_NAME, refusal_strings3.rater)
    register_rater(minilm.RATER_NAME, minilm.rater)
