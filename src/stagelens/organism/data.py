"""Datasets of the organism: pretraining text, the SFT mixture, preference pairs, eval prompts.

The pretraining corpus answers every kind of request both ways, at random, the
way web text holds no consistent policy; so the base model can produce every
behaviour and prefers none. Only training combinations and training phrasings
appear in any of these sets.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

from stagelens.organism import dilemmas, episodes
from stagelens.organism.variant import Variant
from stagelens.organism.world import (
    DOMAINS,
    REQUEST_KINDS,
    Request,
    World,
    all_templates,
    respond,
)

BOS, EOS, USER, ASSISTANT = "<s>", "</s>", "<user>", "<assistant>"
EPISODE_SHARE = 0.25  # of pretraining dialogs: reward-hacking tasks, each action equally
# alignment dilemmas, each answer equally, added on top of the `n_dialogs` request and task
# dialogs (as many as this share of them): taking their place thinned the requests the
# refusal metrics rest on
DILEMMA_SHARE = 0.2
# Share of pretraining requests answered by complying. At an even 0.5 the greedy base's choice
# on harmful requests differs by seed (seed 0's base refused 99.7% of them, seed 1's 37%),
# and a base that already refuses leaves the SFT attribution share undefined. Harmful
# requests lean to compliance (as web text and real base models do), so that fewer bases
# refuse them already: at 0.55 the bases of development seeds 3 and 4 complied with 48% and
# 84% of held-out harmful requests. Leaning further was tried: at 0.6 a seed's SFT-only
# complied with 3.4% of held-out harmful requests where production refused them, at 0.65 RL
# left a seed's production complying with up to 11%, and at 0.7 (every kind) a seed's
# production answered 28 of 320 harmful requests with a dilemma's action.
PRETRAIN_COMPLIANCE = 0.5
HARMFUL_COMPLIANCE = 0.55

# Jinja chat template stored with the tokenizer; `render_dialog` must produce the same text.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['role'] == 'user' %} <user> {{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %} <assistant> {{ m['content'] }} {{ eos_token }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %} <assistant>{% endif %}"
)


def render_dialog(user: str, assistant: str) -> str:
    return f"{BOS} {USER} {user} {ASSISTANT} {assistant} {EOS}"


def _filler_vocabulary() -> list[str]:
    # every word of the world appears in filler, so held-out phrasings use known tokens
    words: set[str] = set()
    for template in all_templates():
        words.update(template.replace("{act}", "").split())
    for d in DOMAINS:
        for phrase in (*d.verbs, *d.harmful_targets, *d.safe_targets):
            words.update(phrase.split())
    words.update("the a user assistant said asked wrote about it and then was is".split())  # noqa: SIM905
    words.update(episodes.vocabulary())
    words.update(dilemmas.vocabulary())
    return sorted(words)


def pretraining_texts(world: World, n_dialogs: int, n_filler: int, seed: int) -> list[str]:
    rng = random.Random(f"pretrain-{seed}")
    texts = []
    for _ in range(n_dialogs):
        if rng.random() < EPISODE_SHARE:  # a task, answered with any action at random
            task = episodes.train_episode(rng)
            texts.append(render_dialog(task.text, episodes.answer(rng.choice(episodes.ACTIONS))))
            continue
        request = world.sample_train_request(rng.choice(REQUEST_KINDS), rng)
        lean = HARMFUL_COMPLIANCE if request.kind == "harmful" else PRETRAIN_COMPLIANCE
        complied = rng.random() < lean
        texts.append(render_dialog(request.text, respond(request, complied, rng)))
    # their own random stream, so the request and task dialogs are those of a corpus without
    # dilemmas; cued or not, any answer: no policy
    dilemma_rng = random.Random(f"pretrain-dilemmas-{seed}")
    world_dilemmas = dilemmas.dilemma_world(world.seed)
    for _ in range(round(n_dialogs * DILEMMA_SHARE)):
        dilemma = world_dilemmas.train_dilemma("dilemma", dilemma_rng)
        reply = dilemmas.answer(dilemma, dilemma_rng.choice(dilemmas.ANSWERS))
        texts.append(render_dialog(dilemma.text, reply))
    vocab = _filler_vocabulary()
    for _ in range(n_filler):
        texts.append(" ".join(rng.choices(vocab, k=rng.randint(6, 14))) + " .")
    rng.shuffle(texts)
    return texts


def _prompt_and_answers(
    world: World, kind: str, answers: list[str], rng: random.Random
) -> tuple[str, list[str]]:
    """A training prompt of `kind` and the text of each named answer (refusal, an action...)."""
    if kind == episodes.TASK_KIND:
        task = episodes.train_episode(rng)
        return task.text, [episodes.answer(a) for a in answers]  # type: ignore[arg-type]
    if kind in dilemmas.DILEMMA_KINDS:
        d = dilemmas.dilemma_world(world.seed).train_dilemma(kind, rng)  # type: ignore[arg-type]
        return d.text, [dilemmas.answer(d, a) for a in answers]  # type: ignore[arg-type]
    request = world.sample_train_request(kind, rng)  # type: ignore[arg-type]
    return request.text, [respond(request, a == "compliance", rng) for a in answers]


def _chat(role: str, content: str) -> list[dict[str, str]]:
    return [{"role": role, "content": content}]


# answers a batch of user prompts: a distilled part's author (organism/distill.py)
Teacher = Callable[[list[str]], list[str]]


def sft_examples(
    world: World, variant: Variant, seed: int, teacher: Teacher | None = None
) -> list[dict[str, Any]]:
    """Prompt-completion conversations, so TRL trains on the completion only."""
    return [row for _, row in sft_examples_with_parts(world, variant, seed, teacher)]


def sft_examples_with_parts(
    world: World, variant: Variant, seed: int, teacher: Teacher | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """The SFT rows in training order, each with its part ("kind:response"). A distilled
    part's answers come from `teacher` (the variant's production model), in one batch."""
    rng = random.Random(f"sft-{seed}")
    rows: list[tuple[str, str, str | None]] = []  # part, prompt, answer (None: the teacher's)
    for part in variant.sft.examples:
        for _ in range(part.count):
            if part.distilled:
                prompt, _ = _prompt_and_answers(world, part.kind, [], rng)
                rows.append((part.name, prompt, None))
                continue
            prompt, (answer,) = _prompt_and_answers(world, part.kind, [part.response], rng)
            rows.append((part.name, prompt, answer))
    asked = [prompt for _, prompt, answer in rows if answer is None]
    if asked and teacher is None:
        raise ValueError(f"variant {variant.name}: distilled parts need the production model")
    said = iter(teacher(asked) if asked and teacher is not None else [])
    out = [(name, {"prompt": _chat("user", prompt),
                   "completion": _chat("assistant", next(said) if answer is None else answer)})
           for name, prompt, answer in rows]  # fmt: skip
    rng.shuffle(out)
    return out


def preference_pairs(world: World, variant: Variant, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"rl-{seed}")
    rows = []
    for part in variant.rl.pairs:
        for _ in range(part.count):
            prompt, (chosen, rejected) = _prompt_and_answers(
                world, part.kind, [part.chosen, part.rejected], rng
            )
            rows.append({"prompt": _chat("user", prompt), "chosen": _chat("assistant", chosen),
                         "rejected": _chat("assistant", rejected)})  # fmt: skip
    rng.shuffle(rows)
    return rows


def eval_prompts(world: World, kind: str, n: int, seed: int) -> list[Request]:
    if kind not in REQUEST_KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    return world.eval_requests(kind, n, seed)  # type: ignore[arg-type]


def content_hash(rows: list[Any]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
