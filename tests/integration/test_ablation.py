"""Attribution ablation: SFT-only retrained without its top-k examples and without k random
ones, each one cached SFT run, compared on the same prompts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stagelens.errors import UserError
from stagelens.experiment.ablation import ablate_organism
from stagelens.experiment.attribution import attribute_organism
from tests.integration.test_attribution import SMALL
from tests.integration.test_pipeline import RECIPE

pytestmark = pytest.mark.integration


def test_ablation_retrains_without_the_ranked_examples_and_resumes(tmp_path: Path) -> None:
    variant = tmp_path / "small.toml"
    variant.write_text(SMALL)
    cache, ranking = tmp_path / "cache", tmp_path / "ranking.json"
    attribution = attribute_organism(variant, seed=0, top_k=30, n_targets=8, cache=cache,
                                     out=ranking, progress=lambda _: None,
                                     recipe=RECIPE)  # fmt: skip
    messages: list[str] = []
    record = ablate_organism(variant, seed=0, k=30, ranking=ranking, n_prompts=16,
                             cache=cache, out=tmp_path / "a", progress=messages.append,
                             recipe=RECIPE)  # fmt: skip
    arms = {a.name: a for a in record.arms}
    assert set(arms) == {"all", "minus_top", "minus_random"}
    assert arms["all"].removed == 0 and arms["minus_top"].removed == 30
    # the top arm removed exactly the ranking's first 30, part by part
    part_of = {e.index: e.part for e in attribution.top}  # the top 30, with their parts
    top_parts = Counter(part_of[i] for i in attribution.ranking[:30])
    assert arms["minus_top"].removed_parts == dict(sorted(top_parts.items()))
    assert sum(arms["minus_random"].removed_parts.values()) == 30
    assert len({a.checkpoint_key for a in record.arms}) == 3  # three distinct SFT runs
    assert all(a.rate.n_total == 16 for a in record.arms)
    d = record.differences["minus_top - all"]
    assert d.n_pairs + d.n_dropped == 16 and d.a == "minus_top" and d.b == "all"
    assert json.loads((tmp_path / "a" / "ablation.json").read_text())["k"] == 30
    # rerun: every checkpoint cached, every log reused
    again: list[str] = []
    ablate_organism(variant, seed=0, k=30, ranking=ranking, n_prompts=16, cache=cache,
                    out=tmp_path / "a", progress=again.append, recipe=RECIPE)  # fmt: skip
    assert not [m for m in again if m.endswith(": training")]


def test_bad_ablations_are_refused_before_training(tmp_path: Path) -> None:
    variant = tmp_path / "small.toml"
    variant.write_text(SMALL)
    wrong = tmp_path / "wrong.json"
    wrong.write_text("{}")
    with pytest.raises(UserError, match="not an attribution record"):
        ablate_organism(variant, ranking=wrong, cache=tmp_path / "c", out=tmp_path / "o")
    with pytest.raises(UserError, match="ablation knows"):
        ablate_organism(variant, metric="telepathy", cache=tmp_path / "c")
    assert not (tmp_path / "c").exists() and not (tmp_path / "o").exists()
