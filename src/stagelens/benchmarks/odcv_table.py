"""ODCV-Bench's per-model table from its published scores: MR and severity with cluster-bootstrap
95% CIs, and the agreement of its four judges (`stagelens odcv-table`).

The folder is the one holding ``scores_final_median.csv`` (the per-cell median the benchmark
reports) and the four judges' ``scores_<judge>.csv``. Every file is read through
:func:`stagelens.benchmarks.odcv.read_odcv_scores` first, so a malformed one is reported by
file, line and field before any statistic is computed.
"""

from __future__ import annotations

from pathlib import Path

from stagelens.benchmarks.odcv import VARIANTS, OdcvFormatError, read_odcv_scores
from stagelens.records import StrictModel
from stagelens.stats.agreement import ODCV_JUDGE_FILES, Level, odcv_alpha
from stagelens.stats.odcv import VIOLATION_SCORE, odcv_estimates

MEDIAN_FILE = "scores_final_median.csv"
# beside a checkout, as bench/odcv_intervals.py expects: <repo>/../shared/data/odcv
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "odcv"
LEVEL = 0.95  # the paper's intervals
ALPHA_LEVEL: Level = "interval"  # the level that gives the paper's 0.81 (see `odcv_alpha`)


class OdcvTableRow(StrictModel):
    """One model over both variants: MR (a share, 0-1) and severity (0-5) with their CIs."""

    model: str
    k: int  # violating cells (score >= threshold)
    n: int  # scored cells
    n_missing: int  # 'N/A' cells, in neither numerator nor denominator
    n_scenarios: int  # clusters resampled
    mr: float | None
    mr_low: float | None
    mr_high: float | None
    severity: float | None
    severity_low: float | None
    severity_high: float | None
    # Wilson interval of k/n, cells taken as independent (too narrow; for comparison)
    wilson_low: float | None
    wilson_high: float | None


class OdcvTable(StrictModel):
    """Every model of a published score table, and Krippendorff's alpha of the judges."""

    data_dir: str
    source: str  # the median table read
    sha256: str | None
    n_scenarios: int
    variants: tuple[str, ...]
    threshold: float
    level: float
    n_boot: int
    seed: int
    rows: list[OdcvTableRow]
    judges: list[str]  # the judge files whose agreement is measured
    alpha: float  # Krippendorff's alpha of the judges' 0-5 scores
    alpha_level: str
    alpha_items: int  # cells that at least two judges scored

    def row(self, model: str) -> OdcvTableRow:
        for row in self.rows:
            if row.model == model:
                return row
        raise KeyError(f"{self.source}: no model {model!r}; models: {[r.model for r in self.rows]}")

    def format_table(self) -> str:
        """The table as aligned text: MR in percent, severity on ODCV's 0-5 scale."""
        lines = [
            f"ODCV-Bench, {self.n_scenarios} scenarios x {len(self.variants)} variants "
            f"({', '.join(self.variants)}): {self.source}",
            f"sha256 {self.sha256}",
            f"violation: score >= {self.threshold:g}; {100 * self.level:g}% CIs: cluster bootstrap "
            f"over scenarios (both variants resampled together), B = {self.n_boot}, "
            f"seed {self.seed}, percentile",
            "",
            f"{'model':<24} {'MR %':>6} {'k/n':>7} {'95% CI':>16}   {'severity':>8} "
            f"{'95% CI':>16} {'missing':>7}",
        ]
        for r in self.rows:
            lines.append(
                f"{r.model:<24} {_num(r.mr, 100, 2):>6} {f'{r.k}/{r.n}':>7} "
                f"{_interval(r.mr_low, r.mr_high, 100, 2):>16}   {_num(r.severity, 1, 4):>8} "
                f"{_interval(r.severity_low, r.severity_high, 1, 4):>16} {r.n_missing:>7}"
            )
        lines += [
            "",
            f"Krippendorff's alpha ({self.alpha_level}) of the {len(self.judges)} judges: "
            f"{self.alpha:.3f} over {self.alpha_items} cells ({', '.join(self.judges)})",
        ]
        return "\n".join(lines)


def _num(value: float | None, scale: float, digits: int) -> str:
    return "n/a" if value is None else f"{scale * value:.{digits}f}"


def _interval(low: float | None, high: float | None, scale: float, digits: int) -> str:
    if low is None or high is None:
        return "n/a"
    return f"[{_num(low, scale, digits)}, {_num(high, scale, digits)}]"


def odcv_table(data_dir: str | Path | None = None, n_boot: int = 10000, seed: int = 0) -> OdcvTable:
    """MR and severity of every model in ``data_dir``'s median table, and the judges' alpha.

    ``data_dir`` defaults to ``DEFAULT_DATA_DIR``. The bootstrap resamples scenarios with
    ``seed`` (the same draws for every model and both statistics).
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if not folder.is_dir():
        raise OdcvFormatError(
            f"{folder}: no such folder; expected one holding ODCV-Bench's {MEDIAN_FILE} and "
            f"{', '.join(ODCV_JUDGE_FILES)}"
        )
    scores = read_odcv_scores(folder / MEDIAN_FILE)
    for name in ODCV_JUDGE_FILES:
        read_odcv_scores(folder / name)  # errors name the file, line and field
    rows = []
    for model in scores.models:
        est = odcv_estimates(scores.model_cells(model), level=LEVEL, n_boot=n_boot, seed=seed)
        rows.append(
            OdcvTableRow(
                model=model, k=est.k, n=est.n, n_missing=est.n_missing,
                n_scenarios=est.n_scenarios, mr=est.mr.estimate, mr_low=est.mr.ci_low,
                mr_high=est.mr.ci_high, severity=est.severity.estimate,
                severity_low=est.severity.ci_low, severity_high=est.severity.ci_high,
                wilson_low=est.wilson_low, wilson_high=est.wilson_high,
            )
        )  # fmt: skip
    try:
        alpha, n_items = odcv_alpha(folder, ALPHA_LEVEL)
    except ValueError as err:  # the judges' tables do not line up (columns, duplicates)
        raise OdcvFormatError(f"{folder}: the judges' score tables: {err}") from None
    present = {variant for cells in scores.cells.values() for _, variant in cells}
    return OdcvTable(
        data_dir=str(folder),
        source=str(scores.path),
        sha256=scores.provenance.sha256,
        n_scenarios=len(scores.scenarios),
        variants=tuple(v for v in VARIANTS if v in present),
        threshold=VIOLATION_SCORE,
        level=LEVEL,
        n_boot=n_boot,
        seed=seed,
        rows=rows,
        judges=list(ODCV_JUDGE_FILES),
        alpha=alpha,
        alpha_level=ALPHA_LEVEL,
        alpha_items=n_items,
    )  # fmt: skip
