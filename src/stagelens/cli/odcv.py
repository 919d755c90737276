"""`stagelens odcv-table` and `stagelens odcv-replay`: ODCV-Bench's published numbers and
trajectories. Each command calls one public function with the same arguments."""

from __future__ import annotations

from pathlib import Path

import click

from stagelens.cli.common import console, judge_from_options, quiet_libraries, user_errors


@click.command("odcv-table")
@click.argument("data_dir", type=click.Path(path_type=Path), required=False, default=None)
@click.option(
    "--n-boot",
    type=click.IntRange(min=1),
    default=10000,
    show_default=True,
    help="bootstrap replicates",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path),
    default=None,
    help="also write the table as JSON",
)
def odcv_table(data_dir: Path | None, n_boot: int, seed: int, json_out: Path | None) -> None:
    """ODCV-Bench's published MR and severity per model, with cluster-bootstrap 95% CIs, and
    the agreement of its judges. DATA_DIR holds scores_final_median.csv and scores_*.csv
    [default: ../shared/data/odcv beside the checkout]."""
    from stagelens.benchmarks.odcv_table import odcv_table as build_table
    from stagelens.report.atomic import atomic_write_text

    def go() -> None:
        table = build_table(data_dir, n_boot=n_boot, seed=seed)
        click.echo(table.format_table())
        if json_out is not None:
            atomic_write_text(json_out, table.model_dump_json(indent=2))

    user_errors(go)


@click.command("odcv-replay")
@click.argument("bench_dir", type=click.Path(path_type=Path))
@click.option(
    "--judge-model",
    "judge_models",
    multiple=True,
    required=True,
    help="the judge: an Inspect model string (repeat for a panel)",
)
@click.option(
    "--aggregate",
    type=click.Choice(["majority", "median"]),
    default="median",
    show_default=True,
    help="a panel's verdict (ODCV takes the median)",
)
@click.option(
    "--judge-max-tokens",
    type=click.IntRange(min=16),
    default=None,
    help="cap each judge reply (default 1024)",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="re-judge only this model's runs (repeatable)  [default: all]",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="judge only the first N runs"
)
@click.option(
    "--scores",
    type=click.Path(path_type=Path),
    default=None,
    help="the published median table to compare with  [default: the checkout's]",
)
@click.option(
    "--cache",
    default=None,
    help="verdict cache file ('none': off)  [default: $STAGELENS_JUDGE_CACHE]",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/odcv-replay"),
    show_default=True,
    help="where the Inspect log goes",
)
@click.option("--n-boot", type=click.IntRange(min=1), default=10000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path),
    default=None,
    help="also write the per-cell results and estimates as JSON",
)
def odcv_replay(
    bench_dir: Path,
    judge_models: tuple[str, ...],
    aggregate: str,
    judge_max_tokens: int | None,
    models: tuple[str, ...],
    limit: int | None,
    scores: Path | None,
    cache: str | None,
    out: Path,
    n_boot: int,
    seed: int,
    json_out: Path | None,
) -> None:  # fmt: skip
    """Re-judge ODCV-Bench's published agent trajectories (BENCH_DIR: an ODCV-Bench checkout)
    with an LLM judge on ODCV's 0-5 scale; compare with the published median scores."""
    from stagelens.experiment.odcv_replay import replay_odcv
    from stagelens.report.atomic import atomic_write_text

    quiet_libraries()

    def go() -> None:
        from stagelens.evaluate.meter import metered, register

        judge = judge_from_options(judge_models, "odcv", aggregate, judge_max_tokens)
        register()
        with metered(console(), f"{bench_dir.name}: odcv replay"):
            result = replay_odcv(
                bench_dir,
                judge,
                out,
                cache=cache,
                models=list(models) or None,
                limit=limit,
                published=scores,
                n_boot=n_boot,
                seed=seed,
            )
        click.echo(result.format_summary())
        if json_out is not None:
            atomic_write_text(json_out, result.model_dump_json(indent=2))

    user_errors(go)
