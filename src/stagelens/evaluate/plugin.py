"""What stagelens registers with Inspect: the `stagelens-hf` provider, the `bwrap` sandbox and
the suites' tasks.

Inspect loads this through the `inspect_ai` entry point (`stagelens._registry`) when it
resolves a `stagelens/...` name, and the runner imports it before it evaluates. Kept free of
heavy imports: torch is imported only when a `stagelens-hf` model is actually created.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import modelapi

import stagelens.sandbox.bwrap  # noqa: F401  (registers the "bwrap" sandbox)
from stagelens.suites.alignment_dilemmas import alignment_dilemmas
from stagelens.suites.odcv import odcv
from stagelens.suites.organism_alignment_dilemmas import organism_alignment_dilemmas
from stagelens.suites.organism_reward_hacking import organism_reward_hacking
from stagelens.suites.over_refusal import over_refusal
from stagelens.suites.reward_hacking import reward_hacking
from stagelens.suites.unsafe_response import unsafe_response
from stagelens.suites.user_audit import user_audit

__all__ = [
    "alignment_dilemmas",
    "odcv",
    "organism_alignment_dilemmas",
    "organism_reward_hacking",
    "over_refusal",
    "reward_hacking",
    "stagelens_hf",
    "unsafe_response",
    "user_audit",
]


@modelapi(name="stagelens-hf")
def stagelens_hf() -> type[Any]:
    """The `stagelens-hf` model API: Inspect's hf provider with a batching scheduler."""
    from stagelens.evaluate.provider import BatchedHuggingFaceAPI

    return BatchedHuggingFaceAPI
