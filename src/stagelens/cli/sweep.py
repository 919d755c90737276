"""`stagelens sweep`: SFT-only retrained with one mixture part at several doses. The command
calls one public function with the same arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from stagelens.cli.common import console, quiet_libraries, user_errors

F = TypeVar("F", bound=Callable[..., Any])


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as err:
        raise click.BadParameter(f"{text!r}: comma-separated numbers, e.g. 0,0.1,0.5,1") from err


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as err:
        raise click.BadParameter(f"{text!r}: comma-separated integers, e.g. 0,1,2") from err


@click.command("sweep")
@click.argument("spec", required=False, type=click.Path(path_type=Path))
@click.option("--offline", is_flag=True, help="with SPEC: skip checks that need the hub")
@click.option("--variant", default="safety-in-sft", show_default=True,
              help="a built-in variant or a variant TOML file")  # fmt: skip
@click.option("--part", default="harmful:refusal", show_default=True,
              help="the SFT mixture part to dose, KIND:RESPONSE")  # fmt: skip
@click.option("--doses", default="0,0.02,0.05,0.1,0.25,1", show_default=True,
              help="multiples of the part's count (0 leaves it out)")  # fmt: skip
@click.option("--seeds", default="0", show_default=True, help="comma-separated seeds")
@click.option("--swap-to", default=None,
              help="give the examples a dose removes back with this RESPONSE (e.g. refusal "
                   "in place of a distilled part); doses at most 1")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="the sweep's directory [default: runs/sweep-<variant>]")  # fmt: skip
@click.option("--n-prompts", type=click.IntRange(min=1), default=320, show_default=True)
@click.option("--margin", type=click.FloatRange(min=0, min_open=True), default=0.05,
              show_default=True)  # fmt: skip
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="checkpoint cache [default: ~/.cache/stagelens]")  # fmt: skip
def sweep(spec: Path | None, offline: bool, variant: str, part: str, doses: str, seeds: str,
          swap_to: str | None, out: Path | None, n_prompts: int, margin: float,
          cache: Path | None) -> None:  # fmt: skip
    """Retrain SFT-only with one mixture part at several doses and show the dose-response of
    each metric against production (sweep.json, sweep.png): the organism's (--variant), or a
    real family's from SPEC's [sweep] table."""
    from stagelens.experiment.sweep import run_sweep

    _spec_excludes(spec, ("variant", "part", "doses", "seeds", "swap_to", "n_prompts", "margin"),
                   offline, "--offline")  # fmt: skip

    def go() -> None:
        quiet_libraries()
        if spec is not None:
            from stagelens.experiment.spec_sweep import run_spec_sweep

            run_spec_sweep(spec, out, offline=offline, cache=cache, progress=console())
            return
        run_sweep(variant=variant, part=part, doses=_floats(doses), seeds=_ints(seeds),
                  out=out, n_prompts=n_prompts, margin=margin, cache=cache,
                  progress=console(), swap_to=swap_to)  # fmt: skip

    user_errors(go)


def _spec_excludes(spec: Path | None, organism_only: tuple[str, ...], spec_only: bool,
                   spec_flags: str) -> None:  # fmt: skip
    """Usage errors for options of the organism's form given with SPEC, and the reverse."""
    ctx = click.get_current_context()
    given = [name for name in organism_only
             if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]  # fmt: skip
    if spec is not None and given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(f"{flags}: the organism's option; with SPEC the spec says it")
    if spec is None and spec_only:
        raise click.UsageError(f"{spec_flags}: only with SPEC")


def _ranked_metric(command: F) -> F:
    """The options naming what attribution ranks examples for: variant, seed and metric."""
    command = click.option("--metric", type=click.Choice(["unsafe_response", "over_refusal"]),
                           default="unsafe_response", show_default=True)(command)  # fmt: skip
    command = click.option("--seed", type=int, default=0, show_default=True)(command)
    return click.option("--variant", default="safety-in-sft", show_default=True,
                        help="a built-in variant or a variant TOML file")(command)  # fmt: skip


@click.command("attribute")
@click.argument("spec", required=False, type=click.Path(path_type=Path))
@click.option("--offline", is_flag=True, help="with SPEC: skip checks that need the hub")
@click.option("--target-file", type=click.Path(path_type=Path), default=None,
              help="with SPEC: JSONL of {prompt, completion(s)}: the safe answers to rank for "
                   "[default for unsafe_response: the suite's prompts with refusals]")  # fmt: skip
@_ranked_metric
@click.option("--top", "top_k", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--targets", "n_targets", type=click.IntRange(min=1), default=64,
              show_default=True,
              help="held-out prompts whose safe response is the target")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="write the ranking as JSON")  # fmt: skip
@click.option("--cache", type=click.Path(path_type=Path), default=None)
@click.option("--checkpoint", type=click.Choice(["start", "end"]), default="start",
              show_default=True,
              help="gradients at the model SFT-only was trained from, or at SFT-only")  # fmt: skip
def attribute(spec: Path | None, offline: bool, target_file: Path | None, variant: str,
              seed: int, metric: str, top_k: int, n_targets: int, out: Path | None,
              cache: Path | None, checkpoint: str) -> None:  # fmt: skip
    """Rank SFT training examples by their support for a metric's safe response (gradient
    similarity), and show each mixture part's share of the top k: the organism's SFT-only
    rows (--variant), or SPEC's mixture at its base."""
    from stagelens.experiment.attribution import attribute_organism

    _spec_excludes(spec, ("variant", "seed", "checkpoint"), offline or target_file is not None,
                   "--offline and --target-file")  # fmt: skip

    def go() -> None:
        quiet_libraries()
        if spec is not None:
            from stagelens.experiment.spec_attribution import attribute_spec

            attribute_spec(spec, metric=metric, top_k=top_k, n_targets=n_targets,
                           targets=target_file, out=out, offline=offline, cache=cache,
                           progress=console())  # fmt: skip
            return
        attribute_organism(variant=variant, seed=seed, metric=metric, top_k=top_k,
                           n_targets=n_targets, cache=cache, out=out,
                           progress=console(), checkpoint=checkpoint)  # fmt: skip

    user_errors(go)


@click.command("ablate")
@_ranked_metric
@click.option("--k", type=click.IntRange(min=1), default=100, show_default=True,
              help="examples removed: the top k of the ranking, and k at random")  # fmt: skip
@click.option("--ranking", type=click.Path(path_type=Path), default=None,
              help="an `stagelens attribute --out` JSON [default: computed]")  # fmt: skip
@click.option("--n-prompts", type=click.IntRange(min=1), default=320, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="its directory [default: runs/ablation-<variant>-<seed>]")  # fmt: skip
@click.option("--cache", type=click.Path(path_type=Path), default=None)
def ablate(variant: str, seed: int, metric: str, k: int, ranking: Path | None, n_prompts: int,
           out: Path | None, cache: Path | None) -> None:  # fmt: skip
    """Retrain the organism's SFT-only without its top-k attributed examples and without k
    random ones, and compare the metric on the same prompts (ablation.json)."""
    from stagelens.experiment.ablation import ablate_organism

    def go() -> None:
        quiet_libraries()
        ablate_organism(variant=variant, seed=seed, metric=metric, k=k, ranking=ranking,
                        n_prompts=n_prompts, cache=cache, out=out,
                        progress=console())  # fmt: skip

    user_errors(go)
