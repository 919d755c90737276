"""An interrupted build resumes: finished stages are reused, nothing half-written survives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagelens.organism.model import ModelShape
from stagelens.organism.stages import OrganismRecipe, build_stages
from stagelens.organism.variant import load_variant
from stagelens.training import trl_stages
from stagelens.training.cache import MANIFEST
from stagelens.training.config import DPORecipe, PretrainRecipe, SFTRecipe

pytestmark = pytest.mark.integration

TINY = OrganismRecipe(
    shape=ModelShape(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2
    ),
    pretrain=PretrainRecipe(n_dialogs=300, n_filler=50, steps=10, batch_size=16),
    sft=SFTRecipe(steps=3, batch_size=8),
    dpo=DPORecipe(steps=2, batch_size=4),
)


def test_interrupted_build_resumes_without_retraining(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variant, _, _ = load_variant("safety-in-sft")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C during DPO

    monkeypatch.setattr(trl_stages, "run_dpo", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_stages(variant, 0, tmp_path, lambda _: None, TINY)
    monkeypatch.undo()

    finished = sorted(p.name.split("-")[0] for p in (tmp_path / "checkpoints").iterdir())
    assert finished == ["base", "production_sft"]  # no partial directory left behind
    assert all((p / MANIFEST).is_file() for p in (tmp_path / "checkpoints").iterdir())

    messages: list[str] = []
    stages = build_stages(variant, 0, tmp_path, messages.append, TINY)
    assert stages["base"].reused and stages["production_sft"].reused
    assert not stages["production"].reused and not stages["sft_only"].reused
    assert "base: training" not in messages and "production_sft: training" not in messages
    assert [t.method.split()[0] for t in stages["production"].training] == [
        "pretrain",
        "sft",
        "dpo",
    ]
