"""Does the attribution's ranking matter? Remove SFT-only's top-k examples and retrain, against
removing k examples drawn at random, and compare the metric on the same held-out prompts.

    variant, seed, metric, k -> the attribution ranking (given or computed) -> two SFT-only
    runs from the same base, the same seed and steps: without the top k, without k random
    -> the metric's suite on the full SFT-only and both -> rates with intervals and paired
    differences (the same prompts) -> ablation.json

If the ranking finds the examples that carry the behaviour, removing the top k moves the
metric more than removing k at random. Each retraining is a cached checkpoint, and the
Inspect logs are reused, so a rerun trains and generates nothing.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stagelens.errors import UserError
from stagelens.experiment.attribution import TARGETS, AttributionRecord
from stagelens.progress import Progress
from stagelens.records import Provenance, RaterIdentity, StrictModel
from stagelens.stats.types import PairedDifference, RateEstimate

ARMS = ("all", "minus_top", "minus_random")


class AblationArm(StrictModel):
    name: str
    removed: int
    removed_parts: dict[str, int]  # mixture part -> examples removed
    checkpoint_key: str
    rate: RateEstimate


class AblationRecord(StrictModel):
    variant: str
    seed: int
    metric: str
    k: int
    n_examples: int
    precision_at_k: dict[str, float]  # part -> its share among the removed top k
    mixture_shares: dict[str, float]
    arms: list[AblationArm]
    # "minus_top - all", "minus_random - all", "minus_top - minus_random": paired on prompts
    differences: dict[str, PairedDifference]
    random_seed: str
    rater: RaterIdentity
    data: Provenance
    seconds: dict[str, float]


def _ranking(path: Path, spec_name: str, seed: int, metric: str) -> AttributionRecord:
    try:
        record = AttributionRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as err:
        raise UserError(f"--ranking {path}: not an attribution record ({err})") from err
    if (record.variant, record.seed, record.metric) != (spec_name, seed, metric):
        raise UserError(f"--ranking {path}: ranks {record.variant} seed {record.seed} for "
                        f"{record.metric}, not {spec_name} seed {seed} for {metric}")  # fmt: skip
    if sorted(record.ranking) != list(range(record.n_examples)):
        raise UserError(f"--ranking {path}: its ranking is not every example once")
    return record


def ablate_organism(
    variant: str | Path = "safety-in-sft",
    seed: int = 0,
    metric: str = "unsafe_response",
    k: int = 100,
    ranking: str | Path | None = None,
    n_prompts: int = 320,
    cache: str | Path | None = None,
    out: str | Path | None = None,
    progress: Progress = print,
    recipe: Any = None,
) -> AblationRecord:
    """Retrain SFT-only without its top-k attributed examples and without k random ones, and
    compare `metric` on the three. `ranking`: an `attribute` JSON (else it is computed)."""
    from stagelens.evaluate.runner import StageModel, read_stages
    from stagelens.experiment import pipeline
    from stagelens.experiment.attribution import attribute_organism
    from stagelens.organism.data import sft_examples_with_parts
    from stagelens.organism.stages import build_stages, distilled_teacher
    from stagelens.organism.variant import load_variant
    from stagelens.organism.world import World
    from stagelens.raters.registry import get_rater
    from stagelens.report.atomic import atomic_write_text
    from stagelens.stats import paired_difference, rate
    from stagelens.suites import suite_info, suite_metrics
    from stagelens.suites.common import DEFAULT_MAX_TOKENS, load_prompts
    from stagelens.training.cache import cache_root

    if metric not in TARGETS:
        raise UserError(f"--metric {metric!r}: ablation knows {', '.join(TARGETS)}")
    spec, _, _ = load_variant(variant)
    given = _ranking(Path(ranking), spec.name, seed, metric) if ranking is not None else None
    cache_dir = Path(cache) if cache is not None else cache_root()
    try:
        _, prompts = load_prompts("organism", suite_info(metric).request_kind, n_prompts, seed)
    except ValueError as err:
        raise UserError(f"--n-prompts {n_prompts}: {err}") from err
    out_dir = pipeline.prepare_out_dir(
        Path(out) if out is not None else Path("runs") / f"ablation-{spec.name}-{seed}"
    )
    seconds: dict[str, float] = {}
    tick = time.monotonic()
    record = given or attribute_organism(variant=variant, seed=seed, metric=metric, top_k=k,
                                         cache=cache_dir, progress=progress,
                                         recipe=recipe)  # fmt: skip
    seconds["attribution"] = time.monotonic() - tick if given is None else 0.0
    n = record.n_examples
    if not 0 < k < n:
        raise UserError(f"--k {k}: must be between 1 and {n - 1} (SFT-only has {n} examples)")
    random_seed = f"ablation-{seed}-{k}"
    removed = {"all": set[int](), "minus_top": set(record.ranking[:k]),
               "minus_random": set(random.Random(random_seed).sample(range(n), k))}  # fmt: skip
    tick = time.monotonic()
    models: dict[str, StageModel] = {}
    parts: list[str] = []
    for arm in ARMS:
        drop = frozenset(removed[arm])
        progress(f"ablation: sft_only {arm} ({len(drop)} examples removed)")

        def keep(i: int, drop: frozenset[int] = drop) -> bool:
            return i not in drop

        stages = build_stages(spec, seed, cache_dir, progress, recipe, sft_only_keep=keep)
        if arm == "all":  # the part of each SFT-only row, in training order
            teacher = distilled_teacher(spec, stages["production"].path)
            parts = [p for p, _ in sft_examples_with_parts(World(seed), spec, seed + 1, teacher)]
        models[arm] = StageModel(name=arm, checkpoint=str(stages["sft_only"].path),
                                 key=stages["sft_only"].key)  # fmt: skip
    seconds["training"] = time.monotonic() - tick
    tick = time.monotonic()
    rater = get_rater("organism-exact").identity
    run = pipeline.SuiteRun(
        suite=metric, data=prompts, rater=rater, n_prompts=n_prompts,
        args={"source": "organism", "n": n_prompts, "seed": seed, "rater": rater.name,
              "max_tokens": DEFAULT_MAX_TOKENS},
        generation={"max_tokens": DEFAULT_MAX_TOKENS},
    )  # fmt: skip
    logs = pipeline.evaluate(list(ARMS), [run], lambda name, _run: models[name],
                             out_dir / "logs", progress)  # fmt: skip
    seconds["evaluation"] = time.monotonic() - tick
    (m,) = [x for x in suite_metrics(metric) if x.name == metric]
    outcomes, clusters = read_stages({a: logs[a][metric] for a in ARMS}, scorer=m.scorer,
                                     key=m.key)  # fmt: skip
    arms = [AblationArm(name=a, removed=len(removed[a]),
                        removed_parts=dict(sorted(Counter(parts[i] for i in removed[a]).items())),
                        checkpoint_key=str(models[a].key),
                        rate=rate(outcomes[a], clusters=clusters, seed=seed))
            for a in ARMS]  # fmt: skip
    differences = {
        f"{a} - {b}": paired_difference(outcomes[a], outcomes[b], a_name=a, b_name=b,
                                        clusters=clusters, seed=seed)
        for a, b in (("minus_top", "all"), ("minus_random", "all"), ("minus_top", "minus_random"))
    }  # fmt: skip
    top_parts = Counter(parts[i] for i in removed["minus_top"])
    result = AblationRecord(
        variant=spec.name, seed=seed, metric=metric, k=k, n_examples=n,
        precision_at_k={p: c / k for p, c in sorted(top_parts.items())},
        mixture_shares=record.mixture_shares, arms=arms, differences=differences,
        random_seed=random_seed, rater=rater, data=prompts, seconds=seconds,
    )  # fmt: skip
    atomic_write_text(out_dir / "ablation.json", result.model_dump_json(indent=2))
    for shown in arms:
        r = shown.rate
        progress(f"  {metric} {shown.name}: {r.k}/{r.n} = {_pct(r.rate)} "
                 f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}], {r.n_unscored} unscored")  # fmt: skip
    for name, d in differences.items():
        progress(f"  {name}: {_pct(d.diff, signed=True)} "
                 f"[{_pct(d.ci_low, signed=True)}, {_pct(d.ci_high, signed=True)}] "
                 f"({d.n_pairs} pairs)")  # fmt: skip
    progress(f"ablation: {out_dir / 'ablation.json'}")
    return result


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:+.1f}%" if signed else f"{100 * x:.1f}%"
