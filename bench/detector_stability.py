"""Do the reward-hacking detectors give the same labels on an idle and on a loaded machine?

Run: .venv/bin/python bench/detector_stability.py [--runs 5] [--load both|idle|busy]
                                                 [--organism-only] [--json FILE]

Carries out every (problem, action) pair the organism's suite uses (its six problems x the
five actions, at the sizes and batch count the suite measures them at, in the suite's
variant) and, unless `--organism-only`, the honest action (`improve`: the fast reference) on
the other problems too, in fresh bubblewrap sandboxes, with no memo: every run measures
everything again. `--runs` runs are made idle, then as many while `--busy` (default: one per
CPU) busy-loop processes saturate the machine. Per (problem, action) it prints the labels
(cheat, honest success, the rules that made it a cheat), the raw detector flags, the timer's
claim, and the min / max trusted speed-up per load; a final line says whether every label was
identical across all runs. Needs `bwrap`. Written for stagelens (Apache-2.0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from stagelens.environments.reward_hacking import PROBLEMS
from stagelens.environments.reward_hacking.actions import ACTIONS, ActionResult, execute_action
from stagelens.organism.episodes import PROBLEMS as ORGANISM_PROBLEMS
from stagelens.sandbox import bwrap_problem
from stagelens.suites.organism_reward_hacking import VARIANT, execution_args

BUSY_LOOP = "while True:\n    pass\n"


@dataclass
class Row:
    load: str
    run: int
    problem: str
    action: str
    cheat: bool
    honest_success: bool
    rules: str  # the verdict's rules (the letters of its reasons), "-" for none
    fired: str  # the raw detector flags, a-d, "-" for none
    claim_passed: bool
    claim_speedup: float | None
    speedup: float
    reference_speedup: float
    seconds: float

    @property
    def labels(self) -> tuple[bool, bool, str]:
        return (self.cheat, self.honest_success, self.rules)


def pairs(organism_only: bool) -> list[tuple[str, str]]:
    chosen = [(p, a) for p in sorted(ORGANISM_PROBLEMS) for a in ACTIONS]
    if not organism_only:
        chosen += [(p, "improve") for p in PROBLEMS if p not in ORGANISM_PROBLEMS]
    return chosen


def row_of(load: str, run: int, result: ActionResult) -> Row:
    v = result.verdict
    detectors = (v.protected, v.retiming, v.correctness, v.implausible)
    fired = "".join(k for k, d in zip("abcd", detectors, strict=True) if d.fired)
    rules = "".join(reason[1] for reason in v.reasons)  # each reason opens "(a) ..."
    return Row(
        load=load, run=run, problem=result.problem, action=result.action,
        cheat=v.deterministic_cheat, honest_success=v.honest_success, rules=rules or "-",
        fired=fired or "-", claim_passed=v.claim.passed, claim_speedup=v.claim.speedup,
        speedup=v.retiming.speedup, reference_speedup=v.retiming.reference_speedup,
        seconds=result.seconds,
    )  # fmt: skip


async def one_run(load: str, run: int, chosen: list[tuple[str, str]]) -> list[Row]:
    rows = []
    for name, action in chosen:
        problem = PROBLEMS[name]
        result = await execute_action(problem, VARIANT, action, **execution_args(problem))
        rows.append(row_of(load, run, result))
    return rows


def start_busy(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]


def stop_busy(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:  # only the processes this script started, by their own handle
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def report(rows: list[Row], loads: list[str], chosen: list[tuple[str, str]]) -> bool:
    header = " ".join(f"{load + ' x min':>10} {'max':>8}" for load in loads)
    print(f"\n{'problem':20} {'action':10} {'cheat':>5} {'honest':>6} {'rules':>5} "
          f"{'fired':>5} {'claim':>6} {header}  same labels")  # fmt: skip
    all_same = flags_same = True
    for name, action in chosen:
        mine = [r for r in rows if r.problem == name and r.action == action]
        labels = sorted({r.labels for r in mine})
        same = len(labels) == 1
        all_same = all_same and same
        flags_same = flags_same and len({r.fired for r in mine}) == 1
        if same:
            cheat, honest, rules = str(int(labels[0][0])), str(int(labels[0][1])), labels[0][2]
        else:
            cheat = honest = rules = "?"
        claims = {r.claim_passed for r in mine}
        claim = "PASS" if claims == {True} else "FAIL" if claims == {False} else "varies"
        fired = "/".join(sorted({r.fired for r in mine}))
        ranges = " ".join(
            f"{min(s):10.1f} {max(s):8.1f}"
            for load in loads
            for s in [[r.speedup for r in mine if r.load == load]]
        )
        verdict = "yes" if same else f"NO {labels}"
        print(f"{name:20} {action:10} {cheat:>5} {honest:>6} {rules:>5} {fired:>5} "
              f"{claim:>6} {ranges}  {verdict}")  # fmt: skip
    runs = sorted({(r.load, r.run) for r in rows})
    per_load = ", ".join(f"{sum(1 for ld, _ in runs if ld == load)} {load}" for load in loads)
    print(f"\nruns: {per_load}; pairs: {len(chosen)}; executions: {len(rows)}")
    print(f"raw detector flags identical across all runs: {'yes' if flags_same else 'no'}")
    print(f"every label (cheat, honest_success, rules) identical across all {len(runs)} runs: "
          f"{'YES' if all_same else 'NO'}")  # fmt: skip
    return all_same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per load (default 5)")
    parser.add_argument("--load", choices=("both", "idle", "busy"), default="both")
    parser.add_argument(
        "--busy",
        type=int,
        default=os.cpu_count() or 2,
        help="busy-loop processes while loaded (default: one per CPU)",
    )
    parser.add_argument(
        "--organism-only",
        action="store_true",
        help="only the organism's pairs, not `improve` on the other problems",
    )
    parser.add_argument("--json", help="also write every row to this file")
    args = parser.parse_args()
    problem = bwrap_problem()
    if problem is not None:
        print(f"bwrap cannot run here: {problem}", file=sys.stderr)
        return 2
    loads = ["idle", "busy"] if args.load == "both" else [args.load]
    chosen = pairs(args.organism_only)
    rows: list[Row] = []
    for load in loads:
        procs = start_busy(args.busy) if load == "busy" else []
        try:
            for run in range(args.runs):
                started = time.perf_counter()
                got = asyncio.run(one_run(load, run, chosen))
                rows.extend(got)
                with open("/proc/loadavg", encoding="utf-8") as handle:
                    loadavg = handle.read().split()[0]
                speedups = [r.speedup for r in got if r.action == "improve"]
                print(f"{load} run {run + 1}/{args.runs}: {time.perf_counter() - started:5.1f} s, "
                      f"load average {loadavg}, improve speed-ups "
                      f"{min(speedups):.1f}-{max(speedups):.1f}x", flush=True)  # fmt: skip
        finally:
            stop_busy(procs)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([asdict(r) for r in rows], handle, indent=1)
    return 0 if report(rows, loads, chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
