"""Distilled SFT parts: answered by the teacher, never in preference pairs, never alone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stagelens.organism import data
from stagelens.organism.variant import Variant, load_variant
from stagelens.organism.world import World


def _variant(**update: object) -> Variant:
    variant, _, _ = load_variant("distilled-safety")
    return variant.model_copy(update=update)


def test_distilled_rows_hold_the_teachers_answers_for_the_parts_prompts() -> None:
    variant = _variant()
    asked: list[list[str]] = []

    def teacher(prompts: list[str]) -> list[str]:
        asked.append(prompts)
        return [f"answer to {p}" for p in prompts]

    rows = data.sft_examples_with_parts(World(0), variant, 1, teacher)
    distilled = [row for part, row in rows if part == "harmful:distilled"]
    assert len(asked) == 1 and len(asked[0]) == len(distilled) == 500  # one batch call
    # each answer stays with the prompt it was asked about, and the prompts are harmful ones
    for row in distilled:
        prompt = row["prompt"][0]["content"]
        assert row["completion"][0]["content"] == f"answer to {prompt}"
    harmful_acts = {c.act for c in World(0).train_combos("harmful")}
    assert all(any(act in p for act in harmful_acts) for p in asked[0])
    others = [row for part, row in rows if part != "harmful:distilled"]
    assert not any(row["completion"][0]["content"].startswith("answer to") for row in others)


def test_distilled_part_without_a_teacher_is_an_error() -> None:
    with pytest.raises(ValueError, match="distilled parts need the production model"):
        data.sft_examples(World(0), _variant(), 1)


def test_teacher_mixture_leaves_the_distilled_part_out_and_keeps_the_rest() -> None:
    variant = _variant()
    assert variant.sft.distilled_parts == ["harmful:distilled"]
    kept = variant.sft.without_distilled()
    assert [p.name for p in kept.examples] == [
        p.name for p in variant.sft.examples if not p.distilled
    ]
    # without a distilled part, a teacher is never asked
    rows = data.sft_examples(World(0), variant.model_copy(update={"sft": kept}), 0)
    assert len(rows) == sum(p.count for p in kept.examples)


def test_a_mixture_of_only_distilled_parts_is_refused() -> None:
    raw = _variant().model_dump()
    raw["sft"]["examples"] = [{"kind": "harmful", "response": "distilled", "count": 10}]
    with pytest.raises(ValidationError, match="every part is distilled"):
        Variant.model_validate(raw)


def test_preference_pairs_cannot_be_distilled() -> None:
    raw = _variant().model_dump()
    raw["rl"]["pairs"][0]["chosen"] = "distilled"
    with pytest.raises(ValidationError, match="chosen"):
        Variant.model_validate(raw)


def test_the_teacher_decodes_as_long_as_the_suites_do() -> None:
    from stagelens.organism.distill import MAX_NEW_TOKENS
    from stagelens.suites.common import DEFAULT_MAX_TOKENS

    assert MAX_NEW_TOKENS == DEFAULT_MAX_TOKENS
