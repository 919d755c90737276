"""A data sweep on a real model family, from a spec's `[sweep]` table (`stagelens sweep SPEC`).

    spec -> validate, and read every point's mixture (an error names the point; nothing is
    trained or written) -> per seed and dose (or part left out): one SFT of the base ->
    the spec's suites on base, production and every point through Inspect -> each point
    against production per metric, one curve per metric and seed -> sweep.json, sweep.png

A sweep of N points costs N SFT runs: each point's checkpoint and each finished Inspect log
in the sweep's directory is reused, so an interrupted sweep resumes where it stopped. Every
point sees the same prompts (the spec's first seed draws them), so its comparison with
production is paired.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stagelens.errors import UserError
from stagelens.progress import Progress
from stagelens.records import Provenance
from stagelens.report.sweep_record import SweepRecord

if TYPE_CHECKING:
    from stagelens.evaluate.runner import StageModel
    from stagelens.experiment.pipeline import SuiteRun
    from stagelens.spec import ExperimentSpec
    from stagelens.training.recipe import SFTRecipeSpec
    from stagelens.training.sft import SFTResult


@dataclass(frozen=True)
class PlannedPoint:
    """One point of the sweep before training: its recipe and what its mixture holds."""

    stage: str  # its stage name in the logs and its checkpoint's folder name
    seed: int
    dose: float
    part: str | None  # leaving each part out: the part left out (None: the full mixture)
    recipe: SFTRecipeSpec
    mixture: list[Provenance]  # the parts as load_mixture reads them

    def count(self, part: str | None) -> int:
        return sum(p.n or 0 for p in self.mixture if p.name == part)


def plan_sweep(spec: ExperimentSpec, spec_path: str | Path) -> list[PlannedPoint]:
    """Every point of the spec's sweep, each mixture read and checked (UserError naming the
    spec and the point). Two points of one seed with the same mixture are refused: they
    would be the same SFT run."""
    from stagelens.spec.sweep import dosed_recipe
    from stagelens.training.mixture import load_mixture

    sweep = spec.sweep
    if sweep is None:
        raise UserError(f"{spec_path}: no [sweep] table; give `part` and `doses` (or "
                        "leave_out_each = true) to sweep the SFT mixture")  # fmt: skip
    if spec.stage("base").model.inspect is not None:
        raise UserError(f"{spec_path}: stages.base.model: a sweep fine-tunes the base, and an "
                        "'inspect' model cannot be fine-tuned; give weights")  # fmt: skip
    wanted: list[tuple[int, float, str | None, SFTRecipeSpec, str]] = []
    for seed in sweep.seeds_for(spec.sft):
        if sweep.leave_out_each:
            wanted.append((seed, 1.0, None, spec.sft.model_copy(update={"seed": seed}), "full"))
            for name in (p.name for p in spec.sft.mixture):
                wanted.append((seed, 0.0, name, dosed_recipe(spec.sft, name, 0.0, seed=seed),
                               f"without_{_slug(name)}"))  # fmt: skip
            continue
        assert sweep.part is not None
        for dose in sweep.effective_doses:
            recipe = dosed_recipe(spec.sft, sweep.part, dose, swap_to=sweep.swap_to, seed=seed)
            wanted.append((seed, dose, None, recipe, f"dose_{_slug(f'{dose:g}')}"))
    points: list[PlannedPoint] = []
    for seed, dose, part, recipe, label in wanted:
        stage = f"seed{seed}_{label}"
        if any(p.stage == stage for p in points):
            stage = f"{stage}_{len(points)}"  # two part names with one slug
        what = f"sweep point {stage}"
        try:
            _, mixture = load_mixture(recipe, seed=seed)
        except ValueError as err:
            raise UserError(f"{spec_path}: {what}: {err}") from err
        point = PlannedPoint(stage, seed, dose, part, recipe, mixture)
        twin = next((p for p in points if p.seed == seed and _counts(p) == _counts(point)), None)
        if twin is not None:
            raise UserError(f"{spec_path}: {what} reads the same rows of each part as "
                            f"{twin.stage} ({_show(point)}): the two points would be the same "
                            "SFT run; choose doses further apart")  # fmt: skip
        points.append(point)
    return points


def run_spec_sweep(
    spec_path: str | Path,
    out: str | Path | None = None,
    *,
    offline: bool = False,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> SweepRecord:
    """Validate the spec and plan every point; train each point's SFT-only from the base;
    evaluate the spec's suites on base, production and every point; write sweep.json and
    sweep.png under `out` (default runs/sweep-<family>)."""
    from stagelens.experiment import pipeline
    from stagelens.experiment.environment import git_revision, package_versions
    from stagelens.experiment.run import stage_model, suite_runs, train_sft_only, trained_model
    from stagelens.experiment.sweep_points import PointRun, compare_points
    from stagelens.report.atomic import atomic_write_text
    from stagelens.report.headline import distilled_text
    from stagelens.report.sweep_figure import write_sweep_figure
    from stagelens.spec import load_spec, require_valid
    from stagelens.spec.organism import load_organism_spec
    from stagelens.training.cache import cache_root

    if load_organism_spec(spec_path) is not None:
        raise UserError(f"{spec_path}: an organism spec; sweep the organism with "
                        "`stagelens sweep --variant ...`")  # fmt: skip
    spec = load_spec(spec_path)
    require_valid(spec, offline=offline)
    planned = plan_sweep(spec, spec_path)
    runs = suite_runs(spec, spec_path)
    sweep = spec.sweep
    assert sweep is not None
    out_dir = pipeline.prepare_out_dir(
        Path(out) if out is not None else Path("runs") / f"sweep-{spec.family}"
    )
    cache_dir = Path(cache) if cache is not None else cache_root()
    start, timings = time.monotonic(), {}
    trained: dict[str, SFTResult] = {}
    for i, point in enumerate(planned, start=1):
        progress(f"[sweep {i}/{len(planned)}] {point.stage}: SFT of the base ({_show(point)})")
        tick = time.monotonic()
        trained[point.stage] = train_sft_only(spec, out_dir, cache_dir, progress,
                                              recipe=point.recipe,
                                              name=f"sweep/{point.stage}")  # fmt: skip
        timings[f"sft_{point.stage}"] = time.monotonic() - tick

    fixed = {name: spec.stage(name).model for name in ("base", "production")}

    def model_for(name: str, run: SuiteRun) -> StageModel:
        if name in fixed:
            return stage_model(name, fixed[name], cache_dir, run.temperature, progress)
        return trained_model(name, trained[name], spec, run.temperature)

    stages = [*fixed, *(p.stage for p in planned)]
    progress(f"[sweep] suites {', '.join(r.suite for r in runs)} on {len(stages)} models")
    logs = pipeline.evaluate(stages, runs, model_for, out_dir / "logs", progress, timings)
    point_runs = [PointRun(stage=p.stage, seed=p.seed, dose=p.dose,
                           count=p.count(p.part if sweep.leave_out_each else sweep.part),
                           checkpoint_key=trained[p.stage].key, part=p.part)
                  for p in planned]  # fmt: skip
    metrics = [(run.suite, m) for run in runs for m in pipeline.run_metrics(run)]
    settings = pipeline.Settings(margin=spec.margin, min_pairs=spec.min_pairs, seed=spec.seeds[0])
    points, curves, baselines = compare_points(logs, metrics, point_runs, settings,
                                    curves=not sweep.leave_out_each)  # fmt: skip
    smallest: dict[str, list[float | None]] = {}
    for curve in curves:
        smallest.setdefault(curve.metric, []).append(curve.smallest_equivalent_dose)
    dosed = [p.name for p in spec.sft.mixture if p.provenance.distilled_from_rl_model
             and (sweep.leave_out_each or p.name == sweep.part)]  # fmt: skip
    timings["total"] = time.monotonic() - start
    sha256 = hashlib.sha256(Path(spec_path).read_bytes()).hexdigest()
    record = SweepRecord(
        variant=spec.family, variant_sha256=sha256,
        part=sweep.part, swap_to=sweep.swap_to.name if sweep.swap_to else None,
        doses=sorted({p.dose for p in planned}), seeds=sweep.seeds_for(spec.sft),
        suites=[r.suite for r in runs], n_prompts=runs[0].n_prompts or 0, margin=spec.margin,
        points=points, curves=curves, smallest_equivalent_dose=smallest, timings=timings,
        git_revision=git_revision(), packages=package_versions(), rater=runs[0].rater,
        data={r.suite: r.data for r in runs}, confound=distilled_text(dosed) if dosed else None,
        spec={"spec_file": str(spec_path), "spec": spec.model_dump(mode="json")},
        mixture={p.stage: p.mixture for p in planned}, baselines=baselines,
    )  # fmt: skip
    atomic_write_text(out_dir / "sweep.json", record.model_dump_json(indent=2))
    write_sweep_figure(record, out_dir / "sweep.png")
    for done in points:
        verdicts = ", ".join(f"{m}: {v}" for m, v in done.verdicts.items())
        progress(f"  {done.stage} against production: {verdicts}")
    for metric, values in smallest.items():
        shown = ", ".join("none" if v is None else f"{v:g}" for v in values)
        progress(f"{metric}: smallest dose equivalent to production, per seed: {shown}")
    if record.confound:
        progress(f"Confound: {record.confound}")
    progress(f"sweep: {out_dir / 'sweep.json'}, {out_dir / 'sweep.png'}")
    return record


def _slug(text: str) -> str:
    """A stage name's piece: stage names become file names and Inspect model names."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "part"


def _counts(point: PlannedPoint) -> tuple[tuple[str, int], ...]:
    # a part drawn with 0 rows is the same mixture as the part left out
    return tuple(sorted((p.name, p.n) for p in point.mixture if p.n))


def _show(point: PlannedPoint) -> str:
    return ", ".join(f"{name} {n} rows" for name, n in _counts(point))
