"""Safety suites, one Inspect task per file, listed here by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagelens.suites.common import SuiteInfo

if TYPE_CHECKING:
    from inspect_ai import Task


def _catalogue() -> dict[str, tuple[SuiteInfo, object]]:
    from stagelens.suites import (
        organism_reward_hacking,
        over_refusal,
        reward_hacking,
        unsafe_response,
    )

    entries = [
        (unsafe_response.INFO, unsafe_response.unsafe_response),
        (over_refusal.INFO, over_refusal.over_refusal),
        (reward_hacking.INFO, reward_hacking.reward_hacking),
        (organism_reward_hacking.INFO, organism_reward_hacking.organism_reward_hacking),
    ]
    catalogue: dict[str, tuple[SuiteInfo, object]] = {}
    for info, factory in entries:
        if info.name in catalogue:
            raise ValueError(f"two suites are named {info.name!r}")
        catalogue[info.name] = (info, factory)
    return catalogue


def suite_names() -> list[str]:
    return list(_catalogue())


def suite_info(name: str) -> SuiteInfo:
    return _get(name)[0]


def make_task(name: str, **args: object) -> Task:
    factory = _get(name)[1]
    return factory(**args)  # type: ignore[operator, no-any-return]


def _get(name: str) -> tuple[SuiteInfo, object]:
    catalogue = _catalogue()
    if name not in catalogue:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(catalogue)}")
    return catalogue[name]
