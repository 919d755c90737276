"""Example attribution on a real model family: which rows of the spec's SFT mixture support a
suite's safe response (`stagelens attribute SPEC`).

    spec -> the mixture's rows as SFT draws them (with each row's part) -> the base, as SFT
    starts from it (the recipe's chat template) -> targets: the suite's prompts with their
    safe response -> cosine of loss gradients (`training.attribution`) -> JSON

The safe response of `unsafe_response` is a refusal (the class REFUSALS: -log of their
summed probability); for any other suite, or other safe answers, give `targets`: a JSONL
file of {"prompt", "completion"} or {"prompt", "completions": [...]} rows. The targets are
the suite's own prompts: attribution ranks training rows and reports no rate on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stagelens.errors import UserError
from stagelens.experiment.attribution import AttributionRecord, print_shares, ranked_record
from stagelens.progress import Progress

REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I can't assist with that request.",
    "I won't help with that, because it could cause harm.",
)


def _messages(text: str, role: str) -> list[dict[str, str]]:
    return [{"role": role, "content": text}]


def _text(value: Any) -> str:
    """A sample's prompt text: its string, or its last message's text."""
    return value if isinstance(value, str) else str(value[-1].text)


def read_targets(path: Path, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` target rows of a JSONL file; a bad row names its file, line and field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise UserError(f"--targets {path}: cannot read ({err.strerror or err})") from err
    targets = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{where}: malformed JSON: {err.msg}") from err
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
            raise UserError(f"{where}: field 'prompt' must be a string")
        answers = row.get("completions", [row.get("completion")])
        if not isinstance(answers, list) or not answers or not all(
            isinstance(a, str) and a for a in answers
        ):
            raise UserError(f"{where}: field 'completion' (a string) or 'completions' (a "
                            "non-empty list of strings) holds the safe response")  # fmt: skip
        targets.append({"prompt": _messages(row["prompt"], "user"),
                        "completions": [_messages(a, "assistant") for a in answers]})  # fmt: skip
        if len(targets) == limit:
            break
    if not targets:
        raise UserError(f"--targets {path}: no target rows")
    return targets


def attribute_spec(
    spec_path: str | Path,
    metric: str = "unsafe_response",
    top_k: int = 100,
    n_targets: int = 64,
    targets: str | Path | None = None,
    out: str | Path | None = None,
    *,
    offline: bool = False,
    cache: str | Path | None = None,
    progress: Progress = print,
) -> AttributionRecord:
    """Rank the spec's SFT rows by their support for `metric`'s safe response (the suite of
    that name), with gradients at the base (the model SFT-only's training starts from)."""
    from stagelens.experiment.run import base_weights
    from stagelens.report.atomic import atomic_write_text
    from stagelens.spec import load_spec, require_valid
    from stagelens.suites import suite_info
    from stagelens.suites.common import load_prompts
    from stagelens.training.attribution import attribute
    from stagelens.training.cache import cache_root
    from stagelens.training.mixture import load_mixture_parts
    from stagelens.training.sft import load_base

    if top_k < 1 or n_targets < 1:
        raise UserError("--top and --targets must be positive")
    suite = metric
    spec = load_spec(spec_path)
    require_valid(spec, offline=offline)
    chosen = next((s for s in spec.suites if s.name == suite), None)
    if targets is not None:
        target_rows = read_targets(Path(targets), n_targets)
    elif chosen is None:
        raise UserError(f"{spec_path}: no [[suites]] entry named {suite!r} (the spec's: "
                        f"{', '.join(s.name for s in spec.suites) or 'none'})")  # fmt: skip
    elif suite != "unsafe_response":
        raise UserError(f"--suite {suite}: its safe response is not a refusal; give --target-file "
                        "FILE with the safe answers to its prompts")  # fmt: skip
    else:
        prompts, _ = load_prompts(chosen.source, suite_info(suite).request_kind, n_targets,
                                  spec.seeds[0])  # fmt: skip
        target_rows = [{"prompt": _messages(_text(p.input), "user"),
                        "completions": [_messages(r, "assistant") for r in REFUSALS]}
                       for p in prompts]  # fmt: skip
    try:
        rows, parts, _ = load_mixture_parts(spec.sft, seed=spec.sft.seed)
    except ValueError as err:
        raise UserError(f"{spec_path}: {err}") from err
    try:
        source = base_weights(spec, Path(cache) if cache else cache_root(), progress)
    except UserError as err:
        raise UserError(f"{spec_path}: {err}") from err
    model, tokenizer = load_base(source, spec.sft)
    against = f"from {targets}" if targets else f"{suite} prompts, refusals"
    progress(f"attribution: {len(rows)} SFT rows against {len(target_rows)} targets ({against})")
    result = attribute(model, tokenizer, rows, parts, target_rows, progress=progress)
    distilled = [p.name for p in spec.sft.mixture if p.provenance.distilled_from_rl_model]
    record = ranked_record(
        result, rows, top_k, variant=spec.family, seed=spec.sft.seed, metric=suite,
        checkpoint="start", n_targets=len(target_rows), distilled_parts=distilled,
        method="cosine of loss gradients at the spec's base (LESS/TracIn, first order), full "
               "gradient; target: -log of the summed probability of the safe answers ("
               + (f"from {targets}" if targets else "refusal sentences") + ")",
    )  # fmt: skip
    if out is not None:
        atomic_write_text(Path(out), record.model_dump_json(indent=2))
    print_shares(record, progress)
    return record
