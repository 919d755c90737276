"""Pretraining of the organism's base model: a plain causal-LM loop over the corpus.

A hand-written loop is used here rather than a Trainer because pretraining a
sub-1M-parameter model on CPU is dominated by per-step overhead; the SFT and RL
stages, which users run on real models too, go through TRL.
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING

from stagelens.progress import Meter, Progress
from stagelens.training.config import PretrainRecipe

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def pretrain(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    recipe: PretrainRecipe,
    seed: int,
    progress: Progress,
) -> tuple[int, float, float]:
    """Train in place; returns (steps, seconds, final loss)."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = [tokenizer(t, add_special_tokens=False).input_ids for t in texts]
    pad = tokenizer.pad_token_id
    optimiser = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < recipe.warmup_steps:
            return (step + 1) / recipe.warmup_steps
        done = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_at)
    model.train()
    start, loss_value = time.monotonic(), float("nan")
    meter = Meter(progress, "pretrain", recipe.steps, unit="steps")
    for _ in range(recipe.steps):
        batch = rng.sample(encoded, recipe.batch_size)
        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
        mask = (input_ids != pad).long()
        labels = input_ids.masked_fill(mask == 0, -100)
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad(set_to_none=True)
        loss_value = float(loss.detach())
        meter.advance(note=f"loss {loss_value:.3f}")
    meter.finish()
    model.eval()
    return recipe.steps, time.monotonic() - start, loss_value
