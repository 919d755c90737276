"""Example attribution: gradient similarity ranks the examples that teach the target's
response first, and the organism runner reports each part's share of the top k."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from stagelens.training.attribution import attribute

pytestmark = pytest.mark.integration

SMALL = """
name = "small"
description = "a small mixture for the attribution test"
[[sft.examples]]
kind = "harmful"
response = "refusal"
count = 60
[[sft.examples]]
kind = "benign"
response = "compliance"
count = 60
[[rl.pairs]]
kind = "harmful"
chosen = "refusal"
rejected = "compliance"
count = 8
"""


def _chat(prompt: str, answer: str) -> dict:
    return {"prompt": [{"role": "user", "content": prompt}],
            "completion": [{"role": "assistant", "content": answer}]}  # fmt: skip


def test_examples_that_teach_the_target_response_rank_first() -> None:
    from stagelens.organism.data import pretraining_texts
    from stagelens.organism.model import ModelShape, build_model, train_tokenizer
    from stagelens.organism.world import REFUSALS, World, respond

    world = World(0)
    tokenizer = train_tokenizer(pretraining_texts(world, 300, 50, seed=0))
    shape = ModelShape(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=2)  # fmt: skip
    model = build_model(tokenizer, shape, 0)
    rng = random.Random(0)
    harmful = [world.sample_train_request("harmful", rng) for _ in range(40)]
    benign = [world.sample_train_request("benign", rng) for _ in range(40)]
    targets = [_chat(r.text, REFUSALS[0]) for r in harmful[:8]]
    # the same refusal to other harmful requests, against helpful answers to benign ones
    examples = [_chat(r.text, REFUSALS[0]) for r in harmful[8:28]]
    examples += [_chat(r.text, respond(r, True, rng)) for r in benign[:20]]
    parts = ["harmful:refusal"] * 20 + ["benign:compliance"] * 20
    result = attribute(model, tokenizer, examples, parts, targets)
    assert result.parameters == sum(p.numel() for p in model.parameters())
    assert len(result.ranked) == 40 and sorted(s.index for s in result.ranked) == list(range(40))
    assert result.precision_at(20, "harmful:refusal") >= 0.9, result.part_shares(20)
    assert result.part_shares(20)["harmful:refusal"] == result.precision_at(20, "harmful:refusal")
    # deterministic: the same model and data give the same scores
    again = attribute(model, tokenizer, examples, parts, targets)
    assert [s.score for s in again.ranked] == [s.score for s in result.ranked]


def _tiny() -> tuple:
    from stagelens.organism.data import pretraining_texts
    from stagelens.organism.model import ModelShape, build_model, train_tokenizer
    from stagelens.organism.world import World

    tokenizer = train_tokenizer(pretraining_texts(World(0), 300, 50, seed=0))
    shape = ModelShape(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=2)  # fmt: skip
    return build_model(tokenizer, shape, 0), tokenizer


def test_a_target_with_several_answers_is_their_summed_probability() -> None:
    import torch

    from stagelens.organism.world import REFUSALS
    from stagelens.training.attribution import _target_loss

    model, tokenizer = _tiny()
    prompt = [{"role": "user", "content": "how do i poison the neighbor ?"}]
    one = [[{"role": "assistant", "content": r}] for r in REFUSALS]
    with torch.no_grad():
        singles = [float(_target_loss(model, tokenizer, [{"prompt": prompt, "completion": c}]))
                   for c in one]  # fmt: skip
        both = float(_target_loss(model, tokenizer, [{"prompt": prompt, "completions": one}]))
        doubled = [{"prompt": prompt, "completions": [one[0], one[0]]}]
        twice = float(_target_loss(model, tokenizer, doubled))
    # -log(p1 + p2 + p3), from the three -log p_i
    assert both == pytest.approx(-float(torch.logsumexp(-torch.tensor(singles), 0)), rel=1e-5)
    assert twice == pytest.approx(singles[0] - float(torch.log(torch.tensor(2.0))), rel=1e-5)


def test_examples_refusing_in_any_sentence_support_a_refusal_class_target() -> None:
    """Examples refusing in each of the three sentences support a target whose safe answer is
    the class of refusals. (The failure of a one-sentence target, refusals in other sentences
    ranked last, showed on the trained organism, not on this untrained model.)"""
    from stagelens.organism.world import REFUSALS, World, respond

    model, tokenizer = _tiny()
    world, rng = World(0), random.Random(1)
    harmful = [world.sample_train_request("harmful", rng) for _ in range(40)]
    benign = [world.sample_train_request("benign", rng) for _ in range(40)]
    refusals = [[{"role": "assistant", "content": r}] for r in REFUSALS]
    targets = [{"prompt": _chat(r.text, "")["prompt"], "completions": refusals}
               for r in harmful[:8]]  # fmt: skip
    examples = [_chat(r.text, REFUSALS[i % 3]) for i, r in enumerate(harmful[8:29])]
    examples += [_chat(r.text, respond(r, True, rng)) for r in benign[:21]]
    parts = ["harmful:refusal"] * 21 + ["benign:compliance"] * 21
    result = attribute(model, tokenizer, examples, parts, targets)
    assert result.precision_at(21, "harmful:refusal") >= 0.9, result.part_shares(21)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="part names"):
        attribute(None, None, [{}], [], [{}])
    with pytest.raises(ValueError, match="at least one target"):
        attribute(None, None, [{}], ["a"], [])


def test_the_organism_runner_ranks_sft_only_s_own_rows(tmp_path: Path) -> None:
    from stagelens.errors import UserError
    from stagelens.experiment.attribution import attribute_organism
    from stagelens.organism.variant import load_variant
    from tests.integration.test_pipeline import RECIPE

    variant = tmp_path / "small.toml"  # a small mixture: the test scores every example
    variant.write_text(SMALL)
    out = tmp_path / "attribution.json"
    record = attribute_organism(variant, seed=0, metric="unsafe_response", top_k=50,
                                n_targets=8, cache=tmp_path / "cache", out=out,
                                progress=lambda _: None, recipe=RECIPE)  # fmt: skip
    spec = load_variant(variant)[0]
    assert record.n_examples == sum(p.count for p in spec.sft.examples)
    assert abs(sum(record.mixture_shares.values()) - 1) < 1e-9
    assert abs(sum(record.top_shares.values()) - 1) < 1e-9 and len(record.top) == 50
    assert [e.rank for e in record.top] == list(range(1, 51))
    assert record.top[0].score >= record.top[-1].score >= record.bottom[0].score
    assert sorted(record.ranking) == list(range(record.n_examples))
    assert json.loads(out.read_text())["metric"] == "unsafe_response"
    assert record.checkpoint == "start" and "at the base checkpoint" in record.method
    end = attribute_organism(variant, seed=0, metric="unsafe_response", top_k=50, n_targets=8,
                             cache=tmp_path / "cache", progress=lambda _: None, recipe=RECIPE,
                             checkpoint="end")  # fmt: skip
    assert "at the sft_only checkpoint" in end.method and end.ranking != record.ranking
    with pytest.raises(UserError, match="--checkpoint"):
        attribute_organism(variant, checkpoint="middle", cache=tmp_path / "cache", recipe=RECIPE)
    with pytest.raises(UserError, match="attribution knows"):
        attribute_organism("safety-in-sft", metric="telepathy", cache=tmp_path / "cache",
                           recipe=RECIPE)  # fmt: skip
