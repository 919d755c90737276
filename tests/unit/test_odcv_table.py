"""`stagelens odcv-table`: ODCV-Bench's published table recomputed, against its own summary rows."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagelens.benchmarks.odcv import PUBLISHED_OVERALL, VARIANTS, OdcvFormatError
from stagelens.benchmarks.odcv import read_odcv_scores as read_scores
from stagelens.benchmarks.odcv_table import MEDIAN_FILE, OdcvTable, odcv_table
from stagelens.cli.main import main
from stagelens.stats.agreement import ODCV_JUDGE_FILES, odcv_alpha

ODCV_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "odcv"
needs_odcv = pytest.mark.skipif(
    not (ODCV_DIR / MEDIAN_FILE).is_file(), reason=f"ODCV-Bench scores not at {ODCV_DIR}"
)
N_BOOT = 200  # the intervals' accuracy is test_odcv_intervals.py's business


@pytest.fixture(scope="module")
def table() -> OdcvTable:
    return odcv_table(ODCV_DIR, n_boot=N_BOOT, seed=0)


@needs_odcv
def test_point_estimates_are_the_tables_own_summary_rows(table: OdcvTable) -> None:
    """Each model's MR and severity pool its two variants' cells, as the paper's overall panel
    does: the summary rows (one per variant column, rounded to 0.1 point and 0.01) weighted by
    each variant's scored cells."""
    scores = read_scores(ODCV_DIR / MEDIAN_FILE)
    assert [r.model for r in table.rows] == list(scores.models) and len(table.rows) == 12
    for row in table.rows:
        cells = scores.model_cells(row.model)
        n = {v: sum(s is not None for (_, var), s in cells.items() if var == v) for v in VARIANTS}
        columns = {v: f"{row.model}-{v}" for v in VARIANTS}
        mr_rows = {v: scores.summary["col_MR%"][c] for v, c in columns.items()}
        avg_rows = {v: scores.summary["col_avg"][c] for v, c in columns.items()}
        assert None not in mr_rows.values() and None not in avg_rows.values()
        pooled_mr = sum((mr_rows[v] or 0.0) / 100 * n[v] for v in VARIANTS) / sum(n.values())
        pooled_avg = sum((avg_rows[v] or 0.0) * n[v] for v in VARIANTS) / sum(n.values())
        assert row.mr is not None and row.severity is not None
        # the summary rows' rounding: 0.05 points of MR, 0.005 of severity, per variant
        assert abs(row.mr - pooled_mr) <= 0.0005 + 1e-12, row.model
        assert abs(row.severity - pooled_avg) <= 0.005 + 1e-12, row.model
        assert row.n == sum(n.values()) and row.n + row.n_missing == 2 * len(scores.scenarios)
        assert row.k == sum(1 for s in cells.values() if s is not None and s >= 3)
        assert row.mr == row.k / row.n
        assert row.mr_low is not None and row.mr_high is not None
        assert row.mr_low <= row.mr <= row.mr_high
        assert row.severity_low is not None and row.severity_high is not None
        assert row.severity_low <= row.severity <= row.severity_high
    # and the published overall panel, to its own rounding (MR 2 decimals in %, severity 4)
    for pub in PUBLISHED_OVERALL:
        row = table.row(pub.model)
        assert row.mr is not None and round(100 * row.mr, 2) == pub.mr, pub.model
        assert row.severity is not None and abs(row.severity - pub.severity) <= 0.5e-4 + 1e-12


@needs_odcv
def test_the_judges_agree_as_the_paper_reports(table: OdcvTable) -> None:
    assert round(table.alpha, 2) == 0.81
    assert (table.alpha, table.alpha_items) == odcv_alpha(ODCV_DIR, "interval")
    assert table.judges == list(ODCV_JUDGE_FILES) and table.alpha_level == "interval"


@needs_odcv
def test_the_command_prints_every_model_and_the_alpha(tmp_path: Path, table: OdcvTable) -> None:
    out = tmp_path / "table.json"
    result = CliRunner().invoke(
        main, ["odcv-table", str(ODCV_DIR), "--n-boot", str(N_BOOT), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for row in table.rows:
        (line,) = [x for x in lines if x.startswith(f"{row.model} ")]
        assert row.mr is not None and row.severity is not None
        assert f"{100 * row.mr:.2f}" in line and f"{row.severity:.4f}" in line
        assert f"{row.k}/{row.n}" in line
        assert f"[{100 * (row.mr_low or 0):.2f}, {100 * (row.mr_high or 0):.2f}]" in line
    assert sum(bool(re.match(r"\S+ +\d+\.\d\d +\d+/\d+ ", x)) for x in lines) == 12
    assert f"Krippendorff's alpha (interval) of the 4 judges: {table.alpha:.3f}" in result.stdout
    # the JSON is the same table: the command passed the same arguments
    assert OdcvTable.model_validate(json.loads(out.read_text())) == table


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    absent = tmp_path / "nope"
    with pytest.raises(OdcvFormatError, match=re.escape(f"{absent}: no such folder")):
        odcv_table(absent, n_boot=N_BOOT)
    result = CliRunner().invoke(main, ["odcv-table", str(absent)])
    assert result.exit_code == 2
    assert str(absent) in result.stderr and MEDIAN_FILE in result.stderr
    assert "Traceback" not in result.output


@needs_odcv
def test_a_malformed_or_missing_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "odcv"
    folder.mkdir()
    for name in (MEDIAN_FILE, *ODCV_JUDGE_FILES):
        shutil.copy(ODCV_DIR / name, folder / name)
    median = folder / MEDIAN_FILE
    lines = median.read_text().splitlines(keepends=True)
    fields = lines[3].split(",")
    fields[2] = "seven"
    lines[3] = ",".join(fields)
    median.write_text("".join(lines))
    result = CliRunner().invoke(main, ["odcv-table", str(folder), "--n-boot", "10"])
    assert result.exit_code == 2, result.output
    assert f"{median}:4: field" in result.stderr and "'seven'" in result.stderr

    shutil.copy(ODCV_DIR / MEDIAN_FILE, median)
    (folder / ODCV_JUDGE_FILES[1]).unlink()
    result = CliRunner().invoke(main, ["odcv-table", str(folder), "--n-boot", "10"])
    assert result.exit_code == 2, result.output
    assert str(folder / ODCV_JUDGE_FILES[1]) in result.stderr
    assert "Traceback" not in result.output
