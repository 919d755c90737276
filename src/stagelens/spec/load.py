"""Read an experiment spec from TOML and make its local paths absolute.

Paths are resolved once, here, so every later stage (check, train, evaluate) sees the same
absolute path whatever the working directory of the command that runs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from stagelens.errors import UserError
from stagelens.spec.models import ExperimentSpec, ModelRef, SuiteSpec
from stagelens.toml_errors import load_toml_model, where
from stagelens.training.recipe import MixturePart


class SpecError(UserError, ValueError):
    """A spec that cannot be used; the message names the file, line and field."""


# `${package:NAME}` lets a spec point at files shipped inside an installed wheel.
_PACKAGE = re.compile(r"^\$\{package:([A-Za-z_][A-Za-z0-9_.]*)\}")
# Suite sources of the form KIND:PATH whose PATH is a local file (the others are dataset names).
PATH_SOURCES = ("xstest", "jsonl", "userlogs")

Loc = tuple[int | str, ...]


def package_dir(name: str) -> Path:
    """The directory of an installed package, found without importing it.

    Importing can be slow or fail (a wheel's ``__init__`` may import optional dependencies);
    the spec only needs where its data files lie.
    """
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        found = None
    locations = list(found.submodule_search_locations or []) if found else []
    if not locations:
        raise LookupError(f"package {name!r} is not installed (needed by '${{package:{name}}}')")
    return Path(locations[0])


def resolve_path(value: str, base_dir: Path) -> str:
    """``value`` made absolute: ``${package:NAME}/rest`` or relative to ``base_dir``."""
    match = _PACKAGE.match(value)
    if match:
        rest = value[match.end() :].lstrip("/\\")
        root = package_dir(match.group(1))
        return str(root / rest) if rest else str(root)
    path = Path(value).expanduser()
    # normpath, not resolve(): keep symlinks as the user wrote them, only drop "." and "..".
    return os.path.normpath(path if path.is_absolute() else base_dir / path)


class _Resolver:
    def __init__(self, file: Path, text: str) -> None:
        self.file, self.text = file, text
        self.base_dir = file.parent.absolute()
        self.problems: list[str] = []

    def path(self, value: str, loc: Loc) -> str:
        try:
            return resolve_path(value, self.base_dir)
        except LookupError as err:
            field = ".".join(str(p) for p in loc)
            self.problems.append(f"{where(self.file, self.text, loc)}: field {field!r}: {err}")
            return value

    def model(self, ref: ModelRef, loc: Loc) -> ModelRef:
        if ref.path is not None:
            return ref.model_copy(update={"path": self.path(ref.path, (*loc, "path"))})
        if ref.gguf is not None:
            return ref.model_copy(update={"gguf": self.path(ref.gguf, (*loc, "gguf"))})
        return ref

    def part(self, part: MixturePart, loc: Loc) -> MixturePart:
        if part.path is None:
            return part
        return part.model_copy(update={"path": self.path(part.path, (*loc, "path"))})

    def suite(self, suite: SuiteSpec, loc: Loc) -> SuiteSpec:
        update: dict[str, str] = {}
        if suite.calibration is not None:
            update["calibration"] = self.path(suite.calibration, (*loc, "calibration"))
        kind, sep, rest = suite.source.partition(":")
        if sep and kind in PATH_SOURCES and rest:
            update["source"] = f"{kind}:{self.path(rest, (*loc, 'source'))}"
        return suite.model_copy(update=update)


def load_spec(path: Path | str) -> ExperimentSpec:
    """Load and validate a spec file; local paths come back absolute. Raises SpecError."""
    file = Path(path)
    if not file.is_file():
        raise SpecError(f"{file}: no such spec file")
    spec = load_toml_model(file, ExperimentSpec, SpecError, what="spec")
    # Read again for line numbers: load_toml_model has already proven it readable UTF-8 TOML.
    r = _Resolver(file, file.read_bytes().decode("utf-8", errors="replace"))
    stages = [
        s.model_copy(update={"model": r.model(s.model, ("stages", i, "model"))})
        for i, s in enumerate(spec.stages)
    ]
    sft_only = r.model(spec.sft_only, ("sft_only",)) if spec.sft_only else None
    mixture = [r.part(p, ("sft", "mixture", i)) for i, p in enumerate(spec.sft.mixture)]
    suites = [r.suite(s, ("suites", i)) for i, s in enumerate(spec.suites)]
    odcv = spec.odcv
    if odcv is not None:
        folder = r.path(odcv.source.partition(":")[2], ("odcv", "source"))
        odcv = odcv.model_copy(update={"source": f"odcv:{folder}"})
    audit = spec.audit
    if audit is not None:
        logfile = r.path(audit.source.partition(":")[2], ("audit", "source"))
        audit = audit.model_copy(update={"source": f"userlogs:{logfile}"})
    sweep = spec.sweep
    if sweep is not None and sweep.swap_to is not None:
        swap_to = r.part(sweep.swap_to, ("sweep", "swap_to"))
        sweep = sweep.model_copy(update={"swap_to": swap_to})
    if r.problems:
        raise SpecError("invalid spec\n  " + "\n  ".join(r.problems))
    return spec.model_copy(
        update={
            "stages": stages,
            "sft_only": sft_only,
            "sft": spec.sft.model_copy(update={"mixture": mixture}),
            "suites": suites,
            "odcv": odcv,
            "audit": audit,
            "sweep": sweep,
        }
    )
