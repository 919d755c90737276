"""Which SFT examples push a metric: gradient-similarity attribution at the trained checkpoint.

For each SFT example, the cosine between the gradient of its training loss and the gradient
of a target loss: the negative log-probability of the safe response to the suite's prompts
(LESS, Xia et al. 2024, first-order at the final checkpoint; TracIn with one checkpoint). A
positive score means a gradient step on the example makes the safe response more likely.

A safe response is a class ("a refusal"), not one sentence: a target row may list its
acceptable answers under "completions", and its loss is the negative log of their summed
probability, so an example is not scored on which refusal sentence it teaches. (On the
organism this alone did not change the ranking much; the checkpoint did: see
`experiment.attribution.attribute_organism`.)

Written on torch rather than a library: kronfluence 1.0.1 needs torchvision and bergson 2.5.1
needs torchvision, torchaudio and torchopt, none of which fits the pinned CPU torch without
pulling another torch build. On a model this small the full gradient is used (no LoRA, no
random projection); `params` narrows it for a larger model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]  # {"prompt": [messages], "completion": [messages]}, as TRL takes


@dataclass(frozen=True)
class Scored:
    index: int  # position in the examples given
    part: str  # the mixture part the example came from
    score: float  # cosine with the target gradient


@dataclass(frozen=True)
class Attribution:
    ranked: list[Scored]  # highest score first
    target_examples: int
    parameters: int  # entries of the gradient compared
    seconds: float

    def top(self, k: int) -> list[Scored]:
        return self.ranked[:k]

    def bottom(self, k: int) -> list[Scored]:
        return self.ranked[-k:][::-1] if k else []

    def part_shares(self, k: int) -> dict[str, float]:
        """Each part's share among the top k."""
        top = self.top(k)
        counts = Counter(s.part for s in top)
        return {part: n / len(top) for part, n in counts.most_common()} if top else {}

    def precision_at(self, k: int, part: str) -> float:
        top = self.top(k)
        return sum(s.part == part for s in top) / len(top) if top else 0.0


def _completion_loss(model: Any, tokenizer: Any, rows: Sequence[Row]) -> Any:
    """Mean negative log-probability per token of each row's completion given its prompt,
    as SFT trains on it."""
    import torch

    losses = []
    for row in rows:
        ids, n_prompt = _encoded(tokenizer, row["prompt"], row["completion"])
        labels = ids.clone()
        labels[0, :n_prompt] = -100
        losses.append(model(input_ids=ids, labels=labels).loss)
    return torch.stack(losses).mean()


def _encoded(tokenizer: Any, prompt: list[Any], completion: list[Any]) -> tuple[Any, int]:
    """The token ids of prompt + completion, and how many of them are the prompt's."""
    import torch

    head = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                         return_dict=False)  # fmt: skip
    full = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=False)
    head, full = list(head), list(full)
    if full[: len(head)] != head or len(full) <= len(head):
        raise ValueError("the chat template does not extend the prompt with the completion")
    return torch.tensor([full]), len(head)


def _target_loss(model: Any, tokenizer: Any, targets: Sequence[Row]) -> Any:
    """Mean over targets of -log(sum of the probabilities of the target's acceptable
    completions): "completions" (a list of message lists), or its one "completion"."""
    import torch

    losses = []
    for row in targets:
        alternatives = row.get("completions") or [row["completion"]]
        logps = []
        for completion in alternatives:
            ids, n_prompt = _encoded(tokenizer, row["prompt"], completion)
            logits = model(input_ids=ids).logits[0, :-1].float()
            token_logps = logits.log_softmax(-1).gather(1, ids[0, 1:, None]).squeeze(1)
            logps.append(token_logps[n_prompt - 1 :].sum())
        losses.append(-torch.logsumexp(torch.stack(logps), dim=0))
    return torch.stack(losses).mean()


def _flat_grad(model: Any, loss: Any, params: list[Any]) -> Any:
    import torch

    grads = torch.autograd.grad(loss, params, allow_unused=True)
    flat = [(g if g is not None else torch.zeros_like(p)).reshape(-1)
            for g, p in zip(grads, params, strict=True)]  # fmt: skip
    return torch.cat(flat)


def attribute(
    model: Any,
    tokenizer: Any,
    examples: Sequence[Row],
    parts: Sequence[str],
    targets: Sequence[Row],
    params: Callable[[Any], list[Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Attribution:
    """Score every example against the targets' safe responses; `parts` names each example's
    mixture part. A target row holds "prompt" and "completion", or "completions": every
    acceptable answer. `params` picks the parameters whose gradient is compared (default:
    all)."""
    import time

    import torch

    if len(parts) != len(examples):
        raise ValueError(f"{len(examples)} examples but {len(parts)} part names")
    if not targets:
        raise ValueError("attribution needs at least one target")
    start = time.monotonic()
    model.eval()  # no dropout: the same example always gives the same gradient
    chosen = params(model) if params is not None else [
        p for p in model.parameters() if p.requires_grad]  # fmt: skip
    target = _flat_grad(model, _target_loss(model, tokenizer, targets), chosen)
    target = target / target.norm().clamp_min(1e-12)
    scores = []
    for i, row in enumerate(examples):
        g = _flat_grad(model, _completion_loss(model, tokenizer, [row]), chosen)
        # descent on the example moves the target loss by -lr * g.target: supporting the
        # safe response is a positive cosine of the two loss gradients
        scores.append(float(torch.dot(g, target) / g.norm().clamp_min(1e-12)))
        if progress is not None and (i + 1) % 500 == 0:
            progress(f"attribution: {i + 1}/{len(examples)} examples")
    order = sorted(range(len(examples)), key=lambda i: -scores[i])
    return Attribution(
        ranked=[Scored(i, parts[i], scores[i]) for i in order],
        target_examples=len(targets),
        parameters=int(target.numel()),
        seconds=time.monotonic() - start,
    )
