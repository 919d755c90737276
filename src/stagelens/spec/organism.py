"""The built-in organism as a spec: `stagelens run examples/organism.toml` is `stagelens demo`.

An organism spec has one table, `[organism]`; its stages are trained by stagelens itself
(pretrain -> SFT -> DPO, and SFT with another seed), so it names no checkpoints.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import Field

from stagelens.records import StrictModel
from stagelens.toml_errors import load_toml_model


class OrganismSettings(StrictModel):
    """The `[organism]` table: the variant, seed, prompts per suite and equivalence margin."""

    variant: str = "safety-in-sft"  # a built-in name, or a variant TOML path
    seed: int = 0
    n_prompts: int = Field(default=320, gt=0)
    margin: float = Field(default=0.05, gt=0, lt=1)


class OrganismSpec(StrictModel):
    """An organism spec: its one `[organism]` table."""

    organism: OrganismSettings


def load_organism_spec(path: Path | str) -> OrganismSpec | None:
    """The organism spec in this file, or None if it is a model-family spec."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # load_spec reports these with the file's name and line
    if "organism" not in data:
        return None
    from stagelens.spec.load import SpecError

    spec = load_toml_model(file, OrganismSpec, SpecError, what="spec")
    variant = Path(spec.organism.variant)
    if not variant.is_absolute() and (file.parent / variant).is_file():
        # a variant file next to the spec, like every other relative path in a spec
        settings = spec.organism.model_copy(update={"variant": str(file.parent / variant)})
        spec = spec.model_copy(update={"organism": settings})
    return spec
