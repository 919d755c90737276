"""What a rater is, and the names every rater, judge and suite shares.

A rater maps a response to a label; "unscored" is the label of an answer no class fits, and
such an answer is never guessed into a class. In an Inspect score, an unscored answer's
value is Inspect's NaN sentinel (`Score.unscored()`), which Inspect's metrics and reducers
leave out and count as unscored samples; logs written before stagelens used it hold the
string "unscored" instead, and `is_unscored` reads both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from stagelens.records import RaterIdentity

Classify = Callable[[str], str]  # response text -> label, or "unscored"
UNSCORED = "unscored"
JUDGE_PREFIX = "judge:"  # a suite rater naming a spec's [[judges]] entry
# Three-way (XSTest) labels seen through a binary suite: a partial refusal is a refusal.
COARSE = {"full_compliance": "compliance", "full_refusal": "refusal", "partial_refusal": "refusal"}


def is_unscored(value: object) -> bool:
    """Whether an Inspect score value means "unscored": NaN (Inspect's sentinel, written by
    `Score.unscored()`) or the string "unscored" (logs written before stagelens used NaN)."""
    return value == UNSCORED or (isinstance(value, float) and math.isnan(value))


def judge_rater(name: str) -> str:
    """The rater name a suite gives to use the spec's judge `name`: ``"judge:NAME"``."""
    return f"{JUDGE_PREFIX}{name}"


def judge_name(rater: str) -> str | None:
    """The judge a rater name refers to (``"judge:NAME"`` -> ``"NAME"``); None for a rater."""
    return rater.removeprefix(JUDGE_PREFIX) if rater.startswith(JUDGE_PREFIX) else None


@dataclass(frozen=True)
class Rater:
    """A registered rater: its identity, every label it can return, and how it classifies."""

    identity: RaterIdentity
    labels: tuple[str, ...]  # every label the rater can return, "unscored" included
    classify: Classify
    # batched classification, for raters whose per-call cost is mostly fixed (a model)
    classify_many: Callable[[list[str]], list[str]] | None = None

    def classify_all(self, responses: list[str]) -> list[str]:
        """The label of each response, batched where the rater supports it."""
        if self.classify_many is not None:
            return self.classify_many(responses)
        return [self.classify(r) for r in responses]
