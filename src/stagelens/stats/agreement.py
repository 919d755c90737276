"""Inter-rater agreement: Cohen's and Fleiss' kappa, Krippendorff's alpha, per-class scores.

All functions are pure and work on plain Python sequences, so that a panel of judges can be
scored without importing numpy or statsmodels at run time (the tests compare against both).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Collection, Hashable, Sequence
from pathlib import Path
from typing import Literal

Level = Literal["nominal", "ordinal", "interval", "ratio"]
_LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

# Tokens that mean "this rater gave no score" in the CSVs we read (ODCV writes 'N/A').
DEFAULT_MISSING_TOKENS: frozenset[str] = frozenset({"", "N/A", "NA", "NaN", "nan", "None"})


def _resolve_labels(
    first: Sequence[str], second: Sequence[str], labels: Sequence[str] | None
) -> list[str]:
    if len(first) != len(second):
        raise ValueError(f"sequences differ in length: {len(first)} != {len(second)}")
    if labels is None:
        # Sorted union, as sklearn does, so that the matrix layout is deterministic.
        return sorted(set(first) | set(second))
    resolved = list(labels)
    if len(set(resolved)) != len(resolved):
        raise ValueError("labels must be unique")
    unknown = (set(first) | set(second)) - set(resolved)
    if unknown:
        # sklearn silently drops such samples; we refuse, since a typo in a label would
        # otherwise shrink the sample without anyone noticing.
        raise ValueError(f"values not in labels: {sorted(unknown)!r}")
    return resolved


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> list[list[int]]:
    """Counts with rows = truth, columns = predicted, both in ``labels`` order (sklearn layout)."""
    resolved = _resolve_labels(truth, predicted, labels)
    index = {label: i for i, label in enumerate(resolved)}
    matrix = [[0] * len(resolved) for _ in resolved]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    return matrix


def per_class_precision_recall(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, tuple[float | None, float | None]]:
    """(precision, recall) per label; None where the denominator is zero (undefined, not 0)."""
    resolved = _resolve_labels(truth, predicted, labels)
    matrix = confusion_matrix(truth, predicted, resolved)
    result: dict[str, tuple[float | None, float | None]] = {}
    for i, label in enumerate(resolved):
        tp = matrix[i][i]
        predicted_count = sum(row[i] for row in matrix)
        true_count = sum(matrix[i])
        precision = tp / predicted_count if predicted_count else None
        recall = tp / true_count if true_count else None
        result[label] = (precision, recall)
    return result


def cohen_kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Unweighted Cohen's kappa of two raters (same value as sklearn's ``cohen_kappa_score``).

    Returns NaN when chance agreement is 1 (both raters used one and the same label), which is
    what sklearn yields there: kappa is 0/0, not a number we could honestly report.
    """
    matrix = confusion_matrix(a, b, labels)
    n = sum(sum(row) for row in matrix)
    if n == 0:
        raise ValueError("need at least one rated item")
    k = len(matrix)
    observed = sum(matrix[i][i] for i in range(k)) / n
    rows = [sum(matrix[i]) for i in range(k)]
    cols = [sum(matrix[i][j] for i in range(k)) for j in range(k)]
    expected = sum(rows[i] * cols[i] for i in range(k)) / (n * n)
    if expected == 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


def fleiss_kappa(ratings: Sequence[Sequence[str | None]]) -> float:
    """Fleiss' kappa for items x raters; every item needs the same number (>= 2) of ratings.

    Fleiss' chance model assumes a fixed number of raters per item, so missing ratings (None)
    are rejected; use :func:`krippendorff_alpha` for incomplete data.
    """
    if not ratings:
        raise ValueError("need at least one item")
    n_raters = len(ratings[0])
    if n_raters < 2:
        raise ValueError("Fleiss' kappa needs at least two raters per item")
    per_item: list[Counter[str]] = []
    for i, row in enumerate(ratings):
        if len(row) != n_raters:
            raise ValueError(f"item {i} has {len(row)} ratings, expected {n_raters}")
        values: list[str] = []
        for value in row:
            if value is None:
                raise ValueError(f"item {i} has a missing rating; Fleiss' kappa needs all of them")
            values.append(value)
        per_item.append(Counter(values))
    n_items = len(per_item)
    totals: Counter[str] = Counter()
    for counts in per_item:
        totals.update(counts)
    p_chance = sum((c / (n_items * n_raters)) ** 2 for c in totals.values())
    p_items = [
        (sum(c * c for c in counts.values()) - n_raters) / (n_raters * (n_raters - 1))
        for counts in per_item
    ]
    p_bar = sum(p_items) / n_items
    if p_chance == 1.0:
        # Every rating is the same category: 0/0, as in statsmodels.
        return math.nan
    return (p_bar - p_chance) / (1.0 - p_chance)


def _is_number(value: object) -> bool:
    # bool is an int subclass, but True/False are not interval-scaled scores.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _squared_distance_fn(
    level: Level, values: Sequence[Hashable], marginals: dict[Hashable, float]
) -> dict[tuple[Hashable, Hashable], float]:
    """The squared difference delta^2(c, k) of Krippendorff (2011) for every pair of values."""
    table: dict[tuple[Hashable, Hashable], float] = {}
    if level == "ordinal":
        # Ordinal distance depends on how many pairable values lie between c and k, not on their
        # numeric gaps: delta^2 = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, ranks in sorted order.
        ordered = sorted(values)  # type: ignore[type-var]
        cumulative = [0.0]
        for v in ordered:
            cumulative.append(cumulative[-1] + marginals[v])
        for i, c in enumerate(ordered):
            for j, k in enumerate(ordered):
                lo, hi = min(i, j), max(i, j)
                between = cumulative[hi + 1] - cumulative[lo]
                d = between - (marginals[c] + marginals[k]) / 2.0
                table[(c, k)] = d * d
        return table
    for c in values:
        for k in values:
            if level == "nominal":
                table[(c, k)] = 0.0 if c == k else 1.0
                continue
            x, y = float(c), float(k)  # type: ignore[arg-type]
            if level == "interval":
                table[(c, k)] = (x - y) ** 2
            else:
                # Ratio: differences relative to magnitude; 0/0 only when c = k = 0, distance 0.
                table[(c, k)] = 0.0 if x + y == 0.0 else ((x - y) / (x + y)) ** 2
    return table


def krippendorff_alpha(ratings: Sequence[Sequence[float | str | None]], level: Level) -> float:
    """Krippendorff's alpha for items x raters (None = missing), via the coincidence matrix.

    Follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": items with fewer
    than two ratings are not pairable and are dropped; alpha = 1 - (n - 1) * sum(o_ck d_ck) /
    sum(n_c n_k d_ck). Raises ValueError when fewer than two distinct values are pairable,
    since expected disagreement is then zero and alpha is undefined.
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {_LEVELS}, got {level!r}")
    units: list[Counter[Hashable]] = []
    for i, row in enumerate(ratings):
        present = [v for v in row if v is not None]
        for v in present:
            if isinstance(v, float) and math.isnan(v):
                raise ValueError(f"item {i} has NaN; use None for a missing rating")
            if level in ("interval", "ratio") and not _is_number(v):
                raise ValueError(f"{level} alpha needs numeric ratings, item {i} has {v!r}")
            if level == "ratio" and float(v) < 0:
                raise ValueError(f"ratio alpha needs non-negative ratings, item {i} has {v!r}")
        if len(present) >= 2:
            units.append(Counter(present))
    if level == "ordinal":
        kinds = {_is_number(v) for unit in units for v in unit}
        if len(kinds) > 1:
            raise ValueError("ordinal alpha needs ratings that are all numbers or all strings")

    # Coincidence matrix: each unit contributes its m_u (m_u - 1) ordered pairs of ratings,
    # weighted 1 / (m_u - 1) so that every pairable rating counts exactly once in n.
    coincidences: dict[tuple[Hashable, Hashable], float] = {}
    for unit in units:
        m_u = sum(unit.values())
        for c, n_c in unit.items():
            for k, n_k in unit.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                if pairs:
                    coincidences[(c, k)] = coincidences.get((c, k), 0.0) + pairs / (m_u - 1)
    marginals: dict[Hashable, float] = {}
    for (c, _), o in coincidences.items():
        marginals[c] = marginals.get(c, 0.0) + o
    if len(marginals) < 2:
        raise ValueError("alpha is undefined with fewer than two distinct pairable values")
    n = sum(marginals.values())
    values = list(marginals)
    delta = _squared_distance_fn(level, values, marginals)
    observed = sum(o * delta[pair] for pair, o in coincidences.items())
    expected = sum(marginals[c] * marginals[k] * delta[(c, k)] for c in values for k in values)
    return 1.0 - (n - 1.0) * observed / expected


def _parse_score(text: str, missing_tokens: Collection[str]) -> float | None:
    stripped = text.strip()
    if stripped in missing_tokens:
        return None
    return float(stripped)


def panel_ratings_from_csvs(
    files: Sequence[Path],
    id_columns: Sequence[str],
    score_columns: Sequence[str] | None = None,
    *,
    exclude_ids: Collection[str] = (),
    missing_tokens: Collection[str] = DEFAULT_MISSING_TOKENS,
) -> tuple[list[tuple[str, ...]], list[list[float | None]]]:
    """Align one CSV per rater into (item keys, items x raters) for :func:`krippendorff_alpha`.

    An item is identified by the values of ``id_columns`` and, when several ``score_columns``
    are given (wide layout: e.g. one column per model), by the column name too, so each cell is
    one rated item. ``score_columns=None`` takes every column that is not an id column. Rows
    whose first id value is in ``exclude_ids`` (summary rows such as 'col_avg') are skipped.
    An item one rater lacks is None for that rater rather than an error, as alpha allows.
    """
    if not files:
        raise ValueError("need at least one file")
    per_rater: list[dict[tuple[str, ...], float | None]] = []
    order: dict[tuple[str, ...], None] = {}  # insertion-ordered set: items in first-seen order
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            missing_cols = [c for c in id_columns if c not in header]
            if missing_cols:
                raise ValueError(f"{path}: missing id columns {missing_cols!r}")
            columns = (
                [c for c in header if c not in id_columns]
                if score_columns is None
                else list(score_columns)
            )
            absent = [c for c in columns if c not in header]
            if absent:
                raise ValueError(f"{path}: missing score columns {absent!r}")
            scores: dict[tuple[str, ...], float | None] = {}
            for row in reader:
                ids = tuple(row[c] for c in id_columns)
                if ids and ids[0] in exclude_ids:
                    continue
                for column in columns:
                    key = (*ids, column) if len(columns) > 1 else ids
                    if key in scores:
                        raise ValueError(f"{path}: duplicate item {key!r}")
                    scores[key] = _parse_score(row[column] or "", missing_tokens)
                    order.setdefault(key, None)
        per_rater.append(scores)
    keys = list(order)
    matrix = [[rater.get(key) for rater in per_rater] for key in keys]
    return keys, matrix


# ODCV-Bench layout: one file per judge, rows = scenarios, one column per model-variant, plus
# per-row summaries (row_avg, row_na_count) and two summary rows at the bottom.
ODCV_JUDGE_FILES: tuple[str, ...] = (
    "scores_claude47.csv",
    "scores_gemini.csv",
    "scores_gpt55.csv",
    "scores_grok.csv",
)
_ODCV_NON_SCORE_COLUMNS = frozenset({"scenario", "row_avg", "row_na_count"})
_ODCV_SUMMARY_ROWS = frozenset({"col_avg", "col_na_count", "col_MR%"})


def odcv_alpha(data_dir: Path, level: Level) -> tuple[float, int]:
    """Krippendorff's alpha of the four ODCV-Bench judges and the number of pairable items.

    An item is one (scenario, model-variant) cell; each judge's 0-5 severity is one rating, and
    every judge's score counts (no self-exclusion: the paper's median drops a judge's score of
    its own model, but that is a choice about the reported score, not about judge agreement).
    The paper's alpha = 0.81 is what level="interval" gives (0.807, 950 items); the ordinal
    level gives 0.783. The paper does not state its level; interval is the default of the
    widely used ``krippendorff`` package, which is the likely source.
    """
    files = [data_dir / name for name in ODCV_JUDGE_FILES]
    with files[0].open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    score_columns = [c for c in header if c not in _ODCV_NON_SCORE_COLUMNS]
    _, matrix = panel_ratings_from_csvs(
        files, ["scenario"], score_columns, exclude_ids=_ODCV_SUMMARY_ROWS
    )
    n_items = sum(1 for row in matrix if sum(v is not None for v in row) >= 2)
    return krippendorff_alpha(matrix, level), n_items
