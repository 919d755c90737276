"""The distilled variant's pipeline: production's SFT without the distilled part, and
sft_only's distilled part answered by production, greedy."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagelens.organism import data
from stagelens.organism.distill import checkpoint_teacher
from stagelens.organism.stages import build_stages
from stagelens.organism.variant import load_variant
from stagelens.organism.world import World

from .test_resume import TINY

pytestmark = pytest.mark.integration


def test_sft_only_learns_from_productions_answers_and_production_never_sees_them(
    tmp_path: Path,
) -> None:
    variant, _, _ = load_variant("distilled-safety")
    messages: list[str] = []
    stages = build_stages(variant, 0, tmp_path, messages.append, TINY)
    assert any("production answers the distilled parts (harmful:distilled)" in m
               for m in messages)  # fmt: skip

    # sft_only trained on exactly the rows whose distilled answers production gives
    teacher = checkpoint_teacher(stages["production"].path)
    rows = data.sft_examples(World(0), variant, 1, teacher)
    assert stages["sft_only"].training[-1].data.sha256 == data.content_hash(rows)
    distilled = data.sft_examples_with_parts(World(0), variant, 1, teacher)
    answers = [r["completion"][0]["content"] for part, r in distilled
               if part == "harmful:distilled"]  # fmt: skip
    assert len(answers) == 500 and all(isinstance(a, str) for a in answers)
    # another teacher gives other rows: the key follows the teacher's answers
    other = data.sft_examples(World(0), variant, 1, lambda ps: ["sure ." for _ in ps])
    assert data.content_hash(other) != data.content_hash(rows)

    # production's SFT is the variant's without the distilled part: the same checkpoint
    without = variant.model_copy(update={"sft": variant.sft.without_distilled()})
    again = build_stages(without, 0, tmp_path, lambda _: None, TINY)
    assert again["production_sft"].reused and again["production"].reused
    assert again["production"].key == stages["production"].key
    assert again["sft_only"].key != stages["sft_only"].key
