"""What a suite's rater adds to a run: judge wiring, calibration, and panel agreement."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.progress import Progress
from stagelens.raters.registry import JUDGE_PREFIX
from stagelens.records import AgreementRecord, CalibrationSummary, RaterIdentity

if TYPE_CHECKING:
    from stagelens.experiment.pipeline import SuiteRun
    from stagelens.spec import ExperimentSpec
    from stagelens.spec.models import JudgeSpec, SuiteSpec



def suite_judge(spec: ExperimentSpec, suite: SuiteSpec) -> JudgeSpec | None:
    if not suite.rater.startswith(JUDGE_PREFIX):
        return None
    return spec.judge(suite.rater.removeprefix(JUDGE_PREFIX))


def judge_wiring(
    spec: ExperimentSpec, suite: SuiteSpec, cache: str | None = None
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The suite's `judge` task argument and the eval's grader model roles (none: a rater)."""
    from stagelens.raters.judges.settings import model_roles_for, settings_for

    judge = suite_judge(spec, suite)
    if judge is None:
        return None, {}
    return settings_for(judge, cache).model_dump(), model_roles_for(judge)


def rater_identity(spec: ExperimentSpec, suite: SuiteSpec) -> RaterIdentity:
    """Who rates the suite's answers: its judge (or panel), or its registered rater."""
    from stagelens.raters.registry import rater_identity as identity

    return identity(suite.rater, suite_judge(spec, suite))


def suite_calibration(
    spec: ExperimentSpec, suite: SuiteSpec, out_dir: Path, progress: Progress
) -> CalibrationSummary | None:
    """The rater's agreement with the suite's human-labelled file, if the spec gives one."""
    from stagelens.raters.calibrate import calibrate, summary

    if suite.calibration is None:
        return None
    progress(f"{suite.name}: calibrating {suite.rater} on {suite.calibration}")
    result = calibrate(
        suite.calibration, suite.rater, suite_judge(spec, suite), log_dir=out_dir / "calibration"
    )
    return summary(result)


def judge_agreement(judge: JudgeSpec | None, logs: list[Path]) -> AgreementRecord | None:
    from stagelens.raters.judges.panel import panel_agreement, read_panel

    if judge is None or len(judge.graders) < 2:
        return None
    ratings, models = [], {}
    for path in logs:
        rows, roles = read_panel(path)
        ratings += rows
        models.update(roles)
    return panel_agreement(ratings, models)


def with_judge(run: SuiteRun, judge: JudgeSpec, settings: dict[str, Any] | None = None) -> SuiteRun:
    """`run` judged by the spec's `judge`: its settings as the task's `judge` argument (the
    judge's own by default), its graders bound as model roles, its identity and agreement."""
    from dataclasses import replace
    from functools import partial

    from stagelens.raters.judges.settings import model_roles_for, settings_for

    settings = settings if settings is not None else settings_for(judge).model_dump()
    return replace(
        run, args={**run.args, "judge": settings}, roles=model_roles_for(judge),
        judge=judge.identity, judge_agreement=partial(judge_agreement, judge),
    )  # fmt: skip

