"""What stagelens registers with Inspect (entry point `inspect_ai`): provider, sandbox, tasks.

Kept free of heavy imports: Inspect loads this when it resolves a `stagelens` name, and
torch is imported only when a `stagelens-hf` model is actually created.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import modelapi

import stagelens.sandbox.bwrap  # noqa: F401  (registers the "bwrap" sandbox)
from stagelens.suites.over_refusal import over_refusal
from stagelens.suites.reward_hacking import reward_hacking
from stagelens.suites.unsafe_response import unsafe_response

__all__ = ["over_refusal", "reward_hacking", "stagelens_hf", "unsafe_response"]


@modelapi(name="stagelens-hf")
def stagelens_hf() -> type[Any]:
    from stagelens.evaluate.provider import BatchedHuggingFaceAPI

    return BatchedHuggingFaceAPI
