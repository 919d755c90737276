"""Run the organism demo for every built-in variant and seed; print each metric's verdict
against the variant's expectation (met, abstained: inconclusive only for unscored answers
or too few pairs while the scored pairs agree, or NOT met), with the unscored shares and the
reasons for any `inconclusive`.

    python bench/organism_verdicts.py [--variants safety-in-sft,...] [--seeds 0,1,2]
                                      [--out runs/verdicts] [--cache DIR]

Checkpoints come from the usual cache, so a second call only re-evaluates. Exits 1 when a
verdict contradicts an expectation (the table says which).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stagelens.experiment.demo import run_demo
from stagelens.organism.variant import BUILTIN


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{x * 100:5.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(BUILTIN))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="runs/verdicts")
    parser.add_argument("--cache", default=None)
    args = parser.parse_args()
    all_met = True
    rows = []
    for variant in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            out = Path(args.out) / f"{variant}-seed{seed}"
            result = run_demo(variant=variant, out=out, seed=seed, cache=args.cache,
                              progress=lambda _line: None)  # fmt: skip
            checks = {c.metric: c for c in result.record.expectation_checks or []}
            for mc in result.record.metrics:
                check = checks.get(mc.metric)
                met = "-" if check is None else (
                    "met" if check.met else "abstained" if check.abstained else "NOT met"
                )
                all_met &= check is None or check.met or check.abstained
                r = mc.rates
                rows.append(
                    f"{variant:20s} {seed:4d} {mc.metric:32s} {mc.verdict:17s} {met:8s} "
                    f"{_pct(r['sft_only'].rate)} {_pct(r['production'].rate)} "
                    f"{_pct(r['sft_only'].unscored_share)} {_pct(r['production'].unscored_share)}"
                    + (f"  [{'; '.join(mc.verdict_reasons)}]" if mc.verdict_reasons else "")
                )
                print(rows[-1], flush=True)
    print(f"\n{'variant':20s} {'seed':>4s} {'metric':32s} {'verdict':17s} {'expected':8s} "
          "sft% prod% sft-unscored% prod-unscored%")  # fmt: skip
    print("\n".join(rows))
    print(f"\nexpected verdicts: {'none contradicted' if all_met else 'SOME CONTRADICTED'}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
