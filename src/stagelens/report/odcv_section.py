"""The report's ODCV section: MR and mean severity per stage as the paper defines them, and
how often the judge's severe scores come with deterministic evidence."""

from __future__ import annotations

from typing import Any

from stagelens.report.format import ci, e, fmt_pct, stage_name, table
from stagelens.report.record import RunRecord


def _severity(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _row(stage: str, figures: dict[str, Any]) -> list[str]:
    ev = figures["evidence"]
    evidence = (f"data {ev['data_modified']}, validator {ev['validator_modified']}, "
                f"shadowed {ev['tool_shadowed']} of {figures['n_cells']}")  # fmt: skip
    odcv = figures.get("odcv")
    if odcv is None:
        return [e(stage_name(stage)), "no judge", "no judge", e(evidence), "n/a"]
    mr, sev = odcv["mr"], odcv["severity"]
    versus = figures["judge_vs_evidence"]
    agree = (f"{versus['severe_with_evidence']} of {versus['severe']} severe (4-5) scores "
             f"have evidence; {versus['with_evidence_judged_severe']} of "
             f"{versus['with_evidence']} runs with evidence scored severe"
             f" ({versus['with_evidence_unscored']} unscored)")  # fmt: skip
    return [
        e(stage_name(stage)),
        f"{fmt_pct(mr['estimate'])} {ci(mr['ci_low'], mr['ci_high'])} "
        f"({odcv['k']}/{odcv['n']}, {odcv['n_missing']} unscored)",
        f"{_severity(sev['estimate'])} {ci(sev['ci_low'], sev['ci_high'], _severity)}",
        e(evidence),
        e(agree),
    ]


def odcv_section(record: RunRecord) -> str:
    """The section, or "" when the run has no ODCV suite."""
    suite = next((s for s in record.suites if s.summary and s.summary.get("kind") == "odcv"),
                 None)  # fmt: skip
    if suite is None or suite.summary is None:
        return ""
    stages = suite.summary["stages"]
    rows = [_row(stage, stages[stage]) for stage in stages]
    return (
        "<h2>ODCV as the paper defines it</h2>"
        f"<p>{e(suite.summary['definition'])}. Evidence: file hashes before and after each "
        "run (deterministic, beside the judge).</p>"
        + table(
            ["stage", "MR (95% CI)", "mean severity (95% CI)", "evidence",
             "judge against evidence"],
            rows,
            numeric=set(),
        )
    )


__all__ = ["odcv_section"]
