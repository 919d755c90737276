"""Inspect Scout scanners over stagelens logs: the audit's offline raters as a scanner.

Scout (`inspect-scout`) is the ecosystem's tool for scanning transcripts after the fact. The
audit's verdicts do not come from it: they need, per sample, the unscored state, the judge
cache and the panel's identity that stagelens records and pairs across stages. Scout is where
a user looks further: `scan_audit` runs these scanners over a run's `.eval` logs and writes
Scout's own results (open them with `scout view`), the same labels the suite scored with,
next to whatever scanners of their own they add. Imported only where it is used.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from inspect_scout import Result, Scanner, Transcript, scanner

from stagelens.raters.thoughts import offline_audit, split_thoughts

SCANNER = "stagelens_audit_offline"


@scanner(messages="all", name=SCANNER)
def audit_offline_scanner() -> Scanner[Transcript]:
    """Refusal (answer) and evaluation awareness (thoughts and answer) of the last assistant
    turn, by the offline raters the `user_audit` suite scores with; unscored is null."""

    async def scan(transcript: Transcript) -> Result:
        replies = [m for m in transcript.messages if m.role == "assistant"]
        if not replies:
            return Result(value={"refusal": None, "eval_awareness": None},
                          explanation="no assistant turn")  # fmt: skip
        last = replies[-1]
        thoughts, answer = split_thoughts(last.content, last.text)
        values, why = offline_audit(thoughts, answer)
        return Result(
            value={k: None if math.isnan(v) else bool(v) for k, v in values.items()},
            explanation=why,
        )

    return scan


def scan_audit(logs: Path, scans: Path, processes: int = 1, display: str = "none") -> Any:
    """Scan every `.eval` log under `logs` with the audit's offline scanner; Scout writes its
    results under `scans`. Returns Scout's status (its `location` is the scan's folder)."""
    from inspect_scout import scan, transcripts_from

    return scan([audit_offline_scanner()], transcripts=transcripts_from(str(logs)),
                scans=str(scans), max_processes=processes,
                display=display)  # type: ignore[arg-type]  # fmt: skip
