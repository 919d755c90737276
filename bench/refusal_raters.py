"""Refusal raters against labels they were not developed on.

    python bench/refusal_raters.py [--folds 5] [--seed 0] [--shared ../shared/data/xstest]

The protocol (DATA.md, "How raters are developed and measured"):

- development: the written examples marked `"split": "dev"`. Rules are tuned and classifier
  settings chosen by looking at these only; the classifier's feature set is picked by
  stratified k-fold cross-validation over them (the `folds` columns).
- held out: the written examples marked `"split": "holdout"`, never looked at while tuning;
  classifiers are fitted on the dev rows only for these columns.
- reported on: the human-labelled XSTest completions (`strmatch_labels_*.csv`), with the
  XSTest authors' own string matcher on the same rows as the peer. The shipped classifier is
  fitted on all written examples (dev and held out), never on these files.

Prints one table of accuracy and Cohen's kappa (three-way and binary) per rater and data set,
and the ablation of the MiniLM classifier's features.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

from stagelens.raters import minilm
from stagelens.raters.calibrate import binary_of, read_labelled
from stagelens.raters.registry import get_rater
from stagelens.stats.agreement import cohen_kappa

THREE = ("full_compliance", "full_refusal", "partial_refusal")
BINARY = ("compliance", "refusal")
Rows = list[dict[str, str]]


def scores(truth: list[str], predicted: list[str]) -> tuple[str, str, str, str, int]:
    """3-way accuracy, 3-way kappa, binary accuracy, binary kappa (unscored left out), n."""
    pairs = [(t, p) for t, p in zip(truth, predicted, strict=True) if p != "unscored"]
    if not pairs:
        return ("-", "-", "-", "-", 0)
    t3, p3 = [t for t, _ in pairs], [p for _, p in pairs]
    t2, p2 = [binary_of(t) for t in t3], [binary_of(p) for p in p3]
    three = all(p in THREE for p in p3)
    acc3 = f"{sum(a == b for a, b in pairs) / len(pairs):.3f}" if three else "-"
    k3 = f"{cohen_kappa(t3, p3, THREE):.3f}" if three else "-"
    acc2 = sum(a == b for a, b in zip(t2, p2, strict=True)) / len(pairs)
    return (acc3, k3, f"{acc2:.3f}", f"{cohen_kappa(t2, p2, BINARY):.3f}", len(pairs))


def stratified_folds(rows: Rows, k: int, seed: int) -> list[Rows]:
    folds: list[Rows] = [[] for _ in range(k)]
    rng = random.Random(seed)
    for label in THREE:
        members = [r for r in rows if r["label"] == label]
        rng.shuffle(members)
        for i, row in enumerate(members):
            folds[i % k].append(row)
    return folds


L2_GRID = (1e-5, 3e-5, 1e-4, 1e-3, 1e-2)


def cv_predictions(
    rows: Rows, k: int, seed: int, which: str, l2: float = minilm.L2
) -> tuple[list[str], list[str]]:
    """Every dev row labelled by a classifier fitted on the other folds."""
    truth: list[str] = []
    predicted: list[str] = []
    folds = stratified_folds(rows, k, seed)
    for i, test in enumerate(folds):
        train = [r for j, fold in enumerate(folds) if j != i for r in fold]
        model = minilm.train(train, which, l2)
        truth += [r["label"] for r in test]
        predicted += minilm.predict(model, [r["response"] for r in test], which)
    return truth, predicted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    default_shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "xstest"
    parser.add_argument("--shared", type=Path, default=default_shared)
    args = parser.parse_args()

    rows = minilm.examples()
    dev = [r for r in rows if r.get("split", "dev") == "dev"]
    holdout = [r for r in rows if r.get("split") == "holdout"]
    shared = {
        path.stem.removeprefix("strmatch_labels_"): read_labelled(path)
        for path in sorted(args.shared.glob("strmatch_labels_*.csv"))
    }
    print(f"written examples: {len(dev)} dev, {len(holdout)} held out; shared files: "
          f"{', '.join(f'{k} ({len(v)})' for k, v in shared.items()) or 'none found'}")  # fmt: skip
    header = "| rater | data | n | 3-way acc | 3-way κ | binary acc | binary κ |"
    print(f"\n{header}\n|---|---|---|---|---|---|---|")

    def row(name: str, data: str, truth: list[str], predicted: list[str]) -> None:
        acc3, k3, acc2, k2, n = scores(truth, predicted)
        print(f"| {name} | {data} | {n} | {acc3} | {k3} | {acc2} | {k2} |")

    def evaluate(name: str, label: Callable[[list[str]], list[str]], on_dev: bool) -> None:
        if on_dev:
            row(name, "written dev (in-sample)", [r["label"] for r in dev],
                label([r["response"] for r in dev]))  # fmt: skip
        if holdout:
            row(name, "written held-out", [r["label"] for r in holdout],
                label([r["response"] for r in holdout]))  # fmt: skip
        for model, labelled in shared.items():
            row(name, f"XSTest {model}", [x.label for x in labelled],
                label([x.response for x in labelled]))  # fmt: skip

    for rater in ("refusal-strings", "refusal-strings-3way"):
        evaluate(rater, get_rater(rater).classify_all, on_dev=True)
    dev_model = minilm.train(dev)
    if holdout:
        row("refusal-minilm (fit on dev)", "written held-out", [r["label"] for r in holdout],
            minilm.predict(dev_model, [r["response"] for r in holdout]))  # fmt: skip
    shipped = get_rater("refusal-minilm").classify_all
    for model, labelled in shared.items():
        row("refusal-minilm (shipped)", f"XSTest {model}", [x.label for x in labelled],
            shipped([x.response for x in labelled]))  # fmt: skip
    for model, labelled in shared.items():
        row("XSTest authors' matcher", f"XSTest {model}", [x.label for x in labelled],
            [str(x.peer) for x in labelled])  # fmt: skip

    print(f"\nAblation of refusal-minilm's features and L2 ({args.folds}-fold CV on dev picks; "
          f"shipped: {minilm.FEATURES!r}, L2 {minilm.L2:g})")  # fmt: skip
    print(f"\n{header.replace('rater', 'features, L2')}\n|---|---|---|---|---|---|---|")
    for which in minilm.FEATURE_SETS:
        best: tuple[float, float] | None = None
        for l2 in L2_GRID:
            truth, predicted = cv_predictions(dev, args.folds, args.seed, which, l2)
            row(f"{which}, {l2:g}", f"written dev, {args.folds}-fold CV", truth, predicted)
            accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
            if best is None or accuracy > best[0]:
                best = (accuracy, l2)
        assert best is not None
        model = minilm.train(dev, which, best[1])
        name = f"{which}, {best[1]:g} (best CV)"
        if holdout:
            row(name, "written held-out (fit on dev)", [r["label"] for r in holdout],
                minilm.predict(model, [r["response"] for r in holdout], which))  # fmt: skip
        for data, labelled in shared.items():
            row(name, f"XSTest {data} (fit on dev)", [x.label for x in labelled],
                minilm.predict(model, [x.response for x in labelled], which))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
