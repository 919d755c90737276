"""Per-episode overhead of the `bwrap` sandbox: sample_init + one exec + sample_cleanup.

Run: .venv/bin/python bench/sandbox_overhead.py [--episodes 50]
Target: under 50 ms per episode (median) with a no-op `true`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from stagelens.sandbox import BwrapConfig, BwrapSandboxEnvironment, bwrap_problem

TARGET_MS = 50.0


async def episode(config: BwrapConfig, cmd: list[str]) -> dict[str, float]:
    """Timings (ms) of one episode's phases."""
    t0 = time.perf_counter()
    envs = await BwrapSandboxEnvironment.sample_init("bench", config, {})
    t1 = time.perf_counter()
    result = await envs["default"].exec(cmd)
    t2 = time.perf_counter()
    await BwrapSandboxEnvironment.sample_cleanup("bench", config, envs, False)
    t3 = time.perf_counter()
    if not result.success:
        raise RuntimeError(f"{cmd} failed in the sandbox: {result.stderr}")
    return {
        "init": (t1 - t0) * 1e3,
        "exec": (t2 - t1) * 1e3,
        "cleanup": (t3 - t2) * 1e3,
        "total": (t3 - t0) * 1e3,
    }


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


async def measure(name: str, cmd: list[str], episodes: int) -> float:
    config = BwrapConfig()
    await episode(config, cmd)  # warm the page cache and the bwrap probe
    runs = [await episode(config, cmd) for _ in range(episodes)]
    print(f"{name}  ({episodes} episodes, ms)")
    for phase in ("init", "exec", "cleanup", "total"):
        values = [run[phase] for run in runs]
        print(f"  {phase:<8} median {statistics.median(values):7.2f}   p90 {p90(values):7.2f}")
    return statistics.median(run["total"] for run in runs)


async def main(episodes: int) -> int:
    problem = bwrap_problem()
    if problem is not None:
        print(f"bwrap unusable: {problem}")
        return 1
    true_median = await measure("exec `true`", ["true"], episodes)
    await measure("exec `python3 -c pass`", ["python3", "-c", "pass"], episodes)
    verdict = "meets" if true_median < TARGET_MS else "MISSES"
    print(f"`true` episode median {true_median:.1f} ms {verdict} the {TARGET_MS:.0f} ms target")
    return 0 if true_median < TARGET_MS else 2


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50)
    raise SystemExit(asyncio.run(main(parser.parse_args().episodes)))
