"""A spec's `[sweep]` table: SFT-only retrained with one mixture part at several doses, or
with each part left out in turn (`stagelens sweep SPEC`).

A dose multiplies the part's `weight` (0 leaves the part out). With `total_examples` set the
mixture keeps its size and the dose moves the part's share; without it the part's row count
scales (`round(n * weight * dose)`). `swap_to` is a counterpart part (its own file and
provenance, not in the production mixture) that receives the weight a dose takes away, so a
distilled part can be replaced by a non-distilled one at the same share.
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from stagelens.records import StrictModel
from stagelens.training.recipe import MixturePart, SFTRecipeSpec

DEFAULT_DOSES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


class SweepSpec(StrictModel):
    """What to sweep; every point is one SFT run of the spec's base."""

    part: str | None = None  # a [[sft.mixture]] name; None with leave_out_each
    doses: list[float] | None = None  # multiples of the part's weight; default DEFAULT_DOSES
    leave_out_each: bool = False  # one point per part without it, and the full mixture
    swap_to: MixturePart | None = None
    seeds: list[int] | None = Field(default=None, min_length=1)  # SFT seeds; None: [sft.seed]

    @field_validator("doses")
    @classmethod
    def _doses(cls, doses: list[float] | None) -> list[float] | None:
        if doses is None:
            return None
        if not doses:
            raise ValueError("a sweep needs at least one dose")
        bad = [d for d in doses if not math.isfinite(d) or d < 0]
        if bad:
            raise ValueError(f"doses multiply a weight and must be finite and non-negative; "
                             f"got {bad}")  # fmt: skip
        if len(set(doses)) != len(doses):
            raise ValueError(f"doses repeat: {doses} (two points would share a seed and a "
                             "weight: the same SFT run)")  # fmt: skip
        return doses

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int] | None) -> list[int] | None:
        if seeds is not None and len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds repeat: {seeds} (two points would share a seed and a "
                             "weight: the same SFT run)")  # fmt: skip
        return seeds

    @model_validator(mode="after")
    def _one_kind(self) -> SweepSpec:
        if self.leave_out_each:
            if self.part is not None or self.doses is not None or self.swap_to is not None:
                raise ValueError("leave_out_each = true takes no 'part', 'doses' or 'swap_to': "
                                 "it leaves each mixture part out in turn")  # fmt: skip
        elif self.part is None:
            raise ValueError("give 'part' (the [[sft.mixture]] part to dose) or "
                             "leave_out_each = true")  # fmt: skip
        if self.swap_to is not None:
            if any(d > 1 for d in self.effective_doses):
                raise ValueError(f"swap_to: doses above 1 leave nothing to swap, got "
                                 f"{self.effective_doses}")  # fmt: skip
            if self.swap_to.provenance.distilled_from_rl_model:
                raise ValueError(f"swap_to {self.swap_to.name!r} is itself declared "
                                 "distilled_from_rl_model: swapping to it cannot remove the "
                                 "confound")  # fmt: skip
        return self

    @property
    def effective_doses(self) -> list[float]:
        if self.doses is not None:
            return self.doses
        # the default reaches 2x, which leaves nothing to swap
        return [d for d in DEFAULT_DOSES if self.swap_to is None or d <= 1]

    def seeds_for(self, recipe: SFTRecipeSpec) -> list[int]:
        return self.seeds if self.seeds is not None else [recipe.seed]

    def check_against(self, recipe: SFTRecipeSpec) -> None:
        """ValueError unless the sweep fits the spec's mixture."""
        names = [p.name for p in recipe.mixture]
        if self.part is not None and self.part not in names:
            raise ValueError(f"sweep.part {self.part!r}: no [[sft.mixture]] part of that name "
                             f"(the mixture's parts: {', '.join(names)})")  # fmt: skip
        if self.swap_to is not None and self.swap_to.name in names:
            raise ValueError(f"sweep.swap_to.name {self.swap_to.name!r}: already a part of the "
                             "mixture; the counterpart needs a name of its own")  # fmt: skip
        if self.leave_out_each and len(names) < 2:
            raise ValueError("sweep.leave_out_each: the mixture has one part; leaving it out "
                             "leaves nothing to train on")  # fmt: skip


def dosed_recipe(
    recipe: SFTRecipeSpec, part: str, dose: float, *, swap_to: MixturePart | None = None,
    seed: int | None = None,
) -> SFTRecipeSpec:  # fmt: skip
    """The recipe with `part`'s weight multiplied by `dose` (0: left out) and, with
    `swap_to`, the counterpart given the weight taken away; `seed` replaces the SFT seed."""
    parts: list[MixturePart] = []
    for p in recipe.mixture:
        if p.name != part:
            parts.append(p)
            continue
        if swap_to is not None and dose < 1:
            parts.append(swap_to.model_copy(update={"weight": p.weight * (1 - dose)}))
        if dose > 0:
            parts.append(p.model_copy(update={"weight": p.weight * dose}))
    if not parts:
        raise ValueError(f"dose {dose:g} of {part!r} leaves the SFT mixture empty")
    update: dict[str, object] = {"mixture": parts}
    if seed is not None:
        update["seed"] = seed
    return recipe.model_copy(update=update)
