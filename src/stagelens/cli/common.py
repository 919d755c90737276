"""Helpers every `stagelens` command module shares: user errors, progress, judge options."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import click

from stagelens.errors import UserError
from stagelens.progress import Console


def judge_from_options(
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


def user_errors(call: Callable[[], object]) -> None:
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


def console() -> Console:
    """Progress lines on standard output: a live bar per suite on a terminal, plain lines
    every 30 s when redirected to a file or a pipe."""
    return Console(sys.stdout)


def quiet_libraries() -> None:
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
