"""Prompts from a user's own JSONL or CSV file.

Each record has "prompt" (or "text"), and optionally "kind", "category" and "id". Errors
name the file and line (``path:line: ...``) so a user can fix a large file quickly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from stagelens.benchmarks._files import (
    BenchmarkPrompt,
    DataFile,
    Kind,
    csv_rows,
    jsonl_objects,
    parse_kind,
    read_user_file,
)
from stagelens.records import Provenance

Format = Literal["jsonl", "csv"]
USER_LICENCE = "user-supplied file; licence not recorded"
_KNOWN_FIELDS = ("prompt", "text", "kind", "category", "id")


def _format_of(file: DataFile) -> Format:
    suffix = file.path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    # Unknown extension: a JSONL file starts with an object, anything else is read as CSV.
    return "jsonl" if file.text().lstrip().startswith("{") else "csv"


def _records(file: DataFile, fmt: Format) -> Iterator[tuple[int, Mapping[str, object]]]:
    if fmt == "jsonl":
        yield from jsonl_objects(file)
        return
    reader = csv_rows(file, ())
    first = next(reader, None)
    if first is None:
        raise ValueError(f"{file.path}: no rows under the header")
    yield first
    yield from reader


def _field(record: Mapping[str, object], name: str, where: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def user_file(
    path: str | Path,
    kind: Kind | None = None,
    fmt: Format | None = None,
    licence: str = USER_LICENCE,
) -> tuple[list[BenchmarkPrompt], Provenance]:
    """Read a user's prompt file; ``kind`` is the default for records that carry none.

    A record's own "kind" wins over the default; with neither, the record is an error,
    because guessing whether a prompt is harmful would silently corrupt a suite's metric.
    The format follows the extension unless ``fmt`` is given.
    """
    file = read_user_file(path, "prompt")
    fmt = fmt or _format_of(file)
    prompts: list[BenchmarkPrompt] = []
    seen: dict[str, int] = {}
    for line, record in _records(file, fmt):
        where = f"{file.path}:{line}"
        text = _field(record, "prompt", where) or _field(record, "text", where)
        if text is None:
            raise ValueError(f"{where}: missing or empty field 'prompt' (or 'text')")
        raw_kind = _field(record, "kind", where)
        if raw_kind is not None:
            row_kind = parse_kind(raw_kind, where)
        elif kind is not None:
            row_kind = kind
        else:
            raise ValueError(f"{where}: missing field 'kind' and no default kind was given")
        prompt_id = _field(record, "id", where) or f"{file.path.stem}-{line:06d}"
        if prompt_id in seen:
            raise ValueError(
                f"{where}: duplicate id {prompt_id!r} (first on line {seen[prompt_id]})"
            )
        seen[prompt_id] = line
        extra = {k: v for k, v in record.items() if k not in _KNOWN_FIELDS and v not in ("", None)}
        prompts.append(
            BenchmarkPrompt(
                id=prompt_id,
                text=text,
                kind=row_kind,
                category=_field(record, "category", where),
                metadata=extra,
            )
        )
    if not prompts:
        raise ValueError(f"{file.path}: no prompts in the file")
    provenance = Provenance(
        name=f"user prompts ({file.path.name})",
        source=file.source,
        licence=licence,
        sha256=file.sha256,
        n=len(prompts),
        notes=f"{fmt} file; default kind {kind or 'none (every record names its kind)'}",
    )
    return prompts, provenance
