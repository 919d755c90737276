"""ODCV-Bench's published score tables (github.com/McGill-DMaS/ODCV-Bench, MIT).

Each table (``scores_final_median.csv``, or one judge's ``scores_<judge>.csv``) has one row per
scenario and one column per model and variant, ``<model>-<incentivized|mandated>``, holding a
0-5 severity score or 'N/A' for a missing cell; per-row summary columns (``row_avg``,
``row_violation_count``, ``row_na_count``) and summary rows at the bottom (``col_avg``,
``col_MR%``, ``col_na_count``) are not scores. The statistics are in
:mod:`stagelens.stats.odcv`; this module only reads, and names the file, line and field of
anything it cannot read.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from stagelens.benchmarks._files import read_user_file
from stagelens.errors import UserError
from stagelens.records import Provenance

VARIANTS = ("incentivized", "mandated")
MISSING = "N/A"  # what ODCV writes for a cell without a score
MAX_SCORE = 5.0
LICENCE = "MIT (ODCV-Bench, Li, Fung et al. 2025, arXiv 2512.20798)"
_ID_COLUMN = "scenario"
_ROW_SUMMARY_PREFIX = "row_"  # row_avg, row_violation_count, row_na_count
_SUMMARY_ROW_PREFIX = "col_"  # col_avg, col_MR%, col_na_count

Cell = tuple[str, str]  # (scenario, variant)


class OdcvFormatError(UserError, ValueError):
    """An ODCV score table that cannot be read; the message names the file, line and field."""


@dataclass(frozen=True)
class OdcvScores:
    """One score table: every model's cells, and the table's own summary rows."""

    path: Path
    models: tuple[str, ...]  # in column order
    scenarios: tuple[str, ...]  # in row order
    cells: dict[str, dict[Cell, float | None]]  # model -> (scenario, variant) -> score
    # summary row -> column ("<model>-<variant>") -> value; 'col_MR%' in percent
    summary: dict[str, dict[str, float | None]]
    provenance: Provenance

    def model_cells(self, model: str) -> dict[Cell, float | None]:
        try:
            return self.cells[model]
        except KeyError:
            known = list(self.models)
            raise KeyError(f"{self.path}: no model {model!r}; models: {known}") from None


def _split_column(column: str) -> tuple[str, str] | None:
    model, sep, variant = column.rpartition("-")
    return (model, variant) if sep and model and variant in VARIANTS else None


def _number(text: str, where: str, field: str, *, percent: bool = False) -> float | None:
    raw = text.strip()
    if raw == MISSING:
        return None
    body = raw[:-1] if percent and raw.endswith("%") else raw
    try:
        value = float(body)
    except ValueError:
        what = "a percentage" if percent else f"a 0-{MAX_SCORE:g} score"
        raise OdcvFormatError(
            f"{where}: field {field!r} is {text!r}; expected {what} or {MISSING!r}"
        ) from None
    if not math.isfinite(value):
        raise OdcvFormatError(f"{where}: field {field!r} is {text!r}; expected a finite number")
    return value


def read_odcv_scores(path: str | Path) -> OdcvScores:
    """Read one ODCV score table; every error names the file, the line and the field."""
    try:
        file = read_user_file(path, "ODCV score")
        text = file.text()
    except ValueError as err:
        raise OdcvFormatError(str(err)) from None
    where_file = str(file.path)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or header[0].strip() != _ID_COLUMN:
        first = header[0] if header else ""
        raise OdcvFormatError(
            f"{where_file}:1: the first field is {first!r}; expected {_ID_COLUMN!r}"
        )
    columns: list[tuple[int, str, tuple[str, str]]] = []  # (index, name, (model, variant))
    seen: set[str] = set()
    for index, name in enumerate(header[1:], start=1):
        if name in seen:
            raise OdcvFormatError(f"{where_file}:1: field {name!r} appears twice")
        seen.add(name)
        if name.startswith(_ROW_SUMMARY_PREFIX):
            continue
        parsed = _split_column(name)
        if parsed is None:
            raise OdcvFormatError(
                f"{where_file}:1: field {name!r} is not <model>-<variant> with a variant in "
                f"{list(VARIANTS)}, nor a {_ROW_SUMMARY_PREFIX}* summary"
            )
        columns.append((index, name, parsed))
    if not columns:
        raise OdcvFormatError(f"{where_file}:1: no <model>-<variant> score columns")
    models = tuple(dict.fromkeys(model for _, _, (model, _) in columns))
    cells: dict[str, dict[Cell, float | None]] = {m: {} for m in models}
    summary: dict[str, dict[str, float | None]] = {}
    scenarios: dict[str, int] = {}  # scenario -> its line
    for row in reader:
        line = reader.line_num
        where = f"{where_file}:{line}"
        if not any(field.strip() for field in row):
            continue  # a blank line
        if len(row) != len(header):
            raise OdcvFormatError(
                f"{where}: {len(row)} fields, but the header (line 1) has {len(header)}"
            )
        scenario = row[0].strip()
        if not scenario:
            raise OdcvFormatError(f"{where}: field {_ID_COLUMN!r} is empty")
        if scenario.startswith(_SUMMARY_ROW_PREFIX):
            percent = scenario.endswith("%")
            summary[scenario] = {
                name: _number(row[i], where, name, percent=percent) if row[i].strip() else None
                for i, name, _ in columns
            }
            continue
        if scenario in scenarios:
            first_line = scenarios[scenario]
            raise OdcvFormatError(
                f"{where}: scenario {scenario!r} appears twice (first on line {first_line})"
            )
        scenarios[scenario] = line
        for i, name, (model, variant) in columns:
            score = _number(row[i], where, name)
            if score is not None and not 0.0 <= score <= MAX_SCORE:
                raise OdcvFormatError(
                    f"{where}: field {name!r} is {row[i]!r}; scores run from 0 to {MAX_SCORE:g}"
                )
            cells[model][(scenario, variant)] = score
    if not scenarios:
        raise OdcvFormatError(f"{where_file}: no scenario rows")
    provenance = Provenance(
        name=f"ODCV-Bench scores ({file.path.name})",
        source=file.source,
        licence=LICENCE,
        sha256=file.sha256,
        n=len(scenarios),
        notes=f"{len(models)} models x {len(VARIANTS)} variants; 'N/A' cells are missing",
    )
    return OdcvScores(
        path=file.path,
        models=models,
        scenarios=tuple(scenarios),
        cells=cells,
        summary=summary,
        provenance=provenance,
    )


@dataclass(frozen=True)
class PublishedInterval:
    """One model's published overall MR (percent) and severity (0-5) with their 95% CIs."""

    model: str
    mr: float
    mr_low: float
    mr_high: float
    severity: float
    severity_low: float
    severity_high: float


# ODCV-Bench's own per-model bootstrap intervals, panel "overall" (both variants), from
# existing_results/current/evaluations/judge_all/bootstrap_ci.csv at commit 7353f1cf (MIT).
# Copied here because the shared data folder does not hold that file; MR in percent, rounded
# to 2 decimals, severity to 4, as published.
PUBLISHED_SOURCE = (
    "github.com/McGill-DMaS/ODCV-Bench@7353f1cf4b2579a3a8a5b8a5061d7c7d41f60668:"
    "existing_results/current/evaluations/judge_all/bootstrap_ci.csv (panel overall)"
)
PUBLISHED_OVERALL: tuple[PublishedInterval, ...] = tuple(
    PublishedInterval(model, *values)
    for model, *values in [
        ("claude-opus-4.7", 0.0, 0.0, 0.0, 0.0125, 0.0, 0.0375),
        ("gemini-3.1-pro-preview", 43.75, 30.0, 57.5, 1.825, 1.325, 2.3375),
        ("glm-5.1", 25.0, 13.75, 37.5, 0.9187, 0.5, 1.3687),
        ("gpt-5.5", 21.25, 10.0, 33.75, 0.7125, 0.3375, 1.125),
        ("gpt-oss-120b", 36.25, 23.75, 50.0, 1.5688, 1.1187, 2.0312),
        ("gpt-oss-20b", 28.75, 17.5, 41.25, 1.475, 1.075, 1.9),
        ("grok-4.20", 62.82, 48.72, 76.25, 2.5641, 2.075, 3.0375),
        ("kimi-k2.6", 33.75, 22.5, 46.25, 1.3375, 0.925, 1.775),
        ("llama-4-maverick", 16.22, 7.79, 26.03, 1.6824, 1.3904, 1.9795),
        ("minimax-m2.7", 35.9, 22.37, 49.37, 1.3654, 0.9, 1.8397),
        ("qwen3.6-27b", 43.75, 30.0, 57.5, 1.6687, 1.2125, 2.125),
        ("qwen3.6-max-preview", 28.75, 16.25, 42.5, 1.175, 0.7063, 1.6625),
    ]
)
