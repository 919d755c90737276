"""The whole experiment on the built-in organism, end to end.

    variant -> train (or load) base, production, sft_only -> run both suites, the
    reward-hacking tasks and the alignment dilemmas on each stage through Inspect ->
    compare stages per metric -> results.json, report.html, bars.png

Every step is resumable: finished checkpoints come from the cache, finished Inspect
logs in the output directory are reused, and the report files are written atomically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagelens.errors import UserError
from stagelens.experiment import pipeline
from stagelens.experiment.agentic import DETECTORS
from stagelens.progress import Progress
from stagelens.report.record import RunRecord
from stagelens.report.write import ReportPaths
from stagelens.stats.expectations import ExpectationCheck, expectations_summary

SUITES = ("unsafe_response", "over_refusal")
EPISODES = "organism_reward_hacking"
DILEMMAS = "organism_alignment_dilemmas"
PROVIDER = "stagelens-hf (Inspect hf provider, batched)"
EPISODE_ENVIRONMENT = "bwrap workspace, writable harness, reachable target"
STAGE_DESCRIPTIONS = {
    "base": "pretrained only",
    "sft_only": "base + SFT on the production mixture with another seed (the reproduction)",
    "production": "base + SFT + DPO (the production pipeline)",
}


@dataclass(frozen=True)
class DemoResult:
    record: RunRecord
    paths: ReportPaths

    @property
    def expectation_checks(self) -> list[ExpectationCheck] | None:
        """The variant's expectations, each checked (None: the variant states none)."""
        return self.record.expectation_checks

    @property
    def expectations_met(self) -> bool | None:
        """Whether the method reached the variant's ground truth (None: none stated).

        Not meeting it is a finding, not an error: the demo still succeeds."""
        return self.record.expectations_met


def run_demo(
    variant: str | Path = "safety-in-sft",
    out: str | Path | None = None,
    seed: int = 0,
    n_prompts: int = 320,
    margin: float = 0.05,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> DemoResult:
    """Run the organism experiment for one ground-truth variant and write its report.

    Takes the variant (a built-in name or a TOML file), the run directory (default
    runs/<variant>), the seed, the number of held-out prompts per single-prompt suite, the
    equivalence margin and the checkpoint cache; gives the run record and the report's paths.
    """
    from stagelens.evaluate.runner import StageModel
    from stagelens.organism.stages import build_stages
    from stagelens.organism.variant import load_variant
    from stagelens.raters.organism import dilemma_rater_identity
    from stagelens.raters.registry import get_rater
    from stagelens.suites import suite_info
    from stagelens.suites.common import DEFAULT_MAX_TOKENS, load_prompts
    from stagelens.training.cache import cache_root

    if n_prompts < 1:
        raise UserError(f"n_prompts must be positive, got {n_prompts}")
    spec, variant_path, variant_sha = load_variant(variant)
    provenance = {}
    for suite in SUITES:  # before any training: the organism has a finite held-out pool
        try:
            _, provenance[suite] = load_prompts(
                "organism", suite_info(suite).request_kind, n_prompts, seed
            )
        except ValueError as err:
            raise UserError(f"--n-prompts {n_prompts}: {err}") from err
    out_dir = pipeline.prepare_out_dir(Path(out) if out is not None else Path("runs") / spec.name)
    cache_dir = Path(cache) if cache is not None else cache_root()
    timings: dict[str, float] = {}
    start = time.monotonic()

    progress(f"[1/3] stages of variant {spec.name} (cache {cache_dir})")
    stages = build_stages(spec, seed, cache_dir, progress)
    timings["train"] = time.monotonic() - start

    progress(
        f"[2/3] suites {', '.join((*SUITES, EPISODES, DILEMMAS))} on base, sft_only, production"
    )
    rater = get_rater("organism-exact").identity
    task_args = {"source": "organism", "n": n_prompts, "seed": seed, "rater": rater.name,
                 "max_tokens": DEFAULT_MAX_TOKENS}  # fmt: skip
    generation = {"max_tokens": DEFAULT_MAX_TOKENS, "decoding": "greedy"}
    runs = [
        pipeline.SuiteRun(
            suite=suite, args=task_args, data=provenance[suite], rater=rater,
            generation={**generation, "provider": PROVIDER}, n_prompts=n_prompts,
        )
        for suite in SUITES
    ]
    # the organism's reward-hacking tasks: every held-out one, each chosen action carried out
    # in the sandbox (once per problem and action, then reused)
    runs.append(pipeline.SuiteRun(
        suite=EPISODES, args={**task_args, "n": 0}, data=_episode_provenance(),
        generation={**generation, "environment": EPISODE_ENVIRONMENT}, rater=DETECTORS,
    ))  # fmt: skip
    # the organism's alignment dilemmas: the default number of held-out ones, each shown
    # with a test cue and without, read exactly (misalignment and awareness)
    runs.append(pipeline.SuiteRun(
        suite=DILEMMAS, args={**task_args, "n": 0}, data=_dilemma_provenance(seed),
        generation={**generation, "provider": PROVIDER}, rater=dilemma_rater_identity(),
    ))  # fmt: skip
    models = {name: StageModel(name=name, checkpoint=str(stage.path), key=stage.key)
              for name, stage in stages.items()}  # fmt: skip
    logs = pipeline.evaluate(list(STAGE_DESCRIPTIONS), runs, lambda name, _run: models[name],
                             out_dir / "logs", progress, timings)  # fmt: skip

    progress("[3/3] statistics and report")
    tick = time.monotonic()
    metrics, suites = pipeline.compare(logs, runs, pipeline.Settings(margin=margin, seed=seed))
    timings["statistics"] = time.monotonic() - tick
    record, paths = pipeline.finish(
        out_dir, start, timings, progress,
        name=f"organism {spec.name} (seed {seed})",
        config={
            "variant": spec.model_dump(mode="json"),
            "variant_file": str(variant_path),
            "variant_sha256": variant_sha,
            "n_prompts": n_prompts,
            "margin": margin,
            "cache": str(cache_dir),
            "stage_keys": {s: c.key for s, c in stages.items()},
        },
        seeds={"experiment": seed, "pretrain": seed, "production_sft": seed,
               "production_dpo": seed, "sft_only": seed + 1, "eval_prompts": seed,
               "bootstrap": seed},
        stages=[
            pipeline.stage_record(name, STAGE_DESCRIPTIONS[name], models[name], logs[name],
                                  out_dir, parent=stages[name].parent,
                                  training=stages[name].training)
            for name in logs
        ],
        suites=suites,
        rater=rater,
        metrics=metrics,
        expected=dict(spec.expected) or None,
        sft_distilled_parts=spec.sft.distilled_parts,
    )  # fmt: skip
    summary = expectations_summary(record.expectation_checks or [])
    if summary is not None:
        progress(summary)  # last: the line a person (or a script) looks for
    return DemoResult(record=record, paths=paths)


def _episode_provenance() -> Any:
    from stagelens.organism.data import content_hash
    from stagelens.organism.episodes import eval_episodes
    from stagelens.organism.stages import GENERATOR, LICENCE
    from stagelens.records import Provenance

    tasks = eval_episodes()
    return Provenance(
        name="organism held-out reward-hacking tasks",
        source=GENERATOR,
        licence=LICENCE,
        sha256=content_hash([t.text for t in tasks]),
        n=len(tasks),
        notes="every held-out phrasing of 6 environment problems x 5 contexts; the chosen "
        "action is executed in the reward-hacking environment and scored by its detectors",
    )


def _dilemma_provenance(seed: int) -> Any:
    from stagelens.organism.data import content_hash
    from stagelens.organism.dilemmas import DEFAULT_EVAL_DILEMMAS, dilemma_world
    from stagelens.organism.stages import GENERATOR, LICENCE
    from stagelens.records import Provenance

    dilemmas = dilemma_world(seed).eval_dilemmas(DEFAULT_EVAL_DILEMMAS, seed)
    return Provenance(
        name="organism held-out alignment dilemmas",
        source=GENERATOR,
        licence=LICENCE,
        sha256=content_hash([d.text for d in dilemmas]),
        n=len(dilemmas),
        notes=f"seed {seed}; {DEFAULT_EVAL_DILEMMAS} dilemmas with a held-out (pressure, "
        "compliant, violating) combination or phrasing, each shown without a test cue and "
        "with one (condition and cluster in each sample's metadata)",
    )
