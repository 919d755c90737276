"""A data sweep on the organism: SFT-only retrained with one mixture part at several doses.

    variant, part, doses, seeds -> per seed: base and production (cached, once), and one
    SFT-only per dose (one SFT run each) -> the request suites on every point -> per metric
    and seed: a dose-response curve with intervals, each point compared with production
    (the demo's statistics), the smallest dose from which SFT-only is equivalent to it
    -> sweep.json and sweep.png

A dose scales the part's number of examples (0 leaves it out); SFT runs the same number of
steps at every dose, so a dose changes the part's share of what SFT sees. With a swap, the
examples a dose takes away are given back with another response to the same kind of prompt
(`--swap-to refusal`: human-written refusals in place of a distilled part), so the mixture's
size stays and only the part's provenance changes. Points are cached
checkpoints and reused Inspect logs, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.errors import UserError
from stagelens.progress import Progress
from stagelens.records import Provenance
from stagelens.report.sweep_record import SweepCurve, SweepPoint, SweepRecord

if TYPE_CHECKING:
    from stagelens.organism.variant import Variant

SUITES = ("unsafe_response", "over_refusal")
DEFAULT_DOSES = (0.0, 0.02, 0.05, 0.1, 0.25, 1.0)


def check_sweep(
    variant_ref: str | Path, part: str, doses: list[float], seeds: list[int],
    swap_to: str | None = None,
) -> tuple[Variant, str, dict[float, Variant]]:  # fmt: skip
    """Every error a sweep can be told before it trains anything; gives the variant, its
    sha256 and the variant at each dose."""
    from stagelens.organism.variant import load_variant

    spec, _, sha = load_variant(variant_ref)
    dosed = _dosed(spec, part, doses, swap_to)
    if not seeds:
        raise UserError("a sweep needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise UserError(f"seeds repeat: {seeds} (two points would share a seed and a dose)")
    return spec, sha, dosed


def _dosed(
    spec: Variant, part: str, doses: list[float], swap_to: str | None = None
) -> dict[float, Variant]:
    """The variant with `part` ("kind:response") scaled by each dose, by dose; with
    `swap_to`, the examples taken away come back answered with that response."""
    from pydantic import ValidationError

    from stagelens.organism.variant import SFTPart

    names = [p.name for p in spec.sft.examples]
    if part not in names:
        raise UserError(f"--part {part!r}: variant {spec.name} has no SFT part of that name "
                        f"(its parts: {', '.join(names)})")  # fmt: skip
    if not doses:
        raise UserError("a sweep needs at least one dose")
    bad = [d for d in doses if not math.isfinite(d) or d < 0]
    if bad:
        raise UserError(f"doses must be finite and non-negative, got {bad}")
    if len(set(doses)) != len(doses):
        raise UserError(f"doses repeat: {doses} (two points would share a seed and a dose)")
    dosed = next(p for p in spec.sft.examples if p.name == part)
    if swap_to is not None:
        if any(d > 1 for d in doses):
            raise UserError(f"--swap-to: doses above 1 leave nothing to swap, got {doses}")
        try:
            SFTPart(kind=dosed.kind, response=swap_to, count=1)  # type: ignore[arg-type]
        except ValidationError as err:
            raise UserError(f"--swap-to {swap_to!r}: not an answer to {dosed.kind} prompts "
                            f"({err.errors()[0]['msg']})") from err  # fmt: skip
        if f"{dosed.kind}:{swap_to}" in names:
            raise UserError(f"--swap-to {swap_to!r}: variant {spec.name} already has the "
                            f"part {dosed.kind}:{swap_to}; dose that part instead")  # fmt: skip
    out: dict[float, Variant] = {}
    for dose in doses:
        parts = []
        for p in spec.sft.examples:
            if p.name == part:
                count = round(p.count * dose)
                if swap_to is not None and p.count - count > 0:
                    parts.append(SFTPart(kind=p.kind, response=swap_to,  # type: ignore[arg-type]
                                         count=p.count - count))  # fmt: skip
                if count == 0:
                    continue
                p = p.model_copy(update={"count": count})
            parts.append(p)
        if not parts:
            raise UserError(f"dose {dose} leaves variant {spec.name}'s SFT mixture empty")
        same = next((d for d, v in out.items() if v.sft.examples == parts), None)
        if same is not None:
            raise UserError(f"doses {same:g} and {dose:g} give {part} the same count: the two "
                            "points would be the same SFT run")  # fmt: skip
        out[dose] = spec.model_copy(update={"sft": spec.sft.model_copy(update={"examples": parts})})
    return out


def run_sweep(
    variant: str | Path = "safety-in-sft",
    part: str = "harmful:refusal",
    doses: list[float] | None = None,
    seeds: list[int] | None = None,
    out: str | Path | None = None,
    n_prompts: int = 320,
    margin: float = 0.05,
    cache: str | Path | None = None,
    progress: Progress = print,
    recipe: Any = None,
    swap_to: str | None = None,
) -> SweepRecord:
    """Retrain the organism's SFT-only with `part` at each dose, for each seed; evaluate the
    request suites on every point; write sweep.json and sweep.png under `out`. `swap_to` gives
    the examples a dose removes back with another response (see the module's notes). `recipe` (an
    `OrganismRecipe`; default the demo's) is for tests that train a tinier organism."""
    from stagelens.evaluate.runner import StageModel
    from stagelens.experiment import pipeline
    from stagelens.experiment.demo import SUITES as DEMO_SUITES
    from stagelens.experiment.environment import git_revision, package_versions
    from stagelens.experiment.sweep_points import PointRun, compare_points
    from stagelens.organism.stages import build_stages
    from stagelens.raters.registry import get_rater
    from stagelens.report.atomic import atomic_write_text
    from stagelens.report.headline import distilled_text
    from stagelens.suites import suite_info, suite_metrics
    from stagelens.suites.common import DEFAULT_MAX_TOKENS, load_prompts
    from stagelens.training.cache import cache_root

    doses = list(DEFAULT_DOSES if doses is None else doses)
    seeds = [0] if seeds is None else list(seeds)
    spec, sha, dosed = check_sweep(variant, part, doses, seeds, swap_to)
    assert set(SUITES) <= set(DEMO_SUITES)
    provenance: dict[int, dict[str, Provenance]] = {}  # seed -> suite -> its prompts
    for seed in seeds:
        for suite in SUITES:
            try:
                _, provenance.setdefault(seed, {})[suite] = load_prompts(
                    "organism", suite_info(suite).request_kind, n_prompts, seed)
            except ValueError as err:
                raise UserError(f"--n-prompts {n_prompts}: {err}") from err
    out_dir = pipeline.prepare_out_dir(
        Path(out) if out is not None else Path("runs") / f"sweep-{spec.name}"
    )
    cache_dir = Path(cache) if cache is not None else cache_root()
    start, timings = time.monotonic(), {}
    rater = get_rater("organism-exact").identity
    points: list[SweepPoint] = []
    curves: list[SweepCurve] = []
    for seed in seeds:
        tick = time.monotonic()
        models: dict[str, StageModel] = {}
        counts: dict[str, int] = {}
        for dose in doses:
            point = dosed[dose]
            progress(f"seed {seed}, dose {dose:g}: {part} x {dose:g}")
            stages = build_stages(spec, seed, cache_dir, progress, recipe, sft_only_variant=point)
            name = f"dose_{dose:g}"
            models[name] = StageModel(name=name, checkpoint=str(stages["sft_only"].path),
                                      key=stages["sft_only"].key)  # fmt: skip
            counts[name] = sum(p.count for p in point.sft.examples if p.name == part)
            for fixed in ("base", "production"):
                models[fixed] = StageModel(name=fixed, checkpoint=str(stages[fixed].path),
                                           key=stages[fixed].key)  # fmt: skip
        timings[f"train_seed{seed}"] = time.monotonic() - tick
        tick = time.monotonic()
        task_args = {"source": "organism", "n": n_prompts, "seed": seed, "rater": rater.name,
                     "max_tokens": DEFAULT_MAX_TOKENS}  # fmt: skip
        runs = [pipeline.SuiteRun(suite=s, args=task_args, data=provenance[seed][s], rater=rater,
                                  generation={"max_tokens": DEFAULT_MAX_TOKENS},
                                  n_prompts=n_prompts) for s in SUITES]  # fmt: skip
        logs = pipeline.evaluate(list(models), runs, _served_by(models),
                                 out_dir / "logs" / f"seed{seed}", progress)  # fmt: skip
        timings[f"eval_seed{seed}"] = time.monotonic() - tick
        point_runs = [PointRun(stage=f"dose_{d:g}", seed=seed, dose=d, count=counts[f"dose_{d:g}"],
                               checkpoint_key=str(models[f"dose_{d:g}"].key)) for d in doses]
        metrics = [(s, m) for s in SUITES for m in suite_metrics(s)]
        seed_points, seed_curves, _ = compare_points(logs, metrics, point_runs,
                                                  pipeline.Settings(margin=margin, seed=seed))
        points += seed_points
        curves += seed_curves
    smallest: dict[str, list[float | None]] = {}
    for curve in curves:
        smallest.setdefault(curve.metric, []).append(curve.smallest_equivalent_dose)
    timings["total"] = time.monotonic() - start
    record = SweepRecord(
        variant=spec.name, variant_sha256=sha, part=part, swap_to=swap_to, doses=doses,
        seeds=seeds,
        suites=list(SUITES), n_prompts=n_prompts, margin=margin, points=points, curves=curves,
        smallest_equivalent_dose=smallest, timings=timings, git_revision=git_revision(),
        packages=package_versions(), rater=rater,
        data={f"seed{seed}/{suite}": p
              for seed, by_suite in provenance.items() for suite, p in by_suite.items()},
        confound=distilled_text([part]) if part in spec.sft.distilled_parts else None,
    )  # fmt: skip
    atomic_write_text(out_dir / "sweep.json", record.model_dump_json(indent=2))
    from stagelens.report.sweep_figure import write_sweep_figure

    write_sweep_figure(record, out_dir / "sweep.png")
    for metric, values in smallest.items():
        shown = ", ".join("none" if v is None else f"{v:g}" for v in values)
        progress(f"{metric}: smallest dose equivalent to production, per seed: {shown}")
    progress(f"sweep: {out_dir / 'sweep.json'}, {out_dir / 'sweep.png'}")
    return record


def _served_by(models: Mapping[str, Any]) -> Any:
    def model_for(stage: str, _run: Any) -> Any:
        return models[stage]

    return model_for
