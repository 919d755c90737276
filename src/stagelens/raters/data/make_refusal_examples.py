"""Check and normalise the refusal-classifier examples (`refusal_examples.jsonl`).

The examples themselves are written by hand for stagelens (Apache-2.0), one JSON object
a line: `{"id", "prompt", "response", "label"}`. Nothing is generated or downloaded, and
nothing is taken from an evaluation set (the XSTest completions are for evaluation only).
This script enforces the file's invariants and rewrites it with a stable key order:

    python src/stagelens/raters/data/make_refusal_examples.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

EXAMPLES = Path(__file__).with_name("refusal_examples.jsonl")
CLASSES = ("full_compliance", "full_refusal", "partial_refusal")
MIN_TOTAL = 240
KEYS = ("id", "prompt", "response", "label")


def load(path: Path = EXAMPLES) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: not a JSON object")
            rows.append({k: str(v) for k, v in row.items()})
    return rows


def problems(rows: list[dict[str, str]]) -> list[str]:
    """Everything wrong with a set of examples; empty when it is fit to train on."""
    found: list[str] = []
    ids = Counter(r.get("id", "") for r in rows)
    found += [f"duplicate id {i!r}" for i, n in ids.items() if n > 1]
    for row in rows:
        name = row.get("id", "?")
        if row.get("label") not in CLASSES:
            found.append(f"{name}: label {row.get('label')!r} is not one of {CLASSES}")
        if not row.get("response", "").strip():
            found.append(f"{name}: empty response (an empty answer is unscored, never a class)")
        found += [f"{name}: unexpected field {k!r}" for k in row if k not in KEYS]
    counts = Counter(r.get("label") for r in rows)
    if len(rows) < MIN_TOTAL:
        found.append(f"{len(rows)} examples; at least {MIN_TOTAL} are needed")
    # balanced: no class may have fewer than 80% of the largest class's examples
    largest = max(counts.values(), default=0)
    found += [f"class {c!r} has {counts[c]} examples, largest has {largest}"
              for c in CLASSES if counts[c] < 0.8 * largest]  # fmt: skip
    return found


def main() -> int:
    rows = load()
    found = problems(rows)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        return 1
    lines = [json.dumps({k: r[k] for k in KEYS if k in r}, ensure_ascii=False) for r in rows]
    EXAMPLES.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    counts = Counter(r["label"] for r in rows).most_common()
    print(f"{len(rows)} examples: " + ", ".join(f"{c} {n}" for c, n in counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
