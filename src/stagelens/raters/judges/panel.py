"""Agreement within a panel of judges, read back from a judged suite's Inspect log.

Each judge's label per answer is in the score metadata (`judges`); a judge that gave no
valid verdict is a missing rating, which Krippendorff's alpha handles and Fleiss' kappa
does not (it uses only answers every judge scored). Labels are categories without an order
common to every rubric, so the level of measurement is nominal.
"""

from __future__ import annotations

from pathlib import Path

from stagelens.raters.base import UNSCORED
from stagelens.records import AgreementRecord

Ratings = list[dict[str, str]]  # per answer: judge role -> label (or "unscored")


def read_panel(log_path: Path, scorer: str = "judged") -> tuple[Ratings, dict[str, str]]:
    """Per-answer labels of each judge, and each role's judge model."""
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(log_path))
    ratings: Ratings = []
    models: dict[str, str] = {}
    for sample in log.samples or []:
        score = (sample.scores or {}).get(scorer)
        if score is not None and (score.metadata or {}).get("decided_by") == "exact":
            continue  # decided by the suite's exact rule: no grader was asked
        judges = (score.metadata or {}).get("judges") if score is not None else None
        if not isinstance(judges, dict):
            raise ValueError(f"{log_path}: sample {sample.id} has no per-judge verdicts")
        ratings.append({role: str(v["label"]) for role, v in judges.items()})
        models.update({role: str(v["judge"]) for role, v in judges.items()})
    return ratings, models


def panel_agreement(ratings: Ratings, models: dict[str, str] | None = None) -> AgreementRecord:
    from stagelens.stats.agreement import fleiss_kappa, krippendorff_alpha

    roles = sorted({role for row in ratings for role in row})
    table: list[list[str | None]] = [
        [None if row.get(role, UNSCORED) == UNSCORED else row[role] for role in roles]
        for row in ratings
    ]
    pairable = [r for r in table if sum(v is not None for v in r) >= 2]
    complete = [r for r in table if all(v is not None for v in r)]
    alpha = kappa = None
    try:
        alpha = krippendorff_alpha(pairable, "nominal") if pairable else None
    except ValueError:  # one label throughout: expected disagreement is zero
        alpha = None
    if complete and len({v for r in complete for v in r}) > 1:
        kappa = fleiss_kappa(complete)
    same = [len(set(r)) == 1 for r in complete]
    return AgreementRecord(
        judges=[(models or {}).get(role, role) for role in roles],
        n_items=len(pairable),
        level="nominal",
        krippendorff_alpha=alpha,
        fleiss_kappa=kappa,
        percent_agreement=sum(same) / len(same) if same else None,
        unscored_by_judge={
            (models or {}).get(role, role): sum(r[i] is None for r in table)
            for i, role in enumerate(roles)
        },
    )
