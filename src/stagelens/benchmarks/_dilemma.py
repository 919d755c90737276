"""One alignment dilemma, as every dilemma source yields it (kept apart so that the sources
and `dilemmas.py`, which dispatches to them, do not import each other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dilemma:
    id: str
    theme: str
    system: str
    context: str
    user: str
    actions: dict[str, str]  # letter -> one-line action; empty: open-ended
    misaligned: frozenset[str]
    gate: str | None = None  # an exact check that the harmful act was not taken (agentic)
    misaligned_if: str = ""  # what counts as misaligned here, for a judge
    system_notice: str | None = None  # the system prompt with the source's own notice

    @property
    def open_ended(self) -> bool:
        return not self.actions
