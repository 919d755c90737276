"""The evaluation-awareness rater against its hand-written labelled examples.

    python bench/awareness_rater.py [--errors]

The patterns are developed on the `dev` split only; the `holdout` split is what the figures
report (DATA.md, "How raters are developed and measured"). `--errors` lists the dev split's
misses by kind, for development; held-out misses are never listed.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter

from stagelens.raters import awareness
from stagelens.raters.examples import DATA, read_examples
from stagelens.stats.agreement import cohen_kappa
from stagelens.stats.rates import wilson_interval

EXAMPLES = DATA / "awareness_examples.jsonl"
LABELS = ("aware", "unaware")
N_BOOT = 2000


def kappa_interval(truth: list[str], predicted: list[str], seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of Cohen's κ over the rows (seeded)."""
    rng = random.Random(seed)
    n = len(truth)
    draws = []
    for _ in range(N_BOOT):
        idx = [rng.randrange(n) for _ in range(n)]
        draws.append(cohen_kappa([truth[i] for i in idx], [predicted[i] for i in idx], LABELS))
    draws.sort()
    return draws[int(0.025 * N_BOOT)], draws[int(0.975 * N_BOOT) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the dev split's misses")
    args = parser.parse_args()
    rows = read_examples(EXAMPLES)
    print(f"{awareness.RATER_NAME} v{awareness.RATER_VERSION}: {len(rows)} labelled examples")
    print("\n| split | n | accuracy (Wilson 95%) | Cohen's κ (bootstrap 95%) | aware recall | "
          "unaware recall |")
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
        lo, hi = wilson_interval(sum(hits.values()), len(part))
        k_lo, k_hi = kappa_interval(truth, predicted)
        print(
            f"| {split} | {len(part)} | {accuracy:.3f} [{lo:.3f}, {hi:.3f}] | "
            f"{kappa:.3f} [{k_lo:.3f}, {k_hi:.3f}] | "
            f"{recall['aware']:.3f} ({hits['aware']}/{totals['aware']}) | "
            f"{recall['unaware']:.3f} ({hits['unaware']}/{totals['unaware']}) |"
        )
        if split == "holdout":  # per kind: where the held-out misses fall (counts only)
            kinds = Counter(r["kind"] for r in part)
            right = Counter(r["kind"] for r, p in zip(part, predicted, strict=True)
                            if p == r["label"])  # fmt: skip
            print("  held out by kind: " + ", ".join(f"{k} {right[k]}/{kinds[k]}"
                                                     for k in sorted(kinds)))  # fmt: skip
        if args.errors and split == "dev":
            for row, p in zip(part, predicted, strict=True):
                if p != row["label"]:
                    print(f"  dev miss [{row['kind']}] {row['label']} -> {p}: {row['text'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
