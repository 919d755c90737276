"""`stagelens audit-scan`: the audit's offline raters over a run's logs, as an Inspect Scout
scan. The command calls one public function with the same arguments."""

from __future__ import annotations

from pathlib import Path

import click

from stagelens.cli.common import quiet_libraries, user_errors


@click.command("audit-scan")
@click.argument("logs", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--scans", type=click.Path(path_type=Path), default=None,
              help="where Scout writes its results [default: LOGS/../scans]")  # fmt: skip
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Scout worker processes")  # fmt: skip
def audit_scan(logs: Path, scans: Path | None, processes: int) -> None:
    """Scan the `.eval` logs under LOGS (a run's logs/ folder, or any Inspect logs) with the
    audit's offline scanner (refusal, evaluation awareness) through Inspect Scout; open the
    results with `scout view`."""
    from stagelens.raters.scout import scan_audit

    def go() -> None:
        quiet_libraries()
        target = scans or logs.parent / "scans"
        status = scan_audit(logs, target, processes=processes)
        state = "complete" if status.complete else "incomplete (run again to resume)"
        click.echo(f"scan {state}: {status.location}\nopen it with: scout view --scans {target}")

    user_errors(go)
