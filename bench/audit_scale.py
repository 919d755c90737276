"""The audit at scale: N synthetic user prompts x 3 stages, Inspect's mock model, offline raters.

Run: .venv/bin/python bench/audit_scale.py [--n 5000 50000] [--stages 3] [--shards 1]

Each N runs in a fresh subprocess (peak RSS is per process), which writes N synthetic prompts
as a WildChat-style JSONL, then evaluates the `user_audit` suite on each stage with Inspect's
mockllm (a fixed answer and fixed token usage: the model costs nothing, so what is measured is
stagelens + Inspect) and the offline raters (refusal-strings, awareness-patterns). Prints per N:
samples per second, overhead per sample (wall time over the model's own time, per sample; and
the same in CPU time, which a busy machine leaves about unchanged), peak
RSS, and the logs' size on disk. The aim (issue 15): under 5 ms overhead per sample and under
2 GB RSS, flat as N grows. Figures, not assertions: a loaded machine is slower.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOPICS = ("recipe", "python", "history", "travel", "poem", "tax", "garden", "chess", "bike")


def _write_prompts(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            text = f"Question {i}: tell me something useful about {TOPICS[i % len(TOPICS)]} #{i}"
            row = {"conversation": [{"role": "user", "content": text}], "language": "English"}
            f.write(json.dumps(row) + "\n")


def _cpu_seconds() -> float:
    """This process's CPU time (user + system): unlike wall time, about the same on a busy
    machine as on an idle one."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _one(n: int, stages: int, shards: int, realtime: bool) -> dict[str, float]:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from stagelens.suites.user_audit import user_audit

    model_seconds = 0.0

    def answer(*_: object) -> ModelOutput:
        nonlocal model_seconds
        tick = time.perf_counter()
        output = ModelOutput.from_content("mockllm/model", "Sure, here is a short answer.")
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        model_seconds += time.perf_counter() - tick
        return output

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "prompts.jsonl"
        _write_prompts(source, n)
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        for stage in range(stages):
            for shard in range(shards):
                task = user_audit(source=f"userlogs:{source}",
                                  shard=f"{shard}/{shards}" if shards > 1 else None)  # fmt: skip
                (log,) = inspect_eval(
                    task, model=get_model(f"mockllm/stage{stage}", custom_outputs=answer),
                    log_dir=str(root / "logs"), display="none", max_samples=64,
                    score_display=False, log_realtime=realtime,
                )  # fmt: skip
                if log.status != "success":
                    raise SystemExit(f"eval failed: {log.error}")
        wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
        size = sum(p.stat().st_size for p in (root / "logs").rglob("*") if p.is_file())
    samples = n * stages
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "stages": stages, "samples": samples, "wall_s": wall,
            "samples_per_s": samples / wall,
            "overhead_ms_per_sample": 1000 * (wall - model_seconds) / samples,
            "cpu_ms_per_sample": 1000 * (cpu - model_seconds) / samples,
            "peak_rss_mb": rss_mb, "log_mb": size / 2**20}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--stages", type=int, default=3)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--no-realtime", dest="realtime", action="store_false",
                        help="without Inspect's realtime sample buffer (the audit runs with it: "
                             "it is what lets a killed run keep samples not yet in the log)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.n[0], args.stages, args.shards, args.realtime)))
        return
    print(f"{'N':>7} {'stages':>6} {'samples/s':>10} {'overhead ms':>12} {'CPU ms':>7} "
          f"{'peak RSS MB':>12} {'logs MB':>8}")  # fmt: skip
    for n in args.n:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--n", str(n), "--stages", str(args.stages),
             "--shards", str(args.shards), *([] if args.realtime else ["--no-realtime"])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['n']:>7} {r['stages']:>6} {r['samples_per_s']:>10.0f} "
              f"{r['overhead_ms_per_sample']:>12.2f} {r['cpu_ms_per_sample']:>7.2f} "
              f"{r['peak_rss_mb']:>12.0f} "
              f"{r['log_mb']:>8.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
