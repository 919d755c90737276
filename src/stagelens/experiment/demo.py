"""The whole experiment on the built-in organism, end to end.

    variant -> train (or load) base, production, sft_only -> run both suites and the
    reward-hacking tasks on each stage through Inspect -> compare stages per metric ->
    results.json, report.html, bars.png

Every step is resumable: finished checkpoints come from the cache, finished Inspect
logs in the output directory are reused, and the report files are written atomically.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagelens.errors import UserError
from stagelens.experiment.agentic import episode_metrics
from stagelens.experiment.environment import record_header
from stagelens.report.record import (
    ExpectationCheck,
    RunRecord,
    StageRecord,
    SuiteRecord,
    expectations_summary,
)
from stagelens.report.write import ReportPaths

Progress = Callable[[str], None]
SUITES = ("unsafe_response", "over_refusal")
EPISODES = "organism_reward_hacking"
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


def prepare_out_dir(out: Path) -> Path:
    """Create the run directory, or say clearly why it cannot be used."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {out}: cannot create the run directory ({err.strerror})") from err
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: the run directory is not writable")
    return out


def run_demo(
    variant: str | Path = "safety-in-sft",
    out: str | Path | None = None,
    seed: int = 0,
    n_prompts: int = 320,
    margin: float = 0.05,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> DemoResult:
    """Run the organism experiment for one ground-truth variant and write its report."""
    from stagelens.evaluate.runner import StageModel, evaluate_stage, read_stages
    from stagelens.organism.stages import build_stages
    from stagelens.organism.variant import load_variant
    from stagelens.raters.registry import get_rater
    from stagelens.report.write import write_report
    from stagelens.stats import compare_metric
    from stagelens.suites import suite_info
    from stagelens.suites.common import DEFAULT_MAX_TOKENS, load_prompts
    from stagelens.training.cache import cache_root

    if n_prompts < 1:
        raise UserError(f"n_prompts must be positive, got {n_prompts}")
    spec, variant_path, variant_sha = load_variant(variant)
    for suite in SUITES:  # before any training: the organism has a finite held-out pool
        try:
            load_prompts("organism", suite_info(suite).request_kind, n_prompts, seed)
        except ValueError as err:
            raise UserError(f"--n-prompts {n_prompts}: {err}") from err
    out_dir = prepare_out_dir(Path(out) if out is not None else Path("runs") / spec.name)
    cache_dir = Path(cache) if cache is not None else cache_root()
    timings: dict[str, float] = {}
    start = time.monotonic()

    progress(f"[1/3] stages of variant {spec.name} (cache {cache_dir})")
    stages = build_stages(spec, seed, cache_dir, progress)
    timings["train"] = time.monotonic() - start

    progress(f"[2/3] suites {', '.join(SUITES)} on base, sft_only, production")
    rater = get_rater("organism-exact")
    task_args = {
        "source": "organism",
        "n": n_prompts,
        "seed": seed,
        "rater": rater.identity.name,
        "max_tokens": DEFAULT_MAX_TOKENS,
    }
    logs: dict[str, dict[str, Path]] = {}
    for name in ("base", "sft_only", "production"):
        tick = time.monotonic()
        model = StageModel(name=name, checkpoint=str(stages[name].path), key=stages[name].key)
        logs[name] = evaluate_stage(model, list(SUITES), task_args, out_dir / "logs", progress)
        # the organism's reward-hacking tasks: every held-out one, each chosen action
        # carried out in the sandbox (once per problem and action, then reused)
        logs[name].update(evaluate_stage(model, [EPISODES], {**task_args, "n": 0},
                                         out_dir / "logs", progress))  # fmt: skip
        timings[f"eval_{name}"] = time.monotonic() - tick

    progress("[3/3] statistics and report")
    tick = time.monotonic()
    metrics, suites = [], []
    for suite in SUITES:
        info = suite_info(suite)
        outcomes, clusters = read_stages({stage: logs[stage][suite] for stage in logs})
        metrics.append(compare_metric(suite, outcomes, clusters=clusters, margin=margin,
                                      seed=seed, label=info.label))  # fmt: skip
        _, provenance = load_prompts("organism", info.request_kind, n_prompts, seed)
        suites.append(
            SuiteRecord(
                name=suite,
                metric=info.metric,
                description=info.description,
                lower_is_safer=info.lower_is_safer,
                n_prompts=n_prompts,
                data=provenance,
                generation={
                    "max_tokens": DEFAULT_MAX_TOKENS,
                    "decoding": "greedy",
                    "provider": "stagelens-hf (Inspect hf provider, batched)",
                },
                rater=rater.identity,
            )
        )
    rh_metrics, rh_suites = episode_metrics(
        {stage: logs[stage][EPISODES] for stage in logs}, margin, seed, _episode_provenance(),
        {"max_tokens": DEFAULT_MAX_TOKENS, "decoding": "greedy",
         "environment": "bwrap workspace, writable harness, reachable target"},
    )  # fmt: skip
    metrics += rh_metrics
    suites += rh_suites
    record = RunRecord(
        name=f"organism {spec.name} (seed {seed})",
        **record_header(),
        config={
            "variant": spec.model_dump(mode="json"),
            "variant_file": str(variant_path),
            "variant_sha256": variant_sha,
            "n_prompts": n_prompts,
            "margin": margin,
            "cache": str(cache_dir),
            "stage_keys": {s: c.key for s, c in stages.items()},
        },
        seeds={
            "experiment": seed,
            "pretrain": seed,
            "production_sft": seed,
            "production_dpo": seed,
            "sft_only": seed + 1,
            "eval_prompts": seed,
            "bootstrap": seed,
        },
        stages=[_stage_record(name, stages[name], logs[name], out_dir) for name in logs],
        suites=suites,
        rater=rater.identity,
        metrics=metrics,
        expected={metric: e for metric, e in spec.expected.items()} or None,
        timings=timings,
    )
    paths = write_report(record, out_dir)
    timings["report"] = time.monotonic() - tick
    timings["total"] = time.monotonic() - start
    record = record.model_copy(update={"timings": timings})
    paths = write_report(record, out_dir)  # again, so the record holds its own timings
    for comparison in metrics:
        progress(f"  {comparison.metric}: {comparison.verdict} - {comparison.verdict_text}")
    progress(f"report: {paths.report_html}")
    summary = expectations_summary(record.expectation_checks or [])
    if summary is not None:
        progress(summary)  # last: the line a person (or a script) looks for
    return DemoResult(record=record, paths=paths)


def _episode_provenance() -> Any:
    from stagelens.organism.data import content_hash
    from stagelens.organism.episodes import eval_episodes
    from stagelens.organism.stages import GENERATOR, LICENCE
    from stagelens.report.record import Provenance

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


def _stage_record(name: str, stage: Any, logs: dict[str, Path], out_dir: Path) -> StageRecord:
    return StageRecord(
        name=name,
        description=STAGE_DESCRIPTIONS[name],
        checkpoint=str(stage.path),
        config_hash=stage.key,
        parent=stage.parent,
        training=stage.training,
        logs={suite: os.path.relpath(path, out_dir) for suite, path in logs.items()},
    )
