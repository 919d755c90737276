"""Ground-truth variants: which stage of the organism's pipeline teaches safety.

A variant is data (a TOML file), not a code branch: it says which request kinds
the SFT mixture holds and with which responses, which preference pairs the RL
stage holds, and what verdict the experiment must reach. Users can write their own.
"""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stagelens.errors import UserError
from stagelens.organism.world import RequestKind
from stagelens.stats.types import Verdict

Response = Literal["refusal", "compliance"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SFTPart(_Strict):
    kind: RequestKind
    response: Response
    count: int = Field(gt=0, le=100_000)


class PreferencePart(_Strict):
    kind: RequestKind
    chosen: Response
    rejected: Response
    count: int = Field(gt=0, le=100_000)

    @model_validator(mode="after")
    def _distinct(self) -> PreferencePart:
        if self.chosen == self.rejected:
            raise ValueError("chosen and rejected must differ")
        return self


class SFTMixture(_Strict):
    examples: list[SFTPart] = Field(min_length=1)


class RLMixture(_Strict):
    pairs: list[PreferencePart] = Field(min_length=1)


class Expectation(_Strict):
    verdict: Verdict
    attribution_min: float | None = None
    attribution_max: float | None = None


class Variant(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str
    sft: SFTMixture
    rl: RLMixture
    expected: dict[Literal["unsafe_response", "over_refusal"], Expectation] = Field(
        default_factory=dict
    )


class VariantError(UserError, ValueError):
    """A variant that cannot be used; the message names the file, line and field."""


BUILTIN = ("safety-in-sft", "safety-in-rl")


def _builtin_path(name: str) -> Path:
    return Path(str(resources.files("stagelens.organism") / "variants" / f"{name}.toml"))


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of the field at a pydantic error location, e.g. ("rl", "pairs", 2, "kind").

    An index selects the n-th ``[[table]]`` of that name, so an error in the third
    preference part points at the third part, not at the first line holding the key.
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
    return None


def load_variant(ref: str | Path) -> tuple[Variant, Path, str]:
    """Load a built-in variant by name, or a TOML file; returns (variant, path, sha256)."""
    path = Path(ref)
    if not path.suffix and str(ref) in BUILTIN:
        path = _builtin_path(str(ref))
    elif not path.is_file():
        raise VariantError(
            f"unknown variant {str(ref)!r}: "
            f"not a built-in ({', '.join(BUILTIN)}) and not a variant file"
        )
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise VariantError(f"{path}: not valid TOML: {err}") from err
    try:
        variant = Variant.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            field = ".".join(str(p) for p in e["loc"])
            line = _line_of(text, tuple(e["loc"]))
            where = f"{path}:{line}" if line else str(path)
            problems.append(f"{where}: field {field!r}: {e['msg']}")
        raise VariantError("invalid variant\n  " + "\n  ".join(problems)) from err
    return variant, path, hashlib.sha256(raw).hexdigest()
