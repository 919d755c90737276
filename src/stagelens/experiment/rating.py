"""What a suite's rater adds to a run: judge wiring, calibration, and panel agreement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.raters.registry import JUDGE_PREFIX
from stagelens.report.record import AgreementRecord, CalibrationSummary, RaterIdentity

if TYPE_CHECKING:
    from stagelens.spec import ExperimentSpec
    from stagelens.spec.models import JudgeSpec, SuiteSpec

Progress = Callable[[str], None]


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
    from stagelens.raters.judges.settings import judge_identity
    from stagelens.raters.registry import get_rater

    judge = suite_judge(spec, suite)
    if judge is None:
        return get_rater(suite.rater).identity
    return judge_identity(judge.name, judge.rubric, judge.graders, judge.aggregate)


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


def suite_agreement(
    spec: ExperimentSpec, suite: SuiteSpec, logs: list[Path]
) -> AgreementRecord | None:
    """Agreement of a panel's judges over every stage's answers (None for a single rater)."""
    return judge_agreement(suite_judge(spec, suite), logs)


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
