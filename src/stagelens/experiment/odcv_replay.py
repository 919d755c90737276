"""Re-judging ODCV-Bench's published trajectories with stagelens's own judge (`odcv-replay`).

Each published run (see :mod:`stagelens.benchmarks.odcv_trajectories`) goes through the same
`judged` scorer a suite uses, rubric "odcv", by Inspect's replay of stored answers: the record
is the response, the scenario's system prompt and task the request. So retries, unscored
replies, panels and the verdict cache behave as in a suite, and the grader calls land in an
ordinary Inspect log. The result: each cell's severity, each model's MR and severity with
cluster-bootstrap intervals (:func:`stagelens.stats.odcv.odcv_estimates`), and how far the
judge agrees with the benchmark's published median score on the same cells.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stagelens.benchmarks.odcv import OdcvScores, read_odcv_scores
from stagelens.benchmarks.odcv_table import MEDIAN_FILE
from stagelens.benchmarks.odcv_trajectories import (
    MissingCell,
    OdcvTrajectory,
    read_trajectories,
)
from stagelens.errors import UserError
from stagelens.raters.judges.settings import JudgeSpec
from stagelens.records import RaterIdentity, StrictModel
from stagelens.stats.odcv import VIOLATION_SCORE, OdcvEstimates, odcv_estimates

RUBRIC = "odcv"
EVENT = "violation"
TASK_NAME = "odcv_replay"
# where a checkout keeps the published median; the shared data folder keeps it one level up
PUBLISHED_PLACES = (
    Path("existing_results") / "current" / "evaluations" / "judge_all" / MEDIAN_FILE,
    Path("..") / MEDIAN_FILE,
)


class ReplayCell(StrictModel):
    """One re-judged run beside the benchmark's published score of the same cell."""

    model: str
    variant: str
    scenario: str
    severity: float | None  # the judge's score (a panel's median); None: no valid verdict
    label: str
    invalid_replies: int
    grader_calls: int
    published: float | None  # the published median; None where absent or 'N/A'


class ReplayAgreement(StrictModel):
    """The replay judge against the published median, on cells both scored."""

    n: int
    exact: float | None  # share of cells with the same score
    violation: float | None  # share agreeing on violation (score >= 3) or not
    krippendorff_alpha: float | None  # interval level, two raters; None if undefined
    mean_difference: float | None  # replay minus published, on the 0-5 scale


class OdcvReplay(StrictModel):
    """Everything a replay measured, and everything it could not."""

    bench_dir: str
    log: str  # the Inspect log of the grader calls
    judge: RaterIdentity
    cells: list[ReplayCell]
    missing: list[MissingCell]  # cells without a record: missing in the estimates too
    missing_prompts: list[str]
    ignored: list[str]
    n_unscored: int  # replayed cells without a valid verdict
    invalid_replies: int
    grader_calls: int
    cache_hits: int
    estimates: dict[str, OdcvEstimates]  # model -> MR and severity of the replay judge
    published_source: str | None
    published_estimates: dict[str, OdcvEstimates]  # the published median, same cells
    agreement: ReplayAgreement | None

    def format_summary(self) -> str:
        """Per model: the replay's MR and severity beside the published ones; then agreement."""
        lines = [
            f"ODCV-Bench replay of {len(self.cells)} published trajectories ({self.bench_dir})",
            f"judge: {self.judge.description}",
            f"log: {self.log}",
            f"unscored: {self.n_unscored} cells ({self.invalid_replies} invalid replies, "
            f"{self.grader_calls} grader calls, {self.cache_hits} cached verdicts); "
            f"cells without a record: {len(self.missing)}; without a prompt.json: "
            f"{len(self.missing_prompts)}",
            "",
            f"{'model':<24} {'MR %':>6} {'95% CI':>16} {'severity':>8} {'95% CI':>16}"
            f" {'k/n':>7} | {'pub MR %':>8} {'pub sev':>7}",
        ]
        for model, est in self.estimates.items():
            pub = self.published_estimates.get(model)
            lines.append(
                f"{model:<24} {_fmt(est.mr.estimate, 100, 2):>6} "
                f"{_ci(est.mr.ci_low, est.mr.ci_high, 100, 2):>16} "
                f"{_fmt(est.severity.estimate, 1, 3):>8} "
                f"{_ci(est.severity.ci_low, est.severity.ci_high, 1, 3):>16} "
                f"{f'{est.k}/{est.n}':>7} | "
                f"{_fmt(pub.mr.estimate if pub else None, 100, 2):>8} "
                f"{_fmt(pub.severity.estimate if pub else None, 1, 3):>7}"
            )
        a = self.agreement
        lines.append("")
        if a is None:
            lines.append("agreement with the published median: no published scores found")
        else:
            lines.append(
                f"agreement with the published median ({self.published_source}), {a.n} cells: "
                f"exact {_fmt(a.exact, 100, 1)}%, on violation {_fmt(a.violation, 100, 1)}%, "
                f"Krippendorff's alpha (interval) {_fmt(a.krippendorff_alpha, 1, 3)}, "
                f"mean difference {_fmt(a.mean_difference, 1, 3)}"
            )
        for cell in self.missing:
            lines.append(f"missing: {cell.model}-{cell.variant}/{cell.scenario}: {cell.reason}")
        return "\n".join(lines)


def _fmt(value: float | None, scale: float, digits: int) -> str:
    return "n/a" if value is None else f"{scale * value:.{digits}f}"


def _ci(low: float | None, high: float | None, scale: float, digits: int) -> str:
    if low is None or high is None:
        return "n/a"
    return f"[{_fmt(low, scale, digits)}, {_fmt(high, scale, digits)}]"


def _published(bench: Path, path: str | Path | None) -> OdcvScores | None:
    if path is not None:
        return read_odcv_scores(path)
    for place in PUBLISHED_PLACES:
        if (bench / place).is_file():
            return read_odcv_scores((bench / place).resolve())
    return None


def _samples(records: Sequence[OdcvTrajectory]) -> list[Any]:
    from inspect_ai.dataset import Sample

    return [
        Sample(
            id=r.cell_id,
            input=r.judge_request(),
            metadata={"response": r.transcript, "judge_request": r.judge_request(),
                      "model": r.model, "variant": r.variant, "scenario": r.scenario},
        )
        for r in records
    ]  # fmt: skip


def _agreement(pairs: list[tuple[float, float]]) -> ReplayAgreement:
    from stagelens.stats.agreement import krippendorff_alpha

    n = len(pairs)
    if not n:
        return ReplayAgreement(n=0, exact=None, violation=None, krippendorff_alpha=None,
                               mean_difference=None)  # fmt: skip
    try:
        alpha: float | None = krippendorff_alpha([[a, b] for a, b in pairs], "interval")
    except ValueError:  # fewer than two pairable values, or no variation at all
        alpha = None
    if alpha is not None and math.isnan(alpha):
        alpha = None
    same_side = [(a >= VIOLATION_SCORE) == (b >= VIOLATION_SCORE) for a, b in pairs]
    return ReplayAgreement(
        n=n,
        exact=sum(a == b for a, b in pairs) / n,
        violation=sum(same_side) / n,
        krippendorff_alpha=alpha,
        mean_difference=sum(a - b for a, b in pairs) / n,
    )


def replay_odcv(
    bench_dir: str | Path,
    judge: JudgeSpec,
    log_dir: str | Path,
    cache: str | None = None,
    models: Sequence[str] | None = None,
    limit: int | None = None,
    published: str | Path | None = None,
    n_boot: int = 10000,
    seed: int = 0,
    model_roles: dict[str, Any] | None = None,
) -> OdcvReplay:
    """Re-judge the published trajectories under ``bench_dir`` with ``judge`` (rubric "odcv").

    ``models`` keeps those models' runs only; ``limit`` judges the first N runs (by model,
    variant, scenario), for a cheap look. ``published``: the median score table to compare
    with (default: the checkout's, or ``scores_final_median.csv`` beside ``bench_dir``).
    ``cache``: the verdict cache file (None: stagelens's; "none": off). ``model_roles``
    overrides the judge's graders with Model objects (tests script them).
    """
    from inspect_ai.log import EvalLog

    from stagelens.raters.judges.replay import judge_replayed

    if judge.rubric != RUBRIC:
        raise UserError(f"judge {judge.name!r} has rubric {judge.rubric!r}; a replay of "
                        f"ODCV-Bench needs rubric {RUBRIC!r}")  # fmt: skip
    if limit is not None and limit < 1:
        raise UserError(f"limit must be at least 1, got {limit}")
    bench = Path(bench_dir)
    found = read_trajectories(bench)
    known = found.models()
    unknown = sorted(set(models or ()) - set(known))
    if unknown:
        raise UserError(f"{bench}: no published runs of {unknown}; models: {known}")
    keep = set(models) if models else set(known)
    records = [r for r in found.records if r.model in keep][:limit]
    missing = [m for m in found.missing if m.model in keep]
    if not records:
        raise UserError(f"{bench}: no published run to judge for {sorted(keep)}")
    table = _published(bench, published)

    log: EvalLog = judge_replayed(_samples(records), judge, EVENT, Path(log_dir), TASK_NAME,
                                  cache, model_roles)  # fmt: skip
    scores = {str(s.id): (s.scores or {}).get("judged") for s in log.samples or []}
    cells: list[ReplayCell] = []
    totals = {"invalid_replies": 0, "grader_calls": 0, "cache_hits": 0}
    for r in records:
        score = scores.get(r.cell_id)
        if score is None:
            raise RuntimeError(f"{log.location}: sample {r.cell_id!r} has no judged score")
        meta = score.metadata or {}
        for key in totals:
            totals[key] += int(meta.get(key, 0))
        severity = meta.get("severity")
        pub = None
        if table is not None and r.model in table.models:
            pub = table.model_cells(r.model).get((r.scenario, r.variant))
        cells.append(ReplayCell(
            model=r.model, variant=r.variant, scenario=r.scenario,
            severity=None if severity is None else float(severity),
            label=str(meta.get("label", "unscored")),
            invalid_replies=int(meta.get("invalid_replies", 0)),
            grader_calls=int(meta.get("grader_calls", 0)),
            published=pub,
        ))  # fmt: skip

    estimates: dict[str, OdcvEstimates] = {}
    published_estimates: dict[str, OdcvEstimates] = {}
    for model in sorted({c.model for c in cells}):
        mine = {(c.scenario, c.variant): c.severity for c in cells if c.model == model}
        # a cell without a record is missing here too, as 'N/A' is in the benchmark's table
        gaps = {(m.scenario, m.variant): None for m in missing if m.model == model}
        estimates[model] = odcv_estimates(mine | gaps, n_boot=n_boot, seed=seed)
        theirs = {(c.scenario, c.variant): c.published for c in cells if c.model == model}
        if table is not None and any(v is not None for v in theirs.values()):
            published_estimates[model] = odcv_estimates(theirs, n_boot=n_boot, seed=seed)
    pairs = [(c.severity, c.published) for c in cells
             if c.severity is not None and c.published is not None]  # fmt: skip
    return OdcvReplay(
        bench_dir=str(bench),
        log=str(log.location),
        judge=judge.identity,
        cells=cells,
        missing=missing,
        missing_prompts=[i for i in found.missing_prompts if i in {r.cell_id for r in records}],
        ignored=found.ignored,
        n_unscored=sum(c.severity is None for c in cells),
        invalid_replies=totals["invalid_replies"],
        grader_calls=totals["grader_calls"],
        cache_hits=totals["cache_hits"],
        estimates=estimates,
        published_source=str(table.path) if table is not None else None,
        published_estimates=published_estimates,
        agreement=_agreement(pairs) if table is not None else None,
    )
