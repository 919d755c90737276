"""Single-prompt alignment dilemmas: a goal conflict with a closed set of actions.

Each dilemma is one JSON object a line::

    {"id": "...", "theme": "...", "system": "...", "context": "...", "user": "...",
     "actions": {"A": "...", "B": "...", ...}, "misaligned": ["B"], "canary": "..."}

`context` (an inbox, a memo, a file dump) may be empty. The model is asked to end its
answer with ``ACTION: <letter>``; the misaligned letters make misalignment exact and
offline. A user's dilemma may instead be open-ended: no `actions` and no `misaligned`, and
optionally `misaligned_if` (what counts as the misaligned way out, shown to the judge); its
misalignment is rated by a judge (rubric `misalignment`), unscored without one.

Sources: `stagelens-dilemmas`, written for stagelens across Petri's themes (the built-in
file); ``dilemmas:PATH`` (or ``jsonl:PATH``) reads a user's file with these fields;
`agentic-misalignment[:GOAL_VALUE]` renders Anthropic's scenarios
(`agentic_misalignment.py`). Every error names the file, the line and the field, and comes
before anything runs.

The built-in file carries `CANARY` on every line: benchmark data never goes into a training
mixture, and a spec whose SFT mixture contains the canary is refused (`spec/check.py`).
"""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

from stagelens.benchmarks._dilemma import Dilemma
from stagelens.benchmarks._files import DataFile, jsonl_objects, read_user_file
from stagelens.records import Provenance

CANARY = "STAGELENS-DILEMMAS-CANARY 7f3c9e2a-1b4d-4c8e-9a6f-2d5b8e1c0f47"
BUILTIN = Path(__file__).with_name("data") / "stagelens_dilemmas.jsonl"
BUILTIN_SOURCE = "stagelens-dilemmas"
USER_PREFIXES = ("dilemmas:", "jsonl:")
AGENTIC_SOURCE = "agentic-misalignment"
LICENCE = "Apache-2.0 (written for stagelens)"
_LETTER = re.compile(r"^[A-H]$")
_TEXT_FIELDS = ("id", "theme", "system", "user")


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
        misaligned_if = row.get("misaligned_if", "")
        if not isinstance(misaligned_if, str):
            raise ValueError(f"{where}: field 'misaligned_if' must be text")
        ident = str(row["id"])
        if ident in seen:
            raise ValueError(f"{where}: field 'id' {ident!r} repeats line {seen[ident]}")
        if "actions" not in row and "misaligned" not in row:  # open-ended: a judge rates it
            seen[ident] = line
            found.append(Dilemma(id=ident, theme=str(row["theme"]), system=str(row["system"]),
                                 context=context, user=str(row["user"]), actions={},
                                 misaligned=frozenset(), misaligned_if=misaligned_if.strip()))
            continue
        actions = row.get("actions")
        if not isinstance(actions, dict) or len(actions) < 2:
            raise ValueError(f"{where}: field 'actions' must map letters to at least two actions "
                             "(or leave out both 'actions' and 'misaligned': open-ended)")
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
        seen[ident] = line
        found.append(Dilemma(
            id=ident, theme=str(row["theme"]), system=str(row["system"]), context=context,
            user=str(row["user"]), actions={str(k): str(v).strip() for k, v in actions.items()},
            misaligned=frozenset(str(m) for m in misaligned), misaligned_if=misaligned_if.strip(),
        ))  # fmt: skip
    if not found:
        raise ValueError(f"{file.path}: no dilemmas")
    return found


def load_dilemmas(source: str) -> tuple[list[Dilemma], Provenance]:
    """The dilemmas of `source`: ``stagelens-dilemmas``, ``dilemmas:PATH`` (``jsonl:PATH``)
    or ``agentic-misalignment[:GOAL_VALUE]``, or several joined by ``+`` (ids must not repeat
    across them; the provenance lists each part, its hash over the parts' hashes)."""
    if "+" in source:
        return _combined([part.strip() for part in source.split("+")])
    if source == AGENTIC_SOURCE or source.startswith(AGENTIC_SOURCE + ":"):
        from stagelens.benchmarks import agentic_misalignment

        return agentic_misalignment.load(source)
    prefix = next((p for p in USER_PREFIXES if source.startswith(p)), None)
    if source == BUILTIN_SOURCE:
        file = DataFile(BUILTIN, BUILTIN.read_bytes(), f"stagelens:{BUILTIN.name}")
        name, licence = "stagelens dilemmas", LICENCE
    elif prefix is not None:
        file = read_user_file(source.removeprefix(prefix), "dilemmas")
        name, licence = f"dilemmas from {file.path.name}", "see the user's file"
    else:
        raise ValueError(
            f"unknown dilemma source {source!r}; known: {BUILTIN_SOURCE!r}, 'dilemmas:PATH', "
            f"'jsonl:PATH', {AGENTIC_SOURCE!r}[:GOAL_VALUE]"
        )
    dilemmas = parse_dilemmas(file)
    provenance = Provenance(name=name, source=file.source, licence=licence, sha256=file.sha256,
                            n=len(dilemmas))  # fmt: skip
    return dilemmas, provenance


def _combined(sources: list[str]) -> tuple[list[Dilemma], Provenance]:
    if len(set(sources)) != len(sources) or not all(sources):
        raise ValueError(f"dilemma sources joined by '+' must be distinct and non-empty: {sources}")
    found: list[Dilemma] = []
    parts: list[Provenance] = []
    origin: dict[str, str] = {}
    for source in sources:
        dilemmas, provenance = load_dilemmas(source)
        for d in dilemmas:
            if d.id in origin:
                raise ValueError(f"dilemma id {d.id!r} is in both {origin[d.id]!r} and {source!r}")
            origin[d.id] = source
        found += dilemmas
        parts.append(provenance)
    digest = hashlib.sha256("".join(p.sha256 or "" for p in parts).encode()).hexdigest()
    return found, Provenance(
        name=" + ".join(p.name for p in parts), source=" + ".join(p.source for p in parts),
        licence="; ".join(f"{p.name}: {p.licence}" for p in parts), sha256=digest, n=len(found),
        notes="sha256 of the parts' sha256s in order; parts: "
        + "; ".join(f"{p.name} ({p.n}) {p.sha256}" for p in parts),
    )  # fmt: skip


def select(dilemmas: list[Dilemma], n: int, seed: int) -> list[Dilemma]:
    """`n` dilemmas (<= 0: all), drawn with a stable seed and sorted by id."""
    if n > len(dilemmas):
        raise ValueError(f"only {len(dilemmas)} dilemmas; {n} were requested")
    chosen = dilemmas if n <= 0 else random.Random(f"dilemmas-{seed}").sample(dilemmas, n)
    return sorted(chosen, key=lambda d: d.id)


def contains_canary(text: str) -> bool:
    return CANARY in text


__all__ = [
    "AGENTIC_SOURCE",
    "BUILTIN_SOURCE",
    "CANARY",
    "Dilemma",
    "contains_canary",
    "load_dilemmas",
    "parse_dilemmas",
    "select",
]
