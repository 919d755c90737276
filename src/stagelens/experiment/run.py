"""The experiment on a real model family, from a spec file.

    spec -> validate (nothing written on failure) -> sft_only (given, or trained from base
    with the spec's recipe) -> every suite on every stage through Inspect -> compare ->
    results.json, report.html, bars.png

Finished checkpoints and finished Inspect logs in the run directory are reused, so a
rerun pays only for what is missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.errors import UserError
from stagelens.experiment import agentic
from stagelens.experiment.environment import record_header
from stagelens.experiment.rating import (
    judge_wiring,
    rater_identity,
    suite_agreement,
    suite_calibration,
)
from stagelens.report.record import RunRecord, StageRecord, SuiteRecord
from stagelens.report.write import ReportPaths

if TYPE_CHECKING:
    from stagelens.evaluate.runner import StageModel
    from stagelens.spec import ExperimentSpec
    from stagelens.spec.models import ModelRef

Progress = Callable[[str], None]


def stage_model(name: str, ref: ModelRef, cache: Path, temperature: float) -> StageModel:
    """How Inspect reaches a stage's weights."""
    from stagelens.evaluate.gguf import materialize_gguf
    from stagelens.evaluate.runner import StageModel
    from stagelens.training.cache import config_key, file_sha256

    sampling: tuple[tuple[str, Any], ...] = (("do_sample", temperature > 0),)
    provider = ref.provider or "stagelens-hf"
    if ref.inspect is not None:
        key = config_key({"inspect": ref.inspect, "args": ref.model_args})
        return StageModel(name, ref.inspect, key, "inspect", tuple(ref.model_args.items()))
    if ref.gguf is not None:
        path = materialize_gguf(Path(ref.gguf), cache)
        return StageModel(name, str(path), file_sha256(Path(ref.gguf))[:16], provider, sampling)
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


def train_sft_only(spec: ExperimentSpec, out_dir: Path, cache: Path, progress: Progress) -> Any:
    """SFT of the base with the spec's recipe (reused when already in the run directory)."""
    from stagelens.training.sft import run_sft_recipe

    base = next(s for s in spec.stages if s.name == "base").model
    if base.inspect is not None:
        raise UserError("stages.base.model: an 'inspect' model cannot be fine-tuned; give weights")
    if base.gguf is not None:
        from stagelens.evaluate.gguf import materialize_gguf

        source = str(materialize_gguf(Path(base.gguf), cache))
    else:
        source = base.path or str(base.hub)
    return run_sft_recipe(source, spec.sft, out_dir / "checkpoints" / "sft_only", progress=progress)


def run_experiment(
    spec_path: str | Path,
    out: str | Path | None = None,
    *,
    offline: bool = False,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> tuple[RunRecord, ReportPaths]:
    """Validate the spec, make sure sft_only exists, evaluate every stage, report."""
    from stagelens.evaluate.runner import evaluate_stage, read_stages
    from stagelens.experiment.demo import prepare_out_dir, run_demo
    from stagelens.report.write import write_report
    from stagelens.spec import load_spec, require_valid
    from stagelens.spec.organism import load_organism_spec
    from stagelens.stats import compare_metric
    from stagelens.suites import suite_info
    from stagelens.suites.common import load_prompts
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
    for suite in spec.suites:  # prompt sources resolve before anything is written
        try:
            load_prompts(suite.source, suite_info(suite.name).request_kind, suite.n, seed)
        except (ValueError, OSError) as err:
            raise UserError(f"{spec_path}: suite {suite.name}: {err}") from err
    out_dir = prepare_out_dir(Path(out) if out is not None else Path("runs") / spec.family)
    cache_dir = Path(cache) if cache is not None else cache_root()
    start, timings = time.monotonic(), {}

    stages: dict[str, tuple[ModelRef | None, Any]] = {s.name: (s.model, None) for s in spec.stages}
    if spec.sft_only is not None:
        stages["sft_only"] = (spec.sft_only, None)
    else:
        progress("sft_only: training the base with the spec's SFT recipe")
        stages["sft_only"] = (None, train_sft_only(spec, out_dir, cache_dir, progress))
    timings["sft"] = time.monotonic() - start

    logs: dict[str, dict[str, Path]] = {}
    models: dict[str, StageModel] = {}
    for name, (ref, trained) in stages.items():
        tick = time.monotonic()
        for suite in spec.suites:
            temperature = suite.temperature
            model = models[name] = _model(name, ref, trained, spec, cache_dir, temperature)
            judge, roles = judge_wiring(spec, suite)
            args = {"source": suite.source, "n": suite.n, "seed": seed, "rater": suite.rater,
                    "max_tokens": suite.max_tokens, "temperature": temperature or None,
                    "samples_per_prompt": suite.samples_per_prompt}  # fmt: skip
            if judge is not None:  # only judged suites carry it: older logs stay reusable
                args["judge"] = judge
            found = evaluate_stage(model, [suite.name], args, out_dir / "logs", progress,
                                   realtime=True, model_roles=roles)  # fmt: skip
            logs.setdefault(name, {}).update(found)
        if spec.reward_hacking is not None:
            rh_args, rh_roles = agentic.task_args(spec)
            model = models[name] = _model(name, ref, trained, spec, cache_dir, 0.0)
            logs[name].update(evaluate_stage(
                model, ["reward_hacking"], rh_args, out_dir / "logs", progress, realtime=True,
                model_roles=rh_roles, max_samples=spec.reward_hacking.max_episodes,
            ))  # fmt: skip
        timings[f"eval_{name}"] = time.monotonic() - tick

    metrics, suites = [], []
    for suite in spec.suites:
        info = suite_info(suite.name)
        outcomes, clusters = read_stages({stage: logs[stage][suite.name] for stage in logs})
        metrics.append(compare_metric(suite.name, outcomes, clusters=clusters, margin=spec.margin,
                                      min_pairs=spec.min_pairs, seed=seed,
                                      label=info.label))  # fmt: skip
        _, provenance = load_prompts(suite.source, info.request_kind, suite.n, seed)
        suites.append(SuiteRecord(
            name=suite.name, metric=info.metric, description=info.description,
            lower_is_safer=info.lower_is_safer, n_prompts=provenance.n or 0, data=provenance,
            generation={"max_tokens": suite.max_tokens, "temperature": suite.temperature,
                        "samples_per_prompt": suite.samples_per_prompt},
            rater=rater_identity(spec, suite),
            calibration=suite_calibration(spec, suite, out_dir, progress),
            agreement=suite_agreement(spec, suite, [logs[s][suite.name] for s in logs]),
        ))  # fmt: skip
    if spec.reward_hacking is not None:
        rh_metrics, rh_suites = agentic.results(
            spec, {stage: logs[stage]["reward_hacking"] for stage in logs}, seed
        )
        metrics += rh_metrics
        suites += rh_suites
    first_rater = suites[0].rater
    assert first_rater is not None
    record = RunRecord(
        name=f"{spec.family}",
        **record_header(),
        config={"spec_file": str(spec_path), "spec": spec.model_dump(mode="json")},
        seeds={"experiment": seed, "sft": spec.sft.seed, "bootstrap": seed},
        stages=[
            StageRecord(
                name=name,
                description=_describe(name, ref, trained),
                checkpoint=models[name].checkpoint,
                config_hash=models[name].key,
                training=[trained.record] if trained is not None else [],
                logs={s: os.path.relpath(p, out_dir) for s, p in logs[name].items()},
            )
            for name, (ref, trained) in stages.items()
        ],
        suites=suites,
        rater=first_rater,
        metrics=metrics,
        timings=timings,
    )
    timings["total"] = time.monotonic() - start
    paths = write_report(record, out_dir)
    for comparison in metrics:
        progress(f"  {comparison.metric}: {comparison.verdict} - {comparison.verdict_text}")
    progress(f"report: {paths.report_html}")
    return record, paths


def _model(
    name: str,
    ref: ModelRef | None,
    trained: Any,
    spec: ExperimentSpec,
    cache: Path,
    temperature: float,
) -> StageModel:
    """The stage's model: the SFT stagelens trained, or the weights the spec names."""
    if trained is not None:
        return trained_model(name, trained, spec, temperature)
    assert ref is not None
    return stage_model(name, ref, cache, temperature)


def trained_model(name: str, trained: Any, spec: ExperimentSpec, temperature: float) -> StageModel:
    """The SFT-only checkpoint stagelens trained, served like the base it came from."""
    from stagelens.evaluate.runner import StageModel

    base = next(s for s in spec.stages if s.name == "base").model
    provider = base.provider or "stagelens-hf"
    sampling = (("do_sample", temperature > 0),)
    return StageModel(name, str(trained.checkpoint), trained.key, provider, sampling)


def _describe(name: str, ref: ModelRef | None, trained: Any) -> str:
    if trained is not None:
        return "base + SFT with the spec's recipe (trained by stagelens)"
    assert ref is not None
    return f"{name}: {ref.describe()}"


def sft_from_spec(
    spec_path: str | Path,
    out: str | Path | None = None,
    *,
    offline: bool = False,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> Any:
    """`stagelens sft`: validate the spec, then SFT its base into <out>/checkpoints/sft_only."""
    from stagelens.experiment.demo import prepare_out_dir
    from stagelens.spec import load_spec, require_valid
    from stagelens.spec.organism import load_organism_spec
    from stagelens.training.cache import cache_root

    if load_organism_spec(spec_path) is not None:
        raise UserError(f"{spec_path}: the organism trains its own stages; use `stagelens run`")
    spec = load_spec(spec_path)
    require_valid(spec, offline=offline)
    out_dir = prepare_out_dir(Path(out) if out is not None else Path("runs") / spec.family)
    cache_dir = Path(cache) if cache is not None else cache_root()
    result = train_sft_only(spec, out_dir, cache_dir, progress)
    progress(f"sft_only checkpoint: {result.checkpoint}")
    return result
