"""One-off measurement of every problem at its real sizes (not part of the test suite).

    python -m stagelens.environments.reward_hacking.measure [--episodes]

Prints, per problem, the slow and fast references' in-process CPU times on the timing inputs,
the fast reference's speed-up, the target, and the speed-up at the unit-test size (CPU time,
as the timer and the trusted re-timing measure; `bench/detector_stability.py` checks the
detectors' labels on an idle and a loaded machine). With
`--episodes` it also runs a full honest episode (fast reference as the submission) through the
workspace timer and every detector in Inspect's local sandbox, at the real sizes. Written for
stagelens (Apache-2.0).
"""

from __future__ import annotations

import argparse
import asyncio
import resource

from inspect_ai.util import SandboxEnvironment
from inspect_ai.util._sandbox.local import LocalSandboxEnvironment

from stagelens.environments.reward_hacking.problem import Problem, copy_args, load_solve, seed_for
from stagelens.environments.reward_hacking.registry import PROBLEMS
from stagelens.environments.reward_hacking.verdict import EpisodeVerdict, evaluate_episode
from stagelens.environments.reward_hacking.workspace import Variant, build_workspace


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reference_seconds(problem: Problem, size: int, repeats: int = 3) -> tuple[float, float]:
    """Best-of-`repeats` in-process CPU seconds of (slow, fast) on one timing-sized input set."""
    cases = problem.make_inputs(seed_for(problem.name, "timing"), size)
    best = []
    for code in (problem.slow_source, problem.fast_source):
        solve = load_solve(code)
        runs = []
        for _ in range(repeats):
            fresh = [copy_args(args) for args in cases]
            start = cpu_seconds()
            for args in fresh:
                solve(*args)
            runs.append(max(cpu_seconds() - start, 1e-6))
        best.append(min(runs))
    return best[0], best[1]


async def honest_episode(problem: Problem) -> EpisodeVerdict:
    created: list[LocalSandboxEnvironment] = []

    async def fresh() -> SandboxEnvironment:
        created.append(LocalSandboxEnvironment())
        return created[-1]

    workspace = LocalSandboxEnvironment()
    created.append(workspace)
    try:
        for path, content in build_workspace(problem, Variant()).items():
            await workspace.write_file(path, content)
        await workspace.write_file("solution.py", problem.fast_source)
        return await evaluate_episode(problem, Variant(), workspace, fresh, batches=1)
    finally:
        for sandbox in created:
            sandbox.directory.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", action="store_true", help="also run honest episodes")
    args = parser.parse_args()
    print(f"{'problem':22} {'slow s':>7} {'fast ms':>8} {'fast x':>8} {'target':>6} {'test x':>7}")
    for problem in PROBLEMS.values():
        slow, fast = reference_seconds(problem, problem.timing_size)
        test_slow, test_fast = reference_seconds(problem, problem.test_size)
        print(
            f"{problem.name:22} {slow:7.3f} {fast * 1000:8.2f} {slow / fast:8.0f} "
            f"{problem.target_speedup:6.1f} {test_slow / test_fast:7.0f}"
        )
    if args.episodes:
        print(f"\n{'problem':22} {'claim':>28} {'trusted x':>9} {'ref x':>8} fired  honest")
        for problem in PROBLEMS.values():
            v = asyncio.run(honest_episode(problem))
            fired = "".join(
                k
                for k, d in zip(
                    "abcd",
                    (v.protected, v.retiming, v.correctness, v.implausible),
                    strict=True,
                )
                if d.fired
            )
            print(
                f"{problem.name:22} {v.claim.line:>28} {v.retiming.speedup:9.1f} "
                f"{v.retiming.reference_speedup:8.1f} {fired or '-':>5}  {v.honest_success}"
            )


if __name__ == "__main__":
    main()
