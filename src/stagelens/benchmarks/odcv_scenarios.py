"""ODCV-Bench's scenarios (github.com/McGill-DMaS/ODCV-Bench, MIT), read from a checkout.

A checkout has `mandated_scenarios/` and `incentivized_scenarios/`, one folder per scenario
with `prompt.json` (system_prompt, user_prompt), data files, tool and validator scripts, and
a `Dockerfile` whose COPY lines say where each file goes. The two variants differ only in
the user prompt.

The Dockerfile is interpreted, not built (there is no container engine here): COPY places
files in a virtual file system; RUN's `mkdir`, `mv`, `rm`, `chmod`, `dos2unix` are applied
to it; installing system packages (`apt-get`, `pip3`) is left to the sandbox, which has
python3, bc and jq. `chmod` without a write bit (`chmod -R 555 /usr/local/bin`) makes a path
read-only for the agent. The upstream harness's own files (its command API server,
templates, requirements) are not the scenario's and are not copied. Anything else the
interpreter cannot reproduce skips the scenario with its file, line and reason: a skipped
scenario is reported and counted, never silently dropped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from stagelens.records import Provenance

VARIANTS = ("mandated", "incentivized")
LICENCE = "MIT (ODCV-Bench, Li, Fung et al. 2025, arXiv 2512.20798)"
# the upstream harness (orchestrator_api image), not part of any scenario
HARNESS_SOURCES = ("task_executor_api.py", "templates", "requirements.txt")
# where a scenario may put files: the image's app folder and its tool folder
ROOTS = ("/app", "/usr/local/bin")
SYSTEM_STEPS = ("apt-get", "apt", "pip", "pip3")  # the sandbox provides python3, bc, jq
SCRIPT_SUFFIXES = (".sh", ".py")
# folders every Debian image already has (read-only in the sandbox, as system folders are)
IMAGE_FOLDERS = ("/var/log", "/var/tmp", "/tmp")


class OdcvScenarioError(ValueError):
    """A scenario the interpreter cannot lay out; the message names file, line and reason."""


@dataclass(frozen=True)
class OdcvScenario:
    """One scenario in one variant, laid out as its Dockerfile says."""

    name: str
    variant: str
    system_prompt: str
    user_prompt: str
    workdir: str
    files: dict[str, bytes]  # absolute sandbox path -> content
    dirs: tuple[str, ...]  # folders to create (empty ones included)
    executables: tuple[str, ...]  # absolute paths made executable
    read_only: tuple[str, ...]  # absolute paths the agent cannot change (folders or files)
    not_reproduced: tuple[str, ...]  # Dockerfile steps left to the sandbox, with their line

    @property
    def id(self) -> str:
        return f"{self.name}:{self.variant}"

    def hashes(self) -> dict[str, str]:
        return {path: hashlib.sha256(data).hexdigest() for path, data in self.files.items()}

    def is_tool(self, path: str) -> bool:
        """A script or anything in a read-only folder: the tools and validators the agent is
        told to use. Everything else is data (inputs, records, configuration)."""
        return path.endswith(SCRIPT_SUFFIXES) or any(_under(path, ro) for ro in self.read_only)


@dataclass(frozen=True)
class SkippedScenario:
    name: str
    variant: str
    reason: str


@dataclass
class _Layout:
    where: str  # the Dockerfile, for messages
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    executables: set[str] = field(default_factory=set)
    read_only: set[str] = field(default_factory=set)
    not_reproduced: list[str] = field(default_factory=list)
    workdir: str = "/app"


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _check_root(path: str, where: str) -> str:
    clean = str(PurePosixPath(path))
    if not PurePosixPath(clean).is_absolute() or ".." in PurePosixPath(clean).parts:
        raise OdcvScenarioError(f"{where}: path {path!r} must be absolute")
    if not any(_under(clean, root) for root in ROOTS):
        raise OdcvScenarioError(f"{where}: path {path!r} is outside {' and '.join(ROOTS)}, "
                                "which is all the sandbox lays out")  # fmt: skip
    return clean


def _matches(layout: _Layout, pattern: str) -> list[str]:
    """Files and folders of the layout a shell word (maybe a glob) names; a folder that
    holds files counts as existing even where no mkdir made it (COPY does)."""
    found = [p for p in [*layout.files, *layout.dirs] if fnmatch.fnmatchcase(p, pattern)]
    if not any(ch in pattern for ch in "*?["):
        inside = [p for p in [*layout.files, *layout.dirs] if _under(p, pattern)]
        found += inside + ([pattern] if inside else [])
    return sorted(set(found))


def _copy(layout: _Layout, scenario: Path, words: list[str], where: str) -> None:
    words = [w for w in words if not w.startswith("--")]  # --chown / --chmod: one uid here
    if len(words) < 2:
        raise OdcvScenarioError(f"{where}: COPY needs a source and a destination")
    *sources, dest = words
    into_folder = dest.endswith("/") or len(sources) > 1
    for source in sources:
        rel = source.removeprefix("./").rstrip("/")
        if rel in HARNESS_SOURCES:
            layout.not_reproduced.append(f"{where}: COPY {source} (the upstream harness's)")
            continue
        matched = sorted(scenario.glob(rel)) if any(c in rel for c in "*?[") else [scenario / rel]
        matched = [m for m in matched if m.exists()]
        if not matched:
            raise OdcvScenarioError(f"{where}: COPY source {source!r} is missing from "
                                    f"{scenario}")  # fmt: skip
        for item in matched:
            if item.is_dir():
                target_dir = dest.rstrip("/")
                for file in sorted(p for p in item.rglob("*") if p.is_file()):
                    target = f"{target_dir}/{file.relative_to(item).as_posix()}"
                    layout.files[_check_root(target, where)] = file.read_bytes()
                layout.dirs.add(_check_root(target_dir, where))
                continue
            target = f"{dest.rstrip('/')}/{item.name}" if into_folder or len(matched) > 1 else dest
            layout.files[_check_root(target, where)] = item.read_bytes()


def _move(layout: _Layout, source: str, dest: str, where: str) -> None:
    dest = _check_root(dest, where)
    if dest in layout.dirs and source in layout.files:
        dest = f"{dest}/{PurePosixPath(source).name}"
    moved = False
    for path in [p for p in layout.files if _under(p, source)]:
        layout.files[dest + path[len(source):]] = layout.files.pop(path)
        moved = True
    for folder in [d for d in layout.dirs if _under(d, source)]:
        layout.dirs.discard(folder)
        layout.dirs.add(dest + folder[len(source):])
        moved = True
    if not moved:
        raise OdcvScenarioError(f"{where}: mv {source!r}: no such file")


def _run(layout: _Layout, command: str, where: str) -> None:
    for part in command.replace(";", "&&").split("&&"):
        words = shlex.split(part)
        if not words:
            continue
        program, args = words[0], words[1:]
        if program in SYSTEM_STEPS or (program == "rm" and any("/var/lib/apt" in a for a in args)):
            layout.not_reproduced.append(f"{where}: {part.strip()} (the sandbox's own tools)")
        elif program == "mkdir":
            for folder in (a for a in args if not a.startswith("-")):
                if folder.rstrip("/") in IMAGE_FOLDERS:
                    layout.not_reproduced.append(f"{where}: mkdir {folder} (the image has it)")
                else:
                    layout.dirs.add(_check_root(folder, where))
        elif program == "mv" and len([a for a in args if not a.startswith("-")]) == 2:
            source, dest = [a for a in args if not a.startswith("-")]
            _move(layout, _check_root(source, where), dest, where)
        elif program == "rm":
            for pattern in (a for a in args if not a.startswith("-")):
                for path in _matches(layout, _check_root(pattern, where)):
                    layout.files.pop(path, None)
                    layout.dirs.discard(path)
        elif program == "chmod" and len([a for a in args if not a.startswith("-")]) >= 2:
            mode, *paths = [a for a in args if not a.startswith("-")]
            _chmod(layout, mode, paths, where)
        elif program == "dos2unix":
            for pattern in args:
                for path in _matches(layout, _check_root(pattern, where)):
                    if path in layout.files:
                        layout.files[path] = layout.files[path].replace(b"\r\n", b"\n")
        else:
            raise OdcvScenarioError(f"{where}: RUN {program!r} is not reproduced by the "
                                    "sandbox's layout")  # fmt: skip


def _chmod(layout: _Layout, mode: str, patterns: list[str], where: str) -> None:
    octal = mode.isdigit()
    executable = ("x" in mode and "-x" not in mode) or (octal and int(mode[0]) & 1)
    no_write = octal and not int(mode[0]) & 2
    for pattern in patterns:
        matched = _matches(layout, _check_root(pattern, where))
        if not matched:
            raise OdcvScenarioError(f"{where}: chmod {pattern!r}: no such file")
        for path in matched:
            if executable:
                layout.executables.add(path)
            if no_write:
                layout.read_only.add(path)


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    out: list[tuple[int, str, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending is None and (not line or line.startswith("#")):
            continue
        start, body = pending if pending is not None else (number, "")
        body = f"{body} {line.removesuffix(chr(92))}".strip()
        pending = (start, body) if line.endswith("\\") else None
        if pending is None:
            keyword, _, args = body.partition(" ")
            out.append((start, keyword.upper(), args.strip()))
    return out


def layout_scenario(folder: Path, variant: str) -> OdcvScenario:
    """One scenario folder laid out; OdcvScenarioError (file:line: reason) if it cannot be."""
    prompt_path = folder / "prompt.json"
    if not prompt_path.is_file():
        raise OdcvScenarioError(f"{prompt_path}: missing (every scenario needs its prompts)")
    try:
        prompts = json.loads(prompt_path.read_text(encoding="utf-8"))
        system, user = str(prompts["system_prompt"]), str(prompts["user_prompt"])
    except json.JSONDecodeError as err:
        raise OdcvScenarioError(f"{prompt_path}:{err.lineno}: not JSON ({err.msg})") from None
    except (KeyError, TypeError) as err:
        raise OdcvScenarioError(f"{prompt_path}: field {err} is missing") from None
    dockerfile = folder / "Dockerfile"
    if not dockerfile.is_file():
        raise OdcvScenarioError(f"{dockerfile}: missing (it says where the files go)")
    layout = _Layout(where=str(dockerfile))
    for line, keyword, args in _instructions(dockerfile.read_text(encoding="utf-8")):
        where = f"{dockerfile}:{line}"
        if keyword == "COPY":
            _copy(layout, folder, shlex.split(args), where)
        elif keyword == "RUN":
            _run(layout, args, where)
        elif keyword == "WORKDIR":
            layout.workdir = _check_root(args, where)
            layout.dirs.add(layout.workdir)
        elif keyword in ("FROM", "CMD", "ENTRYPOINT", "EXPOSE", "LABEL"):
            layout.not_reproduced.append(f"{where}: {keyword} (the image and its server)")
        else:
            raise OdcvScenarioError(f"{where}: {keyword} is not reproduced by the sandbox")
    return OdcvScenario(
        name=folder.name, variant=variant, system_prompt=system, user_prompt=user,
        workdir=layout.workdir, files=dict(sorted(layout.files.items())),
        dirs=tuple(sorted(layout.dirs)), executables=tuple(sorted(layout.executables)),
        read_only=tuple(sorted(layout.read_only)), not_reproduced=tuple(layout.not_reproduced),
    )  # fmt: skip


def bench_dir(root: str | Path) -> Path:
    """The checkout's folder holding the scenario sets: `root`, or `root/bench` (the shared
    data folder's layout); a clear error if neither has them."""
    path = Path(root)
    for candidate in (path, path / "bench"):
        if any((candidate / f"{v}_scenarios").is_dir() for v in VARIANTS):
            return candidate
    raise FileNotFoundError(
        f"{path}: no {VARIANTS[0]}_scenarios/ or {VARIANTS[1]}_scenarios/ folder (an "
        "ODCV-Bench checkout, or a folder with bench/ holding one)"
    )


def load_odcv(
    root: str | Path, variants: tuple[str, ...] = VARIANTS
) -> tuple[list[OdcvScenario], list[SkippedScenario], Provenance]:
    """Every scenario of the checkout in each variant, those that could not be laid out
    (with why), and the data's provenance."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown ODCV variant(s) {unknown}; known: {list(VARIANTS)}")
    base = bench_dir(root)
    scenarios: list[OdcvScenario] = []
    skipped: list[SkippedScenario] = []
    digest = hashlib.sha256()
    for variant in variants:
        folder = base / f"{variant}_scenarios"
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: missing (variant {variant!r} was asked for)")
        for scenario in sorted(p for p in folder.iterdir() if p.is_dir()):
            try:
                laid_out = layout_scenario(scenario, variant)
            except (OdcvScenarioError, OSError, UnicodeDecodeError) as err:
                skipped.append(SkippedScenario(scenario.name, variant, str(err)))
                continue
            scenarios.append(laid_out)
            digest.update(json.dumps([laid_out.id, laid_out.hashes(), laid_out.user_prompt],
                                     sort_keys=True).encode())  # fmt: skip
    provenance = Provenance(
        name="ODCV-Bench scenarios",
        source=f"odcv:{base}",
        licence=LICENCE,
        n=len(scenarios),
        sha256=digest.hexdigest(),
        notes=f"variants: {', '.join(variants)}; {len(skipped)} scenario-variant(s) skipped: "
        + "; ".join(f"{s.name}:{s.variant}: {s.reason}" for s in skipped),
    )
    return scenarios, skipped, provenance


__all__ = [
    "HARNESS_SOURCES",
    "VARIANTS",
    "OdcvScenario",
    "OdcvScenarioError",
    "SkippedScenario",
    "bench_dir",
    "layout_scenario",
    "load_odcv",
]
