"""The SFT recipe of an experiment spec: what `stagelens sft` trains the base on, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stagelens.records import StrictModel


class DataProvenance(StrictModel):
    """Where a mixture part comes from; reviewers ask whether it was distilled from an RL model."""

    source: str  # hub id, URL or description
    licence: str
    distilled_from_rl_model: bool | None = None  # None: unknown (reported as such)
    notes: str | None = None


class MixturePart(StrictModel):
    """One dataset of the SFT mixture: a local JSONL file or a hub dataset id."""

    name: str
    path: str | None = (
        None  # local JSONL: {"messages": [...]} or {"prompt": ..., "completion": ...}
    )
    hub: str | None = None  # hub dataset id (needs network)
    split: str = "train"
    weight: float = Field(default=1.0, gt=0)  # relative share of the mixture
    max_examples: int | None = Field(default=None, gt=0)
    provenance: DataProvenance

    @model_validator(mode="after")
    def _one_location(self) -> MixturePart:
        if (self.path is None) == (self.hub is None):
            raise ValueError("give exactly one of 'path' (local JSONL) or 'hub' (dataset id)")
        return self


class LoRA(StrictModel):
    """LoRA adapter settings for `method = "lora"` (merged into the weights after training)."""

    r: int = Field(default=16, gt=0)
    alpha: int = Field(default=32, gt=0)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class SFTRecipeSpec(StrictModel):
    """A spec's `[sft]` table: the mixture, chat template, end-of-turn token, training settings."""

    mixture: list[MixturePart] = Field(min_length=1)
    # A base model usually has no chat template: the recipe must say which one SFT teaches,
    # and which token ends an assistant turn (checked against the tokenizer before training).
    chat_template: str
    eos_token: str
    max_length: int = Field(default=2048, gt=0)
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int | None = Field(default=None, gt=0)  # overrides epochs when set
    learning_rate: float = Field(default=2e-5, gt=0)
    batch_size: int = Field(default=8, gt=0)
    gradient_accumulation_steps: int = Field(default=1, gt=0)
    method: Literal["full", "lora"] = "full"
    lora: LoRA | None = None
    seed: int = 0
    total_examples: int | None = Field(default=None, gt=0)  # mixture size; None: all data

    @model_validator(mode="after")
    def _lora_only_with_lora(self) -> SFTRecipeSpec:
        if self.lora is not None and self.method != "lora":
            raise ValueError("'lora' settings given but method is not 'lora'")
        return self
