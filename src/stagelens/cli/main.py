"""The `stagelens` command. Each command calls one public function with the same arguments."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from stagelens.errors import UserError
from stagelens.progress import Console
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
    help="built-in ground truth (safety-in-sft, safety-in-rl, rl-rewards-hacking) or a "
    "variant TOML file",
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

    _quiet_libraries()
    _user_errors(
        lambda: run_demo(variant=variant, out=out, seed=seed, n_prompts=n_prompts,
                         margin=margin, cache=cache, progress=_console())
    )  # fmt: skip


@main.command()
@_spec_options
def run(spec: Path, out: Path | None, offline: bool, cache: Path | None) -> None:
    """Run an experiment spec: SFT the base (unless sft_only is given), evaluate, report."""
    from stagelens.experiment.run import run_experiment

    _quiet_libraries()
    _user_errors(
        lambda: run_experiment(spec, out, offline=offline, cache=cache, progress=_console())
    )


@main.command()
@_spec_options
def sft(spec: Path, out: Path | None, offline: bool, cache: Path | None) -> None:
    """SFT the spec's base checkpoint with its recipe (works under `accelerate launch`)."""
    from stagelens.experiment.run import sft_from_spec

    _quiet_libraries()
    _user_errors(
        lambda: sft_from_spec(spec, out, offline=offline, cache=cache, progress=_console())
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

    _quiet_libraries()

    def go() -> None:
        judge = _judge(judge_models, rubric, aggregate, judge_max_tokens)
        if judge is None:
            result = run_calibration(file, rater, judge)
        else:
            # a judge grades through an Inspect eval: show its samples as they are judged
            from stagelens.evaluate.meter import metered, register

            register()
            with metered(_console(), f"{file.name}: judged"):
                result = run_calibration(file, rater, judge)
        click.echo(format_calibration(result))
        if json_out is not None:
            atomic_write_text(json_out, result.model_dump_json(indent=2))

    _user_errors(go)


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

    _quiet_libraries()

    def go() -> None:
        judge = _judge(judge_models, rubric, aggregate, judge_max_tokens)
        rescore_run(run, judge=judge, rater=rater, out=out, progress=_console())

    _user_errors(go)


def _judge(
    models: tuple[str, ...], rubric: str, aggregate: str, max_tokens: int | None = None
) -> Any:
    """The JudgeSpec the --judge options describe (None without --judge)."""
    from pydantic import ValidationError

    from stagelens.spec.models import JudgeSpec

    if not models:
        return None
    graders = {"model": models[0]} if len(models) == 1 else {"models": list(models)}
    try:
        return JudgeSpec.model_validate(
            {"name": "cli", "rubric": rubric, "aggregate": aggregate,
             "max_tokens": max_tokens, **graders}
        )
    except ValidationError as err:
        raise UserError(f"--judge: {err.errors()[0]['msg']}") from err


def _user_errors(call: Callable[[], object]) -> None:
    try:
        call()
    except UserError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    except Exception as err:
        # Inspect says what a provider lacks ("pip install openai") with a PrerequisiteError
        # whose rich-markup message its own console would print; outside `inspect eval` it
        # would vanish into an exit code
        if type(err).__name__ != "PrerequisiteError":
            raise
        message = re.sub(r"\[/?bold\]", "", str(err)).replace("ERROR:", "").strip()
        click.echo(f"error: {' '.join(message.split())}", err=True)
        sys.exit(2)


def _console() -> Console:
    """Progress lines on standard output: a live bar per suite on a terminal, plain lines
    every 30 s when redirected to a file or a pipe."""
    return Console(sys.stdout)


def _quiet_libraries() -> None:
    """Keep the demo's own progress lines readable: no per-example progress bars, and no
    deprecation notices about library internals that a user cannot act on."""
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # tqdm reads its defaults from the environment when it is first imported (next line):
    # transformers' GGUF conversion draws a raw bar that no library switch turns off
    os.environ.setdefault("TQDM_DISABLE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    warnings.filterwarnings("ignore", category=FutureWarning, module="trl")
