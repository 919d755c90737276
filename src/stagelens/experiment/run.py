"""The experiment on a real model family, from a spec file.

    spec -> validate (nothing written on failure) -> sft_only (given, or trained from base
    with the spec's recipe) -> every suite on every stage through Inspect -> compare ->
    results.json, report.html, bars.png

Finished checkpoints and finished Inspect logs in the run directory are reused, so a
rerun pays only for what is missing.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.errors import UserError
from stagelens.experiment import agentic, pipeline
from stagelens.experiment.pipeline import SuiteRun
from stagelens.progress import Progress
from stagelens.report.record import RunRecord
from stagelens.report.write import ReportPaths

if TYPE_CHECKING:
    from stagelens.evaluate.runner import StageModel
    from stagelens.spec import ExperimentSpec
    from stagelens.spec.models import ModelRef
    from stagelens.training.recipe import SFTRecipeSpec
    from stagelens.training.sft import SFTResult



def stage_model(
    name: str, ref: ModelRef, cache: Path, temperature: float, progress: Progress | None = None
) -> StageModel:
    """How Inspect reaches a stage's weights (the spec's model reference); a GGUF is converted
    to a cached checkpoint the first time (said through `progress`)."""
    from stagelens.evaluate.gguf import gguf_key, materialize_gguf
    from stagelens.evaluate.runner import StageModel
    from stagelens.training.cache import config_key

    sampling: tuple[tuple[str, Any], ...] = (("do_sample", temperature > 0),)
    provider = ref.effective_provider
    if ref.inspect is not None:
        key = config_key({"inspect": ref.inspect, "args": ref.model_args})
        return StageModel(name, ref.inspect, key, "inspect", tuple(ref.model_args.items()))
    assert provider is not None
    if ref.gguf is not None:
        path = materialize_gguf(Path(ref.gguf), cache, progress)
        return StageModel(name, str(path), gguf_key(Path(ref.gguf)), provider, sampling)
    if ref.hub is not None:
        args = (*sampling, ("revision", ref.revision)) if ref.revision else sampling
        return StageModel(name, ref.hub, config_key({"hub": ref.hub, "rev": ref.revision}),
                          provider, args)  # fmt: skip
    assert ref.path is not None
    return StageModel(name, ref.path, _dir_key(Path(ref.path)), provider, sampling)


def _dir_key(path: Path) -> str:
    from stagelens.training.cache import MANIFEST, config_key, load_manifest

    if (path / MANIFEST).is_file():
        manifest = load_manifest(path)
        assert manifest is not None
        return manifest.key
    stats = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in path.iterdir())
    return config_key({"dir": str(path.resolve()), "files": stats})


def train_sft_only(
    spec: ExperimentSpec, out_dir: Path, cache: Path, progress: Progress,
    recipe: SFTRecipeSpec | None = None, name: str = "sft_only",
) -> SFTResult:  # fmt: skip
    """SFT of the base with the spec's recipe, or `recipe` (a sweep's point), into
    <out_dir>/checkpoints/<name>; reused when already there."""
    from stagelens.training.sft import run_sft_recipe

    return run_sft_recipe(base_weights(spec, cache, progress), recipe or spec.sft,
                          out_dir / "checkpoints" / name, progress=progress)  # fmt: skip


def base_weights(spec: ExperimentSpec, cache: Path, progress: Progress) -> str:
    """Where the base's weights load from (a hub id or a folder; a GGUF converted once into
    the cache); a UserError for an 'inspect' model, which has none to fine-tune or score."""
    base = spec.stage("base").model
    if base.inspect is not None:
        raise UserError("stages.base.model: an 'inspect' model cannot be fine-tuned; give weights")
    if base.gguf is not None:
        from stagelens.evaluate.gguf import materialize_gguf

        return str(materialize_gguf(Path(base.gguf), cache, progress))
    return base.path or str(base.hub)


def suite_runs(spec: ExperimentSpec, spec_path: str | Path) -> list[SuiteRun]:
    """Every suite of the spec as the pipeline runs it. Loads each suite's prompts once (for
    the record's provenance; an error names the spec and the suite) and writes nothing."""
    from stagelens.experiment.rating import (
        judge_agreement,
        judge_wiring,
        rater_identity,
        suite_judge,
    )
    from stagelens.suites import suite_entry, suite_info
    from stagelens.suites.common import load_prompts

    seed = spec.seeds[0]
    runs = []
    for suite in spec.suites:
        try:
            _, provenance = load_prompts(
                suite.source, suite_info(suite.name).request_kind, suite.n, seed
            )
        except (ValueError, OSError) as err:
            raise UserError(f"{spec_path}: suite {suite.name}: {err}") from err
        judge, roles = judge_wiring(spec, suite)
        args = {"source": suite.source, "n": suite.n, "seed": seed, "rater": suite.rater,
                "max_tokens": suite.max_tokens, "temperature": suite.temperature or None,
                "samples_per_prompt": suite.samples_per_prompt}  # fmt: skip
        if judge is not None:  # only judged suites carry it: older logs stay reusable
            args["judge"] = judge
        rater, separate_judge = rater_identity(spec, suite), None
        own = suite_entry(suite.name).own_rater
        if judge is not None and own is not None:
            # the suite keeps its own rater; the judge's verdicts are metrics of their own
            from stagelens.raters.registry import get_rater

            rater, separate_judge = get_rater(own).identity, rater
        agreement = partial(judge_agreement, suite_judge(spec, suite))
        runs.append(SuiteRun(
            suite=suite.name, args=args, data=provenance, n_prompts=provenance.n or 0,
            generation={"max_tokens": suite.max_tokens, "temperature": suite.temperature,
                        "samples_per_prompt": suite.samples_per_prompt},
            rater=rater, roles=roles, temperature=suite.temperature, realtime=True,
            agreement=None if separate_judge else agreement, judge=separate_judge,
            judge_agreement=agreement if separate_judge else None,
        ))  # fmt: skip
    if spec.reward_hacking is not None:
        runs.append(agentic.suite_run(spec))
    if spec.odcv is not None:
        from stagelens.experiment import odcv

        runs.append(odcv.suite_run(spec))
    if spec.audit is not None:
        from stagelens.experiment import audit

        runs.append(audit.suite_run(spec))
    return runs


def calibrated(
    spec: ExperimentSpec, runs: list[SuiteRun], out_dir: Path, progress: Progress
) -> list[SuiteRun]:
    """The runs with each suite's rater calibrated on its labelled file, if the spec has one."""
    from stagelens.experiment.rating import suite_calibration

    specs = {suite.name: suite for suite in spec.suites}
    return [
        replace(run, calibration=suite_calibration(spec, specs[run.suite], out_dir, progress))
        if run.suite in specs else run
        for run in runs
    ]  # fmt: skip


def run_experiment(
    spec_path: str | Path,
    out: str | Path | None = None,
    *,
    offline: bool = False,
    cache: str | Path | None = None,
    progress: Progress = print,
    ray: str | None = None,
) -> tuple[RunRecord, ReportPaths]:
    """Validate the spec, make sure sft_only exists, evaluate every stage, report.

    ``ray``: a Ray cluster address ("local", "auto", "ray://host:port") the shards of a
    sharded suite run on; None: one after another in this process.

    Takes the spec file (an organism spec runs the demo), the run directory (default
    runs/<family>), whether hub access is forbidden, and the checkpoint cache; gives the run
    record and the report's paths.
    """
    from stagelens.experiment.demo import run_demo
    from stagelens.spec import load_spec, require_valid
    from stagelens.spec.organism import load_organism_spec
    from stagelens.training.cache import cache_root

    organism = load_organism_spec(spec_path)
    if organism is not None:
        o = organism.organism
        result = run_demo(variant=o.variant, out=out, seed=o.seed, n_prompts=o.n_prompts,
                          margin=o.margin, cache=cache, progress=progress)  # fmt: skip
        return result.record, result.paths
    spec = load_spec(spec_path)
    require_valid(spec, offline=offline)
    seed = spec.seeds[0]
    runs = suite_runs(spec, spec_path)  # prompt sources resolve before anything is written
    runs = [replace(r, ray=ray) if r.shards > 1 else r for r in runs]
    out_dir = pipeline.prepare_out_dir(Path(out) if out is not None else Path("runs") / spec.family)
    cache_dir = Path(cache) if cache is not None else cache_root()
    start, timings = time.monotonic(), {}

    refs: dict[str, ModelRef | None] = {s.name: s.model for s in spec.stages}
    refs["sft_only"] = spec.sft_only
    progress(f"[1/4] checkpoints of {', '.join(name for name, ref in refs.items() if ref)}")
    for name, ref in refs.items():
        if ref is not None:
            stage_model(name, ref, cache_dir, runs[0].temperature, progress)
    trained = None
    if spec.sft_only is None:
        progress("[2/4] sft_only: training the base with the spec's SFT recipe")
        trained = train_sft_only(spec, out_dir, cache_dir, progress)
    else:
        progress(f"[2/4] sft_only: given by the spec ({spec.sft_only.describe()}), no training")
    timings["sft"] = time.monotonic() - start

    def model_for(name: str, run: SuiteRun) -> StageModel:
        ref = refs[name]
        if ref is None:
            assert trained is not None
            return trained_model(name, trained, spec, run.temperature)
        return stage_model(name, ref, cache_dir, run.temperature)

    progress(f"[3/4] suites {', '.join(run.suite for run in runs)} on {', '.join(refs)}")
    runs = calibrated(spec, runs, out_dir, progress)
    logs = pipeline.evaluate(list(refs), runs, model_for, out_dir / "logs", progress, timings)
    progress("[4/4] statistics and report")
    tick = time.monotonic()
    metrics, suites = pipeline.compare(
        logs, runs, pipeline.Settings(margin=spec.margin, min_pairs=spec.min_pairs, seed=seed)
    )
    timings["statistics"] = time.monotonic() - tick
    first = runs[0]
    record, paths = pipeline.finish(
        out_dir, start, timings, progress,
        name=spec.family,
        config={"spec_file": str(spec_path), "spec": spec.model_dump(mode="json")},
        seeds={"experiment": seed, "sft": spec.sft.seed, "bootstrap": seed},
        # declared in the spec's mixture: flagged whether sft_only was trained here or given
        sft_distilled_parts=[p.name for p in spec.sft.mixture
                             if p.provenance.distilled_from_rl_model],
        stages=[
            pipeline.stage_record(
                name, _describe(name, ref), model_for(name, first), logs[name], out_dir,
                training=[trained.record] if ref is None and trained is not None else [],
            )
            for name, ref in refs.items()
        ],
        suites=suites,
        rater=suites[0].rater,
        metrics=metrics,
    )  # fmt: skip
    return record, paths


def trained_model(
    name: str, trained: SFTResult, spec: ExperimentSpec, temperature: float
) -> StageModel:
    """The SFT-only checkpoint stagelens trained, served like the base it came from."""
    from stagelens.evaluate.runner import StageModel

    provider = spec.stage("base").model.effective_provider or "stagelens-hf"
    sampling = (("do_sample", temperature > 0),)
    return StageModel(name, str(trained.checkpoint), trained.key, provider, sampling)


def _describe(name: str, ref: ModelRef | None) -> str:
    if ref is None:
        return "base + SFT with the spec's recipe (trained by stagelens)"
    return f"{name}: {ref.describe()}"


def sft_from_spec(
    spec_path: str | Path,
    out: str | Path | None = None,
    *,
    offline: bool = False,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> SFTResult:
    """`stagelens sft`: validate the spec, then SFT its base into <out>/checkpoints/sft_only."""
    from stagelens.spec import load_spec, require_valid
    from stagelens.spec.organism import load_organism_spec
    from stagelens.training.cache import cache_root

    if load_organism_spec(spec_path) is not None:
        raise UserError(f"{spec_path}: the organism trains its own stages; use `stagelens run`")
    spec = load_spec(spec_path)
    require_valid(spec, offline=offline)
    out_dir = pipeline.prepare_out_dir(Path(out) if out is not None else Path("runs") / spec.family)
    cache_dir = Path(cache) if cache is not None else cache_root()
    result = train_sft_only(spec, out_dir, cache_dir, progress)
    progress(f"sft_only checkpoint: {result.checkpoint}")
    return result
