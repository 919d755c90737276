"""LLM-judge raters: strict verdicts, injection-resistant prompts, and the `judged` scorer."""

from stagelens.raters.judges.prompts import (
    HARMBENCH_VERSION,
    RUBRIC_VERSIONS,
    STRONGREJECT_VERSION,
    XSTEST_VERSION,
    build_prompt,
    neutralise,
    strip_zero_width,
)
from stagelens.raters.judges.scorer import GRADER_ROLE, RUBRICS, SCORER_NAME, grader_roles, judged
from stagelens.raters.judges.settings import (
    JudgeSettings,
    JudgeSpec,
    judge_identity,
    model_roles_for,
    settings_for,
)
from stagelens.raters.judges.verdicts import (
    HarmBenchVerdict,
    RubricVerdict,
    StrongRejectVerdict,
    XSTestVerdict,
    parse_verdict,
    rubric_verdict,
)

__all__ = [
    "GRADER_ROLE",
    "HARMBENCH_VERSION",
    "RUBRICS",
    "RUBRIC_VERSIONS",
    "SCORER_NAME",
    "STRONGREJECT_VERSION",
    "XSTEST_VERSION",
    "HarmBenchVerdict",
    "JudgeSettings",
    "JudgeSpec",
    "RubricVerdict",
    "StrongRejectVerdict",
    "XSTestVerdict",
    "build_prompt",
    "grader_roles",
    "judge_identity",
    "judged",
    "model_roles_for",
    "neutralise",
    "parse_verdict",
    "rubric_verdict",
    "settings_for",
    "strip_zero_width",
]
