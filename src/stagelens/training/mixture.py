"""The SFT mixture of a recipe: read, validate, weight and shuffle its parts.

Every row becomes TRL's conversational prompt-completion format,
``{"prompt": [messages], "completion": [messages]}``, so SFTTrainer puts the loss on
the completion only. A ``{"messages": [...]}`` row is split before its last message,
which must be the assistant's; string prompts and completions become a user and an
assistant message.

Weights, per part (``max_examples`` first keeps the file's first N examples):

- ``total_examples`` set: the part gets ``round(total * weight / sum of weights)`` rows,
  a seeded sample without replacement, or, if the part is smaller than its share, every
  example k or k+1 times (said so in the part's provenance notes);
- ``total_examples`` unset: the part gets ``round(n * weight)`` rows, so weight 2.0 uses
  every example twice and 0.5 a seeded half.

The mixture is then shuffled with the seed; the same recipe and seed give the same rows.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from stagelens.records import Provenance
from stagelens.training.recipe import MixturePart, SFTRecipeSpec

Row = dict[str, Any]


def load_mixture(recipe: SFTRecipeSpec, *, seed: int) -> tuple[list[Row], list[Provenance]]:
    """The shuffled training rows of the mixture, and the provenance of each part."""
    rows, _, provenance = load_mixture_parts(recipe, seed=seed)
    return rows, provenance


def load_mixture_parts(
    recipe: SFTRecipeSpec, *, seed: int
) -> tuple[list[Row], list[str], list[Provenance]]:
    """As `load_mixture`, with the name of each row's part (attribution's shares need it)."""
    parts = [_read_part(part) for part in recipe.mixture]
    weight_sum = sum(part.weight for part in recipe.mixture)
    tagged: list[tuple[str, Row]] = []
    provenance: list[Provenance] = []
    for part, (examples, sha256) in zip(recipe.mixture, parts, strict=True):
        if recipe.total_examples is not None:
            want = round(recipe.total_examples * part.weight / weight_sum)
        else:
            want = round(len(examples) * part.weight)
        chosen, how = _draw(examples, want, random.Random(f"{seed}:{part.name}"))
        tagged.extend((part.name, row) for row in chosen)
        provenance.append(_provenance(part, sha256, len(examples), len(chosen), how))
    if not tagged:
        raise ValueError("the SFT mixture is empty: every part's weighted share rounds to 0 rows")
    random.Random(seed).shuffle(tagged)
    return [row for _, row in tagged], [name for name, _ in tagged], provenance


def _draw(examples: list[Row], want: int, rng: random.Random) -> tuple[list[Row], str]:
    """`want` rows of `examples`: a sample if there are enough, else each used k or k+1 times."""
    if want <= len(examples):
        how = "all examples" if want == len(examples) else "seeded sample without replacement"
        return rng.sample(examples, want), how
    repeats, rest = divmod(want, len(examples))
    how = f"upsampled with replacement: each example used {repeats} or {repeats + 1} times"
    if rest == 0:
        how = f"upsampled with replacement: each example used {repeats} times"
    return examples * repeats + rng.sample(examples, rest), how


def _provenance(
    part: MixturePart, sha256: str | None, available: int, used: int, how: str
) -> Provenance:
    rl = part.provenance.distilled_from_rl_model
    notes = [
        f"weight {part.weight}",
        f"{available} examples read"
        + (f" (max_examples {part.max_examples})" if part.max_examples else ""),
        f"{used} used ({how})",
        f"distilled_from_rl_model: {'unknown' if rl is None else rl}",
        f"declared source: {part.provenance.source}",
    ]
    if part.provenance.notes:
        notes.append(part.provenance.notes)
    return Provenance(
        name=part.name,
        source=part.path if part.path is not None else f"{part.hub} (split {part.split})",
        licence=part.provenance.licence,
        sha256=sha256,
        n=used,
        notes="; ".join(notes),
    )


def _read_part(part: MixturePart) -> tuple[list[Row], str | None]:
    """The part's examples (max_examples applied) and the sha256 of its file (None for the hub)."""
    if part.path is not None:
        file = Path(part.path)
        try:
            data = file.read_bytes()
        except OSError as err:
            raise ValueError(f"mixture part {part.name!r}: cannot read {file}: {err}") from err
        examples = []
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{file}:{number}: malformed JSON: {err.msg}") from err
                examples.append(_to_prompt_completion(record, f"{file}:{number}"))
        sha256: str | None = hashlib.sha256(data).hexdigest()
    else:
        examples = [
            _to_prompt_completion(record, f"{part.hub}[{part.split}]:{number}")
            for number, record in enumerate(_hub_rows(part), start=1)
        ]
        sha256 = None
    if part.max_examples is not None:
        examples = examples[: part.max_examples]
    if not examples:
        raise ValueError(f"mixture part {part.name!r} has no examples")
    return examples, sha256


def _hub_rows(part: MixturePart) -> list[Any]:
    try:
        from datasets import load_dataset

        return list(load_dataset(part.hub, split=part.split))
    except Exception as err:
        raise ValueError(
            f"mixture part {part.name!r}: cannot load hub dataset {part.hub!r} "
            f"(split {part.split!r}): {err}"
        ) from err


def _to_prompt_completion(record: Any, where: str) -> Row:
    """One example in TRL's conversational prompt-completion format, or a ValueError at `where`."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if "messages" in record:
        if "prompt" in record or "completion" in record:
            raise ValueError(f"{where}: give either 'messages' or 'prompt'+'completion', not both")
        messages = _messages(record["messages"], where, "messages")
        if len(messages) < 2 or messages[-1]["role"] != "assistant":
            raise ValueError(
                f"{where}: field 'messages' must hold at least 2 messages and end with an "
                "assistant message (the completion trained on)"
            )
        return {"prompt": messages[:-1], "completion": messages[-1:]}
    for name in ("prompt", "completion"):
        if name not in record:
            raise ValueError(f"{where}: missing field '{name}' (or give 'messages')")
    return {
        "prompt": _turns(record["prompt"], where, "prompt", "user"),
        "completion": _turns(record["completion"], where, "completion", "assistant"),
    }


def _turns(value: Any, where: str, field: str, role: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return _messages(value, where, field)


def _messages(value: Any, where: str, field: str) -> list[dict[str, str]]:
    """A non-empty list of {role, content} strings; other message keys are dropped."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: field '{field}' must be a non-empty list of messages")
    messages = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise ValueError(
                f"{where}: field '{field}[{i}]' must be an object with role and content"
            )
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise ValueError(f"{where}: field '{field}[{i}].{key}' must be a string")
        messages.append({"role": message["role"], "content": message["content"]})
    return messages
