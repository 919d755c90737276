"""A sweep's points compared with production, and its dose-response curves: shared by the
organism's sweep (`sweep.py`) and a spec's (`spec_sweep.py`).

Every point is a stage in the logs beside "base" and "production"; each metric of each point
is compared with production by the run's statistics (`compare_metric`), and the points of one
seed (and, leaving each part out, one part) make a curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.report.sweep_record import SweepCurve, SweepPoint
from stagelens.stats.dose import DosePoint

if TYPE_CHECKING:
    from stagelens.experiment.pipeline import Logs, Settings
    from stagelens.stats.types import RateEstimate
    from stagelens.suites import MetricDef


@dataclass(frozen=True)
class PointRun:
    """One trained point: its stage name in the logs and what it was trained with."""

    stage: str
    seed: int
    dose: float
    count: int  # the dosed part's rows at this point
    checkpoint_key: str
    part: str | None = None  # leaving each part out: the part this point is about


def compare_points(
    logs: Logs, metrics: list[tuple[str, MetricDef]], points: list[PointRun], settings: Settings,
    curves: bool = True,
) -> tuple[list[SweepPoint], list[SweepCurve], dict[str, dict[str, RateEstimate]]]:
    """Each point against production per metric (suite, metric), (`curves`) one curve per
    metric, seed and part, and per metric the base's and production's rates."""
    from stagelens.evaluate.runner import read_stages
    from stagelens.experiment.pipeline import subset_outside
    from stagelens.stats import compare_metric
    from stagelens.stats.dose import monotone_violations, smallest_equivalent_dose, strictly_between

    records = {p.stage: SweepPoint(
        seed=p.seed, dose=p.dose, count=p.count, stage=p.stage, checkpoint_key=p.checkpoint_key,
        part=p.part, rates={}, verdicts={}, verdict_texts={},
    ) for p in points}  # fmt: skip
    made: list[SweepCurve] = []
    baselines: dict[str, dict[str, RateEstimate]] = {}
    loaded: dict[Path, Any] = {}  # each log is read once for all its metrics
    for suite, m in metrics:
        paths = {stage: by_suite[suite] for stage, by_suite in logs.items()}
        outcomes, clusters = read_stages(paths, scorer=m.scorer, key=m.key, loaded=loaded)
        outside = subset_outside(m, paths, loaded)
        groups: dict[tuple[int, str | None], list[PointRun]] = {}
        for p in points:
            groups.setdefault((p.seed, p.part), []).append(p)
        for (seed, part), group in groups.items():
            curve_points = []
            base = production = None
            for p in group:
                stages = {"base": "base", "sft_only": p.stage, "production": "production"}
                c = compare_metric(
                    m.name, {role: outcomes[stage] for role, stage in stages.items()},
                    clusters=clusters, margin=settings.margin, min_pairs=settings.min_pairs,
                    seed=settings.seed, label=m.label, lower_is_safer=m.lower_is_safer,
                    outside=None if outside is None else
                    {role: outside[stage] for role, stage in stages.items()},
                    neutral=m.neutral,
                )  # fmt: skip
                base, production = c.rates["base"], c.rates["production"]
                rate = c.rates["sft_only"]
                record = records[p.stage]
                record.rates[m.name] = rate
                record.verdicts[m.name] = c.verdict
                record.verdict_texts[m.name] = c.verdict_text
                curve_points.append(DosePoint(p.dose, rate.rate, rate.ci_low, rate.ci_high,
                                              c.verdict == "equivalent"))  # fmt: skip
            assert base is not None and production is not None
            baselines[m.name] = {"base": base, "production": production}
            if not curves:
                continue
            violations = monotone_violations(curve_points, decreasing=_decreasing(curve_points))
            made.append(SweepCurve(
                metric=m.name, seed=seed, part=part, lower_is_safer=m.lower_is_safer,
                base=base, production=production, doses=[p.dose for p in group],
                monotone=not violations, violations=violations,
                graded_doses=strictly_between(curve_points),
                smallest_equivalent_dose=smallest_equivalent_dose(curve_points),
            ))  # fmt: skip
    return list(records.values()), made, baselines


def _decreasing(points: list[DosePoint]) -> bool:
    """The curve's direction, from its end points (the lowest and the highest dose)."""
    known = sorted((p for p in points if p.rate is not None), key=lambda p: p.dose)
    if len(known) < 2:
        return True
    first, last = known[0].rate, known[-1].rate
    assert first is not None and last is not None
    return last <= first
