"""Prompts from a Hugging Face dataset: ``hf:ID?split=test&column=prompt&revision=REV``.

Used where a benchmark is not on PyPI (OR-Bench, XSTest, SORRY-Bench, ...) and the machine
is online. ``ID`` may also be a local dataset directory or data file that `datasets` can
load, which is how this loader is tested offline. A ``kind`` column, if the dataset has one,
says which rows are harmful and which benign-but-scary; otherwise every row is of the kind
the suite asks for.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from stagelens.benchmarks._files import BenchmarkPrompt, Kind, parse_kind
from stagelens.records import Provenance

OPTIONS = ("split", "column", "revision", "licence")


def hub_dataset(location: str, kind: Kind) -> tuple[list[BenchmarkPrompt], Provenance]:
    from datasets import load_dataset

    dataset_id, _, query = location.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    unknown = sorted(set(options) - set(OPTIONS))
    if not dataset_id or unknown:
        raise ValueError(
            f"hf:{location}: expected hf:DATASET?split=..&column=..&revision=.. "
            f"(unknown options: {unknown})"
        )
    split, column = options.get("split", "train"), options.get("column", "prompt")
    local = Path(dataset_id)
    try:
        if local.is_file():
            suffix = local.suffix.lstrip(".")
            data = load_dataset("json" if suffix == "jsonl" else suffix,
                                data_files=str(local), split=split)  # fmt: skip
        else:
            data = load_dataset(dataset_id, split=split, revision=options.get("revision"))
    except Exception as err:  # datasets raises many types for offline / missing / bad split
        raise ValueError(f"hf:{dataset_id}: cannot load split {split!r}: {err}") from err
    if column not in data.column_names:
        raise ValueError(f"hf:{dataset_id}: no column {column!r}; columns: {data.column_names}")
    prompts = []
    for index, row in enumerate(data):
        where = f"hf:{dataset_id} row {index}"
        row_kind = parse_kind(str(row["kind"]), where) if row.get("kind") else kind
        prompts.append(BenchmarkPrompt(id=str(row.get("id") or f"{index:05d}"),
                                       text=str(row[column]), kind=row_kind,
                                       category=row.get("category")))  # fmt: skip
    provenance = Provenance(
        name=f"{dataset_id} ({split})",
        source=f"hub:{dataset_id}" + (f"@{options['revision']}" if "revision" in options else ""),
        licence=options.get("licence") or (data.info.license or "see the dataset card"),
        sha256=None,
        n=len(prompts),
        # datasets' fingerprint identifies the exact content loaded; it is not a file hash
        notes=f"datasets fingerprint {data._fingerprint}; column {column!r}",
    )
    return prompts, provenance
