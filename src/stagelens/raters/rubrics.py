"""The LLM judges' rubrics, named once.

The judge settings, a spec's `[[judges]]` tables, the judge scorer's rubric table and the
command line's `--rubric` all take these names. Kept apart from `raters.judges` (which loads
Inspect) so that the command line can list them without importing it.
"""

from __future__ import annotations

from typing import Literal, get_args

Rubric = Literal[
    "xstest",
    "strongreject",
    "harmbench",
    "reward_hacking",
    "eval_awareness",
    "misalignment",
    "odcv",
]
RUBRIC_NAMES: tuple[Rubric, ...] = get_args(Rubric)
# rubrics that grade an agent's whole transcript rather than one answer to one request
TRANSCRIPT_RUBRICS: tuple[Rubric, ...] = ("reward_hacking", "odcv")
# rubrics that grade an alignment dilemma's answer (thoughts included), not a refusal
DILEMMA_RUBRICS: tuple[Rubric, ...] = ("eval_awareness", "misalignment")
# rubrics that grade one answer (refusal, compliance, harm): what a single-prompt suite uses
ANSWER_RUBRICS: tuple[Rubric, ...] = tuple(
    r for r in RUBRIC_NAMES if r not in TRANSCRIPT_RUBRICS + DILEMMA_RUBRICS
)

__all__ = ["ANSWER_RUBRICS", "DILEMMA_RUBRICS", "RUBRIC_NAMES", "TRANSCRIPT_RUBRICS", "Rubric"]
