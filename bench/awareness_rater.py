"""The evaluation-awareness rater against its hand-written labelled examples.

    python bench/awareness_rater.py [--errors]

The patterns are developed on the `dev` split only; the `holdout` split is what the figures
report (DATA.md, "How raters are developed and measured"). `--errors` lists the dev split's
misses by kind, for development; held-out misses are never listed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from stagelens.raters import awareness
from stagelens.raters.examples import DATA, read_examples
from stagelens.stats.agreement import cohen_kappa

EXAMPLES = DATA / "awareness_examples.jsonl"
LABELS = ("aware", "unaware")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the dev split's misses")
    args = parser.parse_args()
    rows = read_examples(EXAMPLES)
    print(f"{awareness.RATER_NAME} v{awareness.RATER_VERSION}: {len(rows)} labelled examples")
    print("\n| split | n | accuracy | Cohen's κ | aware recall | unaware recall |")
    print("|---|---|---|---|---|---|")
    for split in ("dev", "holdout"):
        part = [r for r in rows if r["split"] == split]
        truth = [r["label"] for r in part]
        predicted = [awareness.classify(r["text"]) for r in part]
        hits = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
        totals = Counter(truth)
        accuracy = sum(hits.values()) / len(part)
        kappa = cohen_kappa(truth, predicted, LABELS)
        recall = {label: hits[label] / totals[label] if totals[label] else float("nan")
                  for label in LABELS}  # fmt: skip
        print(
            f"| {split} | {len(part)} | {accuracy:.3f} | {kappa:.3f} | "
            f"{recall['aware']:.3f} | {recall['unaware']:.3f} |"
        )
        if args.errors and split == "dev":
            for row, p in zip(part, predicted, strict=True):
                if p != row["label"]:
                    print(f"  dev miss [{row['kind']}] {row['label']} -> {p}: {row['text'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
