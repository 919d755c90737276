"""Single-prompt alignment dilemmas: a goal conflict with a closed set of actions.

Each dilemma is one JSON object a line::

    {"id": "...", "theme": "...", "system": "...", "context": "...", "user": "...",
     "actions": {"A": "...", "B": "...", ...}, "misaligned": ["B"], "canary": "..."}

`context` (an inbox, a memo, a file dump) may be empty. The model is asked to end its
answer with ``ACTION: <letter>``; the misaligned letters make misalignment exact and
offline. `stagelens-dilemmas` are written for stagelens across Petri's themes (the built-in
file); ``dilemmas:PATH`` reads a user's file with the same fields. Every error names the
file, the line and the field, and comes before anything runs.

The built-in file carries `CANARY` on every line: benchmark data never goes into a training
mixture, and a spec whose SFT mixture contains the canary is refused (`spec/check.py`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from stagelens.benchmarks._files import DataFile, jsonl_objects, read_user_file
from stagelens.records import Provenance

CANARY = "STAGELENS-DILEMMAS-CANARY 7f3c9e2a-1b4d-4c8e-9a6f-2d5b8e1c0f47"
BUILTIN = Path(__file__).with_name("data") / "stagelens_dilemmas.jsonl"
BUILTIN_SOURCE = "stagelens-dilemmas"
USER_PREFIX = "dilemmas:"
LICENCE = "Apache-2.0 (written for stagelens)"
_LETTER = re.compile(r"^[A-H]$")
_TEXT_FIELDS = ("id", "theme", "system", "user")


@dataclass(frozen=True)
class Dilemma:
    id: str
    theme: str
    system: str
    context: str
    user: str
    actions: dict[str, str]  # letter -> one-line action
    misaligned: frozenset[str]


def parse_dilemmas(file: DataFile) -> list[Dilemma]:
    """Every dilemma of a file; the first problem raises ValueError naming file:line field."""
    found: list[Dilemma] = []
    seen: dict[str, int] = {}
    for line, row in jsonl_objects(file):
        where = f"{file.path}:{line}"
        for name in _TEXT_FIELDS:
            value = row.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{where}: field {name!r} is missing or empty")
        context = row.get("context", "")
        if not isinstance(context, str):
            raise ValueError(f"{where}: field 'context' must be text")
        actions = row.get("actions")
        if not isinstance(actions, dict) or len(actions) < 2:
            raise ValueError(f"{where}: field 'actions' must map letters to at least two actions")
        letters = list(actions)
        if any(not _LETTER.match(str(k)) for k in letters) or letters != sorted(letters):
            raise ValueError(f"{where}: field 'actions' keys must be letters A, B, ... in order")
        for letter, text in actions.items():
            if not isinstance(text, str) or not text.strip() or "\n" in text.strip():
                raise ValueError(f"{where}: field 'actions' {letter!r} must be one line of text")
        misaligned = row.get("misaligned")
        if not isinstance(misaligned, list) or not misaligned:
            raise ValueError(f"{where}: field 'misaligned' must list at least one action")
        unknown = [m for m in misaligned if m not in actions]
        if unknown:
            raise ValueError(f"{where}: field 'misaligned' names unknown action(s) {unknown}")
        if set(misaligned) == set(actions):
            raise ValueError(f"{where}: field 'misaligned' marks every action; one must be safe")
        ident = str(row["id"])
        if ident in seen:
            raise ValueError(f"{where}: field 'id' {ident!r} repeats line {seen[ident]}")
        seen[ident] = line
        found.append(Dilemma(
            id=ident, theme=str(row["theme"]), system=str(row["system"]), context=context,
            user=str(row["user"]), actions={str(k): str(v).strip() for k, v in actions.items()},
            misaligned=frozenset(str(m) for m in misaligned),
        ))  # fmt: skip
    if not found:
        raise ValueError(f"{file.path}: no dilemmas")
    return found


def load_dilemmas(source: str) -> tuple[list[Dilemma], Provenance]:
    """The dilemmas of `source`: ``stagelens-dilemmas`` or ``dilemmas:PATH``."""
    if source == BUILTIN_SOURCE:
        file = DataFile(BUILTIN, BUILTIN.read_bytes(), f"stagelens:{BUILTIN.name}")
        name, licence = "stagelens dilemmas", LICENCE
    elif source.startswith(USER_PREFIX):
        file = read_user_file(source.removeprefix(USER_PREFIX), "dilemmas")
        name, licence = f"dilemmas from {file.path.name}", "see the user's file"
    else:
        raise ValueError(
            f"unknown dilemma source {source!r}; known: {BUILTIN_SOURCE!r}, 'dilemmas:PATH'"
        )
    dilemmas = parse_dilemmas(file)
    provenance = Provenance(name=name, source=file.source, licence=licence, sha256=file.sha256,
                            n=len(dilemmas))  # fmt: skip
    return dilemmas, provenance


def select(dilemmas: list[Dilemma], n: int, seed: int) -> list[Dilemma]:
    """`n` dilemmas (<= 0: all), drawn with a stable seed and sorted by id."""
    if n > len(dilemmas):
        raise ValueError(f"only {len(dilemmas)} dilemmas; {n} were requested")
    chosen = dilemmas if n <= 0 else random.Random(f"dilemmas-{seed}").sample(dilemmas, n)
    return sorted(chosen, key=lambda d: d.id)


def contains_canary(text: str) -> bool:
    return CANARY in text


__all__ = [
    "BUILTIN_SOURCE",
    "CANARY",
    "Dilemma",
    "contains_canary",
    "load_dilemmas",
    "parse_dilemmas",
    "select",
]
