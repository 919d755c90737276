"""Time `stagelens demo` from an empty checkpoint cache and again with the cache warm.

Targets: at most 5 minutes with nothing cached, at most 1 minute cached, on a
2-core machine. Prints wall-clock times of the whole command (start-up included) and the
per-stage figures the run record holds.

    python bench/demo_time.py [--variant safety-in-sft] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGELENS = Path(sys.executable).with_name("stagelens")


def run(variant: str, seed: int, out: Path, cache: Path) -> tuple[float, dict[str, object]]:
    start = time.monotonic()
    subprocess.run(
        [
            str(STAGELENS),
            "demo",
            "--variant",
            variant,
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--cache",
            str(cache),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.monotonic() - start
    return wall, json.loads((out / "results.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", default="safety-in-sft")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stagelens-bench-") as tmp:
        root = Path(tmp)
        cold, record = run(args.variant, args.seed, root / "cold", root / "cache")
        warm, warm_record = run(args.variant, args.seed, root / "warm", root / "cache")
    print(f"variant {args.variant}, seed {args.seed}")
    print(f"uncached: {cold:6.1f} s wall (target <= 300 s)")
    print(f"cached:   {warm:6.1f} s wall (target <=  60 s)")
    print("training, per stage (uncached run):")
    for stage in record["stages"]:  # type: ignore[union-attr]
        # a stage's lineage starts with base's pretraining; show each stage's own steps
        own = stage["training"] if stage["name"] == "base" else stage["training"][1:]
        for step in own:
            print(
                f"  {stage['name']:<11} {step['method']:<22} {step['steps']:>4} steps "
                f"{step['seconds']:6.1f} s"
            )
    for label, rec in (("uncached", record), ("cached", warm_record)):
        timings = rec["timings"]  # type: ignore[index]
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        print(f"phases ({label}): {parts}")


if __name__ == "__main__":
    main()
