"""The audit at scale: N synthetic user prompts x 3 stages, Inspect's mock model, offline raters.

Run: .venv/bin/python bench/audit_scale.py [--n 5000 50000] [--stages 3] [--shards K]

Each N runs in a fresh subprocess (peak RSS is per process), which writes N synthetic prompts
as a WildChat-style JSONL and runs the audit's own path on each stage: the `user_audit` suite
sharded as the audit shards it (one shard per 5,000 prompts unless --shards), each shard an
Inspect eval with realtime logging, the shard logs merged into one log per stage, then the
statistics read every metric from the merged logs and the audit summary streams them. The model
is Inspect's mockllm (a fixed answer: it costs nothing, so what is measured is stagelens +
Inspect); the raters are the offline ones (refusal-strings, awareness-patterns). Prints per N:
samples per second, wall and CPU time per sample (CPU time stays about the same on a busy
machine) and the merges' and the statistics' parts of it, peak RSS after the evals and merges
and at the end, and the logs' size on disk. The aim (issue 15): under 5 ms overhead per sample
and under 2 GB RSS, flat as N grows.
Figures, not assertions: a loaded machine is slower.
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


MODEL_SECONDS = [0.0]  # the mock model's own time, taken off the overhead


def _answer(*_: object) -> object:
    """mockllm's `custom_outputs`: a fixed answer with usage set (else mockllm counts tokens
    with tiktoken, which downloads its encoding)."""
    from inspect_ai.model import ModelOutput, ModelUsage

    tick = time.perf_counter()
    output = ModelOutput.from_content("mockllm/model", "Sure, here is a short answer.")
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    MODEL_SECONDS[0] += time.perf_counter() - tick
    return output


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one(n: int, stages: int, shards: int | None) -> dict[str, float]:
    from stagelens.evaluate import shards as shards_module
    from stagelens.evaluate.runner import StageModel, read_stages
    from stagelens.evaluate.shards import auto_shards, evaluate_sharded
    from stagelens.experiment.audit import audit_summary
    from stagelens.suites import suite_metrics

    k = shards or auto_shards(n)
    merge_cpu = [0.0]
    merge = shards_module.merge_shard_logs

    def timed_merge(*args: object, **kwargs: object) -> Path:
        tick = _cpu_seconds()
        try:
            return merge(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            merge_cpu[0] += _cpu_seconds() - tick

    shards_module.merge_shard_logs = timed_merge  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "prompts.jsonl"
        _write_prompts(source, n)
        args = {"source": f"userlogs:{source}"}
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        logs: dict[str, Path] = {}
        for stage in range(stages):
            model = StageModel(name=f"stage{stage}", checkpoint="mockllm/model",
                               key=f"mock-{stage}", provider="inspect",
                               model_args=(("custom_outputs", _answer),))  # fmt: skip
            logs[model.name] = evaluate_sharded(model, "user_audit", args, k, root / "logs",
                                                progress=lambda _: None)  # fmt: skip
        rss_eval = _rss_mb()  # the merges ran inside the loop; their peak is in the next one
        stats_start = _cpu_seconds()
        loaded: dict[Path, object] = {}
        for m in suite_metrics("user_audit"):
            read_stages(logs, scorer=m.scorer, key=m.key, loaded=loaded)
        audit_summary(logs, categories=[])
        stats_cpu = _cpu_seconds() - stats_start
        wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
        size = sum(p.stat().st_size for p in (root / "logs").rglob("*") if p.is_file())
    samples = n * stages
    return {"n": n, "stages": stages, "shards": k, "samples": samples, "wall_s": wall,
            "samples_per_s": samples / wall,
            "overhead_ms_per_sample": 1000 * (wall - MODEL_SECONDS[0]) / samples,
            "cpu_ms_per_sample": 1000 * (cpu - MODEL_SECONDS[0]) / samples,
            "merge_cpu_ms_per_sample": 1000 * merge_cpu[0] / samples,
            "stats_cpu_ms_per_sample": 1000 * stats_cpu / samples,
            "rss_after_evals_mb": rss_eval, "peak_rss_mb": _rss_mb(),
            "log_mb": size / 2**20}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--stages", type=int, default=3)
    parser.add_argument("--shards", type=int, default=None,
                        help="shards per stage [default: as the audit, one per 5,000 prompts]")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.n[0], args.stages, args.shards)))
        return
    print(f"{'N':>7} {'stages':>6} {'shards':>6} {'samples/s':>10} {'wall ms':>8} "
          f"{'CPU ms':>7} {'merge ms':>8} {'stats ms':>8} {'RSS evals MB':>12} {'peak RSS MB':>12} "
          f"{'logs MB':>8}")  # fmt: skip
    for n in args.n:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--n", str(n), "--stages", str(args.stages),
             *([] if args.shards is None else ["--shards", str(args.shards)])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['n']:>7} {r['stages']:>6} {r['shards']:>6} {r['samples_per_s']:>10.0f} "
              f"{r['overhead_ms_per_sample']:>8.2f} {r['cpu_ms_per_sample']:>7.2f} "
              f"{r['merge_cpu_ms_per_sample']:>8.2f} {r['stats_cpu_ms_per_sample']:>8.2f} "
              f"{r['rss_after_evals_mb']:>12.0f} {r['peak_rss_mb']:>12.0f} "
              f"{r['log_mb']:>8.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
