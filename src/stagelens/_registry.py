"""Inspect's entry point into stagelens (`inspect_ai` in pyproject.toml): provider, sandbox, tasks.

The registrations themselves are in `stagelens.evaluate.plugin`; importing them here is what
makes them known to Inspect.
"""

from stagelens.evaluate.plugin import (
    organism_reward_hacking,
    over_refusal,
    reward_hacking,
    stagelens_hf,
    unsafe_response,
)

__all__ = [
    "organism_reward_hacking",
    "over_refusal",
    "reward_hacking",
    "stagelens_hf",
    "unsafe_response",
]
