"""Calibration of a rater against human labels: how far can its numbers be trusted?

Input: JSONL lines `{"prompt", "response", "label"}` or a CSV with columns prompt,
completion|response and final_label|label (the XSTest annotation files). Labels are the
XSTest three-way classes (full_compliance, full_refusal, partial_refusal; "1_full_compliance"
style also accepted) or binary refusal / compliance. A rater that only tells refusal from
compliance is scored on the binary view (any refusal vs full compliance). If the file
carries a peer's labels (`strmatch_label`, the XSTest authors' string matcher), the peer
is scored the same way, next to ours.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagelens.errors import UserError
from stagelens.raters.registry import UNSCORED, get_rater, rater_identity
from stagelens.records import CalibrationSummary, StrictModel

if TYPE_CHECKING:
    from stagelens.raters.judges.settings import JudgeSpec

THREE_WAY = ("full_compliance", "full_refusal", "partial_refusal")
BINARY = ("refusal", "compliance")
_ALIASES = {
    "1_full_compliance": "full_compliance",
    "2_full_refusal": "full_refusal",
    "3_partial_refusal": "partial_refusal",
    "full_compliance": "full_compliance",
    "full_refusal": "full_refusal",
    "partial_refusal": "partial_refusal",
    "refusal": "refusal",
    "compliance": "compliance",
}


class Labelled(StrictModel):
    """One human-labelled answer: prompt, response, its class, and a peer's label if any."""

    prompt: str
    response: str
    label: str  # normalised: a THREE_WAY or BINARY class
    peer: str | None = None


class ViewScores(StrictModel):
    """Agreement of predictions with the human labels, on one view (3-way or binary)."""

    labels: tuple[str, ...]
    n: int
    accuracy: float | None
    kappa: float | None
    confusion: list[list[int]]  # rows: human label, columns: rater label
    precision_recall: dict[str, tuple[float | None, float | None]]


class Calibration(StrictModel):
    """A rater's (or judge's) agreement with a labelled file, ours and the peer's."""

    file: str
    rater: str
    rater_version: str
    n: int
    n_unscored: int  # not in any accuracy: an unparseable verdict is never a class
    three_way: ViewScores | None  # only for raters that return the three classes
    binary: ViewScores
    peer_three_way: ViewScores | None = None
    peer_binary: ViewScores | None = None


def binary_of(label: str) -> str:
    return "compliance" if label in ("full_compliance", "compliance") else "refusal"


def read_labelled(path: Path) -> list[Labelled]:
    if not path.is_file():
        raise UserError(f"{path}: no such labelled file")
    rows: list[Labelled] = []
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                rows.append(_row(path, line, row))
    else:
        from stagelens.benchmarks._files import DataFile, jsonl_objects

        try:
            objects = list(jsonl_objects(DataFile(path, path.read_bytes(), str(path))))
        except ValueError as err:  # names the file and line already
            raise UserError(str(err)) from err
        rows.extend(_row(path, line, row) for line, row in objects)
    if not rows:
        raise UserError(f"{path}: no labelled rows")
    return rows


def _row(path: Path, line: int, row: dict[str, object]) -> Labelled:
    response = row.get("response", row.get("completion"))
    label = row.get("label", row.get("final_label"))
    for field, value in (("response", response), ("label", label)):
        if not isinstance(value, str):
            raise UserError(f"{path}:{line}: field {field!r} is missing or not text")
    assert isinstance(response, str) and isinstance(label, str)
    if label not in _ALIASES:
        raise UserError(f"{path}:{line}: field 'label' is {label!r}; expected {sorted(_ALIASES)}")
    peer = row.get("strmatch_label")
    return Labelled(
        prompt=str(row.get("prompt", "")),
        response=response,
        label=_ALIASES[label],
        peer=_ALIASES.get(str(peer)) if peer else None,
    )


def _view(truth: list[str], predicted: list[str], labels: tuple[str, ...]) -> ViewScores:
    from stagelens.stats.agreement import (
        cohen_kappa,
        confusion_matrix,
        per_class_precision_recall,
    )

    n = len(truth)
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / n if n else None
    kappa = cohen_kappa(truth, predicted, labels) if n else None
    return ViewScores(
        labels=labels,
        n=n,
        accuracy=accuracy,
        kappa=kappa,
        confusion=confusion_matrix(truth, predicted, labels),
        precision_recall=per_class_precision_recall(truth, predicted, labels),
    )


def calibrate(
    file: str | Path,
    rater: str,
    judge: JudgeSpec | None = None,
    *,
    cache: str | None = None,
    log_dir: str | Path | None = None,
    model_roles: dict[str, Any] | None = None,
) -> Calibration:
    """Score a human-labelled file with a rater and measure agreement with the humans.

    With `judge`, the rater is that LLM judge (or panel): the answers are judged through
    Inspect (replayed, never regenerated), verdicts cached, the log kept in `log_dir`.
    """
    path = Path(file)
    rows = read_labelled(path)
    if judge is not None:
        import tempfile

        from stagelens.raters.judges.replay import judge_labels

        identity = rater_identity(rater, judge)
        logs = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="calib-"))
        try:
            predicted, _ = judge_labels([(r.prompt, r.response) for r in rows], judge, logs,
                                        cache=cache, model_roles=model_roles)  # fmt: skip
        except ValueError as err:
            raise UserError(str(err)) from err
        # a tied panel decided nothing: unscored, like an invalid verdict
        predicted = [UNSCORED if p == "panel_tie" else p for p in predicted]
        labels = set(THREE_WAY) if judge.rubric == "xstest" else set(BINARY)
        labels.add(UNSCORED)
    else:
        try:
            chosen = get_rater(rater)
        except ValueError as err:
            raise UserError(str(err)) from err
        identity = chosen.identity
        labels = set(chosen.labels)
        predicted = chosen.classify_all([row.response for row in rows])
    scored = [(row, p) for row, p in zip(rows, predicted, strict=True) if p != UNSCORED]
    three_way_rater = set(THREE_WAY) <= labels
    three_way_file = all(row.label in THREE_WAY for row in rows)
    three = None
    if three_way_rater and three_way_file:
        three = _view([r.label for r, _ in scored], [p for _, p in scored], THREE_WAY)
    binary = _view([binary_of(r.label) for r, _ in scored], [binary_of(p) for _, p in scored],
                   BINARY)  # fmt: skip
    peers = [r for r in rows if r.peer is not None]
    peer_three = peer_binary = None
    if peers and len(peers) == len(rows):
        truth, peer = [r.label for r in rows], [str(r.peer) for r in rows]
        if three_way_file:
            peer_three = _view(truth, peer, THREE_WAY)
        peer_binary = _view([binary_of(t) for t in truth], [binary_of(p) for p in peer], BINARY)
    return Calibration(
        file=str(path),
        rater=identity.name,
        rater_version=identity.version,
        n=len(rows),
        n_unscored=len(rows) - len(scored),
        three_way=three,
        binary=binary,
        peer_three_way=peer_three,
        peer_binary=peer_binary,
    )


def summary(result: Calibration) -> CalibrationSummary:
    """The figures the run record keeps beside a suite's numbers."""
    from stagelens.training.cache import file_sha256

    three, binary = result.three_way, result.binary
    return CalibrationSummary(
        file=result.file,
        sha256=file_sha256(Path(result.file)),
        n=result.n,
        n_unscored=result.n_unscored,
        three_way_accuracy=three.accuracy if three else None,
        three_way_kappa=three.kappa if three else None,
        binary_accuracy=binary.accuracy,
        binary_kappa=binary.kappa,
    )


def format_calibration(result: Calibration) -> str:
    """A plain-text table for the terminal."""

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    def num(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    lines = [f"{result.file}: {result.n} labelled responses, rater {result.rater} "
             f"v{result.rater_version}, {result.n_unscored} unscored"]  # fmt: skip
    views = [("3-way", result.three_way, result.peer_three_way),
             ("binary", result.binary, result.peer_binary)]  # fmt: skip
    for name, ours, peer in views:
        if ours is None and peer is None:
            lines.append(f"  {name}: not available for this rater")
            continue
        if ours is None:
            lines.append(f"  {name} ours: not available (the rater returns fewer classes)")
        for who, view in (("ours", ours), ("peer (XSTest string match)", peer)):
            if view is None:
                continue
            lines.append(f"  {name} {who}: accuracy {pct(view.accuracy)}, kappa {num(view.kappa)},"
                         f" n {view.n}")  # fmt: skip
            lines.append("    confusion (rows human, columns rater): " + ", ".join(view.labels))
            for label, row in zip(view.labels, view.confusion, strict=True):
                lines.append(f"      {label:<16} " + " ".join(f"{c:>5}" for c in row))
    return "\n".join(lines)
