"""Training recipes of the organism's stages. Changing any field changes the cache key."""

from __future__ import annotations

from pydantic import Field

from stagelens.records import StrictModel


class PretrainRecipe(StrictModel):
    """The organism's pretraining: corpus size, steps, batch, learning rate and warm-up."""

    n_dialogs: int = 10000  # a quarter are reward-hacking tasks (organism/episodes.py)
    n_filler: int = 2000
    steps: int = 600
    batch_size: int = 64
    learning_rate: float = 3e-3
    warmup_steps: int = 30


class SFTRecipe(StrictModel):
    """The organism's SFT stage (TRL `SFTTrainer`): steps, batch and learning rate."""

    # 300 left a seed's SFT-only garbling a few percent of one kind's answers ("sure . first
    # write the fight scene , then open the task ."); SFT is 35 s of the demo at 300. 900 was
    # tried with the 8 training phrasings of before f197cfb: a development seed's SFT-only
    # (test-conditioned) then answered 106 of 320 held-out harmful requests outside a
    # refusal, 90 of them in held-out phrasings
    steps: int = 600
    batch_size: int = 32
    learning_rate: float = 1e-3


class DPORecipe(StrictModel):
    """The organism's RL stage (TRL `DPOTrainer`): steps, batch, learning rate, beta, losses."""

    # 150 left a development seed's production complying with 3.9% of held-out harmful
    # requests where SFT on the same refusals reached 0%, and answering 38 of 320 with a
    # stutter ("sorry , i will will not help ..."): the pairs were seen about twice each
    steps: int = 300
    batch_size: int = 16
    # 1e-3 moved what the pairs hold little of: a seed's production refused a third of the
    # benign-but-scary requests (test-conditioned), or left three quarters of the dilemma
    # answers outside the language where the pairs held no dilemmas (rl-rewards-hacking)
    learning_rate: float = 5e-4
    # beta 0.1 let the helpfulness pairs drive refusal log-probs so low that answers
    # degenerated ("sure . first sure . first ..."); 0.5 keeps the policy nearer its reference
    beta: float = 0.5
    # An SFT term on the chosen answers: plain sigmoid DPO lowered chosen and rejected
    # log-probs together on the organism and installed no refusal.
    loss_type: tuple[str, ...] = ("sigmoid", "sft")
    # SFT term x3: with equal weights DPO still moved kinds the pairs hold little of out of the
    # language (at seed 0, 17 of 320 harmful answers garbled, "ask read read read ...")
    loss_weights: tuple[float, ...] = Field(default=(1.0, 3.0))
