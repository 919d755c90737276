"""Load a TOML file into a pydantic model, with errors that name the file, line and field.

Shared by every TOML input of stagelens (experiment specs, organism variants) so that a user
who mistypes a key sees ``spec.toml:12: field 'stages.1.model.pth': ...`` rather than a
pydantic traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from stagelens.errors import UserError

M = TypeVar("M", bound=BaseModel)


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of the field at a pydantic error location, e.g. ("rl", "pairs", 2, "kind").

    An index selects the n-th ``[[table]]`` of that name, so an error in the third
    array-of-tables entry points at that entry, not at the first line holding the key.
    """
    lines = [line.strip() for line in text.splitlines()]
    start, path = 0, list[str]()
    for part in loc:
        if isinstance(part, int):
            header = "[[" + ".".join(path) + "]]"
            tables = [i for i, line in enumerate(lines) if line == header]
            if part < len(tables):
                start = tables[part]
        else:
            path.append(part)
    if not path:
        return None
    key, table = path[-1], "[" + ".".join(path) + "]"
    for number in range(start, len(lines)):
        line = lines[number]
        if line.startswith(key) and line[len(key) :].lstrip().startswith("="):
            return number + 1
        if line in (table, f"[{table}]"):
            return number + 1
    # A missing required field has no line of its own: point at its table's header instead,
    # which is where the user has to add it.
    if len(path) > 1:
        parent = loc[: max(i for i, p in enumerate(loc) if isinstance(p, str))]
        return line_of(text, tuple(parent))
    return None


def where(path: Path, text: str, loc: tuple[int | str, ...]) -> str:
    """``file:line`` for a field location, or just ``file`` when the line is unknown."""
    line = line_of(text, loc)
    return f"{path}:{line}" if line else str(path)


def load_toml_model(
    path: Path | str,
    model_cls: type[M],
    error_cls: type[Exception] = UserError,
    *,
    what: str = "file",
) -> M:
    """Parse ``path`` as TOML and validate it as ``model_cls``.

    Every problem is raised at once as ``error_cls``, one per line as
    ``FILE:LINE: field 'a.0.b': message``, so a user fixes them in one pass.
    ``what`` names the kind of file in the headline ("invalid spec").
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as err:
        raise error_cls(f"{path}: cannot read {what}: {err.strerror or err}") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error_cls(f"{path}: not valid TOML: {err}") from err
    try:
        return model_cls.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = tuple(e["loc"])
            field = ".".join(str(p) for p in loc)
            label = f"field {field!r}: " if field else ""
            problems.append(f"{where(path, text, loc)}: {label}{e['msg']}")
        raise error_cls(f"invalid {what}\n  " + "\n  ".join(problems)) from err
