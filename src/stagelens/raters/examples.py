"""The raters' hand-written example files: one JSON object a line, read and rewritten alike.

`refusal_examples.jsonl` and `awareness_examples.jsonl` (in `data/`) are read by their rater,
their checker script and the benches through these two functions, so a broken line is reported
the same way everywhere (``file:line``) and a rewrite keeps one key order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from stagelens.benchmarks._files import DataFile, jsonl_objects

DATA = Path(__file__).with_name("data")


def read_examples(path: Path) -> list[dict[str, str]]:
    """Every row of an example file, values as text; a bad line raises ValueError file:line."""
    file = DataFile(path, path.read_bytes(), str(path))
    return [{k: str(v) for k, v in row.items()} for _, row in jsonl_objects(file)]


def write_examples(path: Path, rows: Sequence[dict[str, str]], keys: Sequence[str]) -> None:
    """Rewrite an example file with the keys in `keys` order (absent keys left out)."""
    lines = [json.dumps({k: r[k] for k in keys if k in r}, ensure_ascii=False) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


__all__ = ["DATA", "read_examples", "write_examples"]
