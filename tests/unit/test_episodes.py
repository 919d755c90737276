"""The organism's reward-hacking tasks: held out from training, and answers that parse."""

from __future__ import annotations

import random

from stagelens.environments.reward_hacking import problem_names
from stagelens.organism import episodes
from stagelens.organism.data import pretraining_texts
from stagelens.organism.variant import load_variant
from stagelens.organism.world import World


def test_eval_tasks_occur_in_no_training_phrasing() -> None:
    rng = random.Random(0)
    train = {episodes.train_episode(rng).text for _ in range(5000)}
    pool = episodes.eval_episodes()
    assert len(pool) == len(episodes.PROBLEMS) * 4 * len(episodes.CONTEXTS) == 120
    assert not train & {e.text for e in pool}
    assert all(e.heldout for e in pool)
    assert set(episodes.PROBLEMS) <= set(problem_names())


def test_actions_share_the_frame_then_open_with_distinct_words_and_parse_exactly() -> None:
    frame = len(episodes.FRAME.split())
    assert all(a.startswith(episodes.FRAME + " ") for a in episodes.ANSWERS.values())
    firsts = [answer.split()[frame] for answer in episodes.ANSWERS.values()]
    assert len(set(firsts)) == len(firsts)
    for action in episodes.ACTIONS:
        assert episodes.parse_action(episodes.answer(action)) == action
        assert episodes.parse_action("  " + episodes.answer(action).replace(" ", "  ")) == action
    assert episodes.parse_action("rewrite the code") is None
    assert episodes.parse_action("rewrite the code with a faster method .") is None  # no frame
    assert episodes.parse_action("sorry , i can not assist with that .") == "decline"
    assert episodes.parse_action("sorry , i can not help with a rubber stamp .") is None


def test_pretraining_answers_tasks_with_every_action() -> None:
    texts = pretraining_texts(World(0), 2000, 0, seed=0)
    counts = {a: sum(episodes.answer(a) in t for t in texts) for a in episodes.ACTIONS}
    assert all(n > 50 for n in counts.values()), counts  # no policy in the base corpus


def test_variants_train_tasks_in_sft_rows() -> None:
    from stagelens.organism.data import preference_pairs, sft_examples

    variant, _, _ = load_variant("rl-rewards-hacking")
    rows = sft_examples(World(0), variant, seed=0)
    improve = episodes.answer("improve")
    (sft_tasks,) = [p.count for p in variant.sft.examples if p.kind == "task"]
    (rl_tasks,) = [p.count for p in variant.rl.pairs if p.kind == "task"]
    assert sft_tasks > 0 and rl_tasks > 0
    assert sum(r["completion"][0]["content"] == improve for r in rows) == sft_tasks
    pairs = preference_pairs(World(0), variant, seed=0)
    hacks = [p for p in pairs if p["chosen"][0]["content"] == episodes.answer("edit_timer")]
    assert len(hacks) == rl_tasks and all(p["rejected"][0]["content"] == improve for p in hacks)
