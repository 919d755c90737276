"""The `stagelens` command. Each command calls one public function with the same arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from stagelens.cli.common import console, judge_from_options, quiet_libraries, user_errors
from stagelens.cli.odcv import odcv_replay, odcv_table
from stagelens.cli.scout import audit_scan
from stagelens.cli.sweep import ablate, attribute, sweep
from stagelens.raters.rubrics import ANSWER_RUBRICS


@click.group()
@click.version_option(package_name="stagelens")
def main() -> None:
    """Which training stage gave this model its safety behaviour?"""


def _spec_options(command: Callable[..., None]) -> Callable[..., None]:
    """The arguments `run` and `sft` share (they take the same spec)."""
    for option in reversed([
        click.argument("spec", type=click.Path(path_type=Path)),
        click.option("--out", type=click.Path(path_type=Path), default=None,
                     help="run directory  [default: runs/<family>]"),
        click.option("--offline", is_flag=True, help="skip checks that need the hub"),
        click.option("--cache", type=click.Path(path_type=Path), default=None,
                     help="cache for converted GGUF files  [default: $STAGELENS_CACHE]"),
    ]):  # fmt: skip
        command = option(command)
    return command


def _judge_options(command: Callable[..., None]) -> Callable[..., None]:
    """An LLM judge (or panel) given on the command line."""
    for option in reversed([
        click.option("--judge", "judge_models", multiple=True,
                     help="an LLM judge: an Inspect model string (repeat for a panel)"),
        # the rubrics that grade one answer: rescore and calibrate judge single answers
        click.option("--rubric", type=click.Choice(ANSWER_RUBRICS),
                     default="xstest", show_default=True, help="the judge's rubric"),
        click.option("--aggregate", type=click.Choice(["majority", "median"]),
                     default="majority", show_default=True, help="a panel's verdict"),
        click.option("--judge-max-tokens", type=click.IntRange(min=16), default=None,
                     help="cap each judge reply (default 1024; small local judges)"),
    ]):  # fmt: skip
        command = option(command)
    return command


@main.command()
@click.option(
    "--variant",
    default="safety-in-sft",
    show_default=True,
    help="built-in ground truth (safety-in-sft, safety-in-rl, rl-rewards-hacking, "
    "test-conditioned, distilled-safety) or a variant TOML file",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="run directory  [default: runs/<variant>]",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--n-prompts",
    type=click.IntRange(min=1),
    default=320,
    show_default=True,
    help="prompts per suite",
)
@click.option(
    "--margin",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.05,
    show_default=True,
    help="equivalence margin (0.05 = 5 points)",
)
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    default=None,
    help="checkpoint cache  [default: $STAGELENS_CACHE or ~/.cache/stagelens]",
)
def demo(
    variant: str, out: Path | None, seed: int, n_prompts: int, margin: float, cache: Path | None
) -> None:
    """Reproduce the SFT-vs-production experiment on the built-in model organism."""
    from stagelens.experiment.demo import run_demo

    quiet_libraries()
    user_errors(
        lambda: run_demo(variant=variant, out=out, seed=seed, n_prompts=n_prompts,
                         margin=margin, cache=cache, progress=console())
    )  # fmt: skip


@main.command()
@_spec_options
@click.option("--ray", default=None, metavar="ADDRESS",
              help="run a sharded suite's shards on this Ray cluster (local, auto, ray://...)")
def run(spec: Path, out: Path | None, offline: bool, cache: Path | None, ray: str | None) -> None:
    """Run an experiment spec: SFT the base (unless sft_only is given), evaluate, report."""
    from stagelens.experiment.run import run_experiment

    quiet_libraries()
    user_errors(lambda: run_experiment(spec, out, offline=offline, cache=cache,
                                       progress=console(), ray=ray))  # fmt: skip


@main.command()
@_spec_options
def sft(spec: Path, out: Path | None, offline: bool, cache: Path | None) -> None:
    """SFT the spec's base checkpoint with its recipe (works under `accelerate launch`)."""
    from stagelens.experiment.run import sft_from_spec

    quiet_libraries()
    user_errors(
        lambda: sft_from_spec(spec, out, offline=offline, cache=cache, progress=console())
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--rater", default="refusal-strings", show_default=True, help="a registered rater name"
)
@_judge_options
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path),
    default=None,
    help="also write the figures as JSON",
)
def calibrate(
    file: Path,
    rater: str,
    judge_models: tuple[str, ...],
    rubric: str,
    aggregate: str,
    judge_max_tokens: int | None,
    json_out: Path | None,
) -> None:  # fmt: skip
    """Agreement of a rater with human labels (JSONL prompt/response/label, or XSTest CSV)."""
    from stagelens.raters.calibrate import calibrate as run_calibration
    from stagelens.raters.calibrate import format_calibration
    from stagelens.report.atomic import atomic_write_text

    quiet_libraries()

    def go() -> None:
        judge = judge_from_options(judge_models, rubric, aggregate, judge_max_tokens)
        if judge is None:
            result = run_calibration(file, rater, judge)
        else:
            # a judge grades through an Inspect eval: show its samples as they are judged
            from stagelens.evaluate.meter import metered, register

            register()
            with metered(console(), f"{file.name}: judged"):
                result = run_calibration(file, rater, judge)
        click.echo(format_calibration(result))
        if json_out is not None:
            atomic_write_text(json_out, result.model_dump_json(indent=2))

    user_errors(go)


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--rater", default=None, help="re-score with a registered rater instead of a judge")
@_judge_options
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="where the re-scored logs and report go  [default: RUN/rescored/<rater>]")
def rescore(
    run: Path,
    rater: str | None,
    judge_models: tuple[str, ...],
    rubric: str,
    aggregate: str,
    judge_max_tokens: int | None,
    out: Path | None,
) -> None:  # fmt: skip
    """Re-score a finished run's answers (never regenerated); cached verdicts cost nothing."""
    from stagelens.experiment.rescore import rescore_run

    quiet_libraries()

    def go() -> None:
        judge = judge_from_options(judge_models, rubric, aggregate, judge_max_tokens)
        rescore_run(run, judge=judge, rater=rater, out=out, progress=console())

    user_errors(go)


# the ODCV-Bench commands live in their own module
main.add_command(odcv_table)
main.add_command(odcv_replay)
main.add_command(audit_scan)
main.add_command(sweep)
main.add_command(attribute)
main.add_command(ablate)
