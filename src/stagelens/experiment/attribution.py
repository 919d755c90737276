"""Example attribution on the organism: which SFT examples of SFT-only support a metric's
safe response, and how much of the top k each mixture part holds (the truth is known: the
part that teaches the behaviour should dominate).

    variant, seed -> SFT-only (cached) and the SFT rows it was trained on, with their parts
    -> targets: the suite's held-out prompts with the safe response -> scores -> JSON
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import Field

from stagelens.errors import UserError
from stagelens.progress import Progress
from stagelens.records import StrictModel

CHECKPOINTS = ("start", "end")
# metric -> (request kind of its prompts, the safe response)
TARGETS = {"unsafe_response": ("harmful", "refusal"), "over_refusal": ("scary", "compliance")}


class ScoredExample(StrictModel):
    rank: int
    index: int  # position in SFT-only's training rows
    part: str
    score: float
    prompt: str
    response: str


class AttributionRecord(StrictModel):
    variant: str
    seed: int
    metric: str
    method: str
    checkpoint: str  # "start": the model SFT-only's training began from; "end": SFT-only
    n_examples: int
    n_targets: int
    parameters: int
    seconds: float
    seconds_per_1000: float
    mixture_shares: dict[str, float]  # each part's share of the whole mixture
    top_k: int
    top_shares: dict[str, float]  # each part's share among the top k
    top: list[ScoredExample]
    bottom: list[ScoredExample]
    ranking: list[int] = Field(default_factory=list)  # every example's index, best first
    # mixture parts declared distilled from an RL-trained model: the confound beside the shares
    distilled_parts: list[str] = Field(default_factory=list)


# the safe response is a class: every refusal sentence, or this many sampled compliances
# (their steps are drawn from the request's domain; the class has too many members to list)
COMPLIANCE_SAMPLES = 6


def _safe_answers(request: Any, safe: str, rng: random.Random) -> list[str]:
    from stagelens.organism.world import REFUSALS, respond

    if safe == "refusal":
        return list(REFUSALS)
    return sorted({respond(request, True, rng) for _ in range(COMPLIANCE_SAMPLES)})


def attribute_organism(
    variant: str | Path = "safety-in-sft",
    seed: int = 0,
    metric: str = "unsafe_response",
    top_k: int = 100,
    n_targets: int = 64,
    cache: str | Path | None = None,
    out: str | Path | None = None,
    progress: Progress = print,
    recipe: Any = None,
    checkpoint: str = "start",
) -> AttributionRecord:
    """Rank SFT-only's training examples by their support for `metric`'s safe response.

    The gradients are taken at `checkpoint`: "start", the model SFT-only's training began
    from (its first step's view, as LESS scores on early checkpoints), or "end", SFT-only
    itself. On safety-in-sft seed 0 the 500 harmful-refusal examples were exactly the top 500
    at the start; at the end they took the top 100 but 223 of them ranked in the bottom 800
    (examples SFT has fitted, whose gradients no longer say what they taught)."""
    from stagelens.organism import data
    from stagelens.organism.stages import build_stages, distilled_teacher, load_checkpoint
    from stagelens.organism.variant import load_variant
    from stagelens.organism.world import World
    from stagelens.report.atomic import atomic_write_text
    from stagelens.training.attribution import attribute
    from stagelens.training.cache import cache_root

    if metric not in TARGETS:
        raise UserError(f"--metric {metric!r}: attribution knows {', '.join(TARGETS)}")
    if top_k < 1 or n_targets < 1:
        raise UserError("--top and --targets must be positive")
    if checkpoint not in CHECKPOINTS:
        raise UserError(f"--checkpoint {checkpoint!r}: one of {', '.join(CHECKPOINTS)}")
    spec, _, _ = load_variant(variant)
    stages = build_stages(spec, seed, Path(cache) if cache else cache_root(), progress, recipe)
    scored = stages["sft_only"]
    if checkpoint == "start" and scored.parent is not None:
        scored = stages[scored.parent]
    model, tokenizer = load_checkpoint(scored.path)
    world = World(seed)
    # SFT-only's own rows, a distilled part answered by production as when it was trained
    teacher = distilled_teacher(spec, stages["production"].path)
    labelled = data.sft_examples_with_parts(world, spec, seed + 1, teacher)
    parts = [p for p, _ in labelled]
    rows = [r for _, r in labelled]
    kind, safe = TARGETS[metric]
    rng = random.Random(f"attribution-{seed}")
    targets = [{"prompt": [{"role": "user", "content": r.text}],
                "completions": [[{"role": "assistant", "content": answer}]
                                for answer in _safe_answers(r, safe, rng)]}
               for r in data.eval_prompts(world, kind, n_targets, seed)]  # fmt: skip
    progress(f"attribution: {len(rows)} SFT examples against {len(targets)} {metric} targets")
    result = attribute(model, tokenizer, rows, parts, targets, progress=progress)
    record = ranked_record(
        result, rows, top_k, variant=spec.name, seed=seed, metric=metric,
        checkpoint=checkpoint, n_targets=len(targets), distilled_parts=spec.sft.distilled_parts,
        method=f"cosine of loss gradients at the {scored.name} checkpoint (SFT-only's "
               f"{checkpoint}; LESS/TracIn, first order), "
               "full gradient; target: -log of the summed probability of the safe answers "
               f"({'every refusal sentence' if safe == 'refusal' else 'sampled compliances'})",
    )  # fmt: skip
    if out is not None:
        atomic_write_text(Path(out), record.model_dump_json(indent=2))
    print_shares(record, progress)
    return record


def ranked_record(result: Any, rows: list[Any], top_k: int, **fields: Any) -> AttributionRecord:
    """The record of an attribution `result` over `rows`: the mixture's and the top k's part
    shares, the top and bottom k with their texts, the whole ranking; `fields` say what was
    ranked and how."""
    parts = [s.part for s in sorted(result.ranked, key=lambda s: s.index)]
    total, k = len(rows), min(top_k, len(rows))

    def shown(rank: int, s: Any) -> ScoredExample:
        row = rows[s.index]
        return ScoredExample(rank=rank, index=s.index, part=s.part, score=s.score,
                             prompt=row["prompt"][-1]["content"],
                             response=row["completion"][-1]["content"])  # fmt: skip

    return AttributionRecord(
        n_examples=total, parameters=result.parameters, seconds=result.seconds,
        seconds_per_1000=1000 * result.seconds / total,
        mixture_shares={p: n / total for p, n in sorted(Counter(parts).items())},
        top_k=k, top_shares=result.part_shares(k),
        top=[shown(i + 1, s) for i, s in enumerate(result.top(k))],
        bottom=[shown(total - i, s) for i, s in enumerate(result.bottom(k))],
        ranking=[s.index for s in result.ranked], **fields,
    )  # fmt: skip


def print_shares(record: AttributionRecord, progress: Progress) -> None:
    """Each part's share of the top k beside its share of the mixture, distilled parts flagged."""
    from stagelens.report.headline import distilled_text

    for part, share in record.top_shares.items():
        flag = " (distilled from an RL-trained model)" if part in record.distilled_parts else ""
        progress(f"  top {record.top_k}: {part} {share:.0%} (of the mixture: "
                 f"{record.mixture_shares.get(part, 0):.0%}){flag}")  # fmt: skip
    if record.distilled_parts:
        progress(f"Confound: {distilled_text(record.distilled_parts)}")

