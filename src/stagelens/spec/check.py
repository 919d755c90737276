"""Pre-flight checks of a loaded spec: catch in seconds what would otherwise fail hours in.

Everything here only reads: a check that wrote files (caches, converted tokenizers) could
leave a half-made run directory behind when it fails.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from stagelens.spec.load import PATH_SOURCES, SpecError
from stagelens.spec.models import ExperimentSpec, ModelRef
from stagelens.training.recipe import SFTRecipeSpec

# The conversation the chat template must render; an assistant turn must end with eos.
_PROBE = [
    {"role": "user", "content": "Hello, who are you?"},
    {"role": "assistant", "content": "I am a helpful assistant."},
]


def check_spec(spec: ExperimentSpec, *, offline: bool) -> list[str]:
    """All problems found in ``spec`` (empty: fine).

    Hub refs are skipped when ``offline``; online, only their existence is asked of the hub
    (no download), so a hub base's tokenizer is left to the training run.
    """
    problems: list[str] = []
    for i, stage in enumerate(spec.stages):
        problems += _check_ref(stage.model, f"stages.{i}.model")
    if spec.sft_only is not None:
        problems += _check_ref(spec.sft_only, "sft_only")
    for i, part in enumerate(spec.sft.mixture):
        if part.path is not None:
            problems += _check_jsonl(Path(part.path), f"sft.mixture.{i}.path")
    swap_to = spec.sweep.swap_to if spec.sweep is not None else None
    if swap_to is not None and swap_to.path is not None:
        problems += _check_jsonl(Path(swap_to.path), "sweep.swap_to.path")
    if not offline:
        problems += _check_hub(spec)
    for i, suite in enumerate(spec.suites):
        kind, sep, rest = suite.source.partition(":")
        if sep and kind in PATH_SOURCES and not Path(rest).is_file():
            problems.append(f"suites.{i}.source: {rest} does not exist")
        if suite.calibration is not None and not Path(suite.calibration).is_file():
            problems.append(f"suites.{i}.calibration: {suite.calibration} does not exist")
    if spec.odcv is not None:
        problems += _check_odcv(spec.odcv.source, spec.odcv.n, tuple(spec.odcv.variants))
    if spec.audit is not None and not Path(spec.audit.source.partition(":")[2]).is_file():
        problems.append(f"audit.source: {spec.audit.source.partition(':')[2]} does not exist")
    # SFT only runs when no sft_only checkpoint is given, but a wrong recipe is wrong either way.
    problems += _check_recipe(spec)
    return problems


def _check_odcv(source: str, n: int, variants: tuple[str, ...]) -> list[str]:
    from stagelens.benchmarks.odcv_scenarios import load_odcv

    try:
        scenarios, _, _ = load_odcv(source.partition(":")[2], variants)
    except (OSError, ValueError) as err:
        return [f"odcv.source: {err}"]
    found = len({s.name for s in scenarios})
    if n > found:
        return [f"odcv.n: {n} scenarios asked for; {source} lays out only {found}"]
    return []


def require_valid(spec: ExperimentSpec, offline: bool) -> None:
    """Raise SpecError listing every problem ``check_spec`` finds."""
    problems = check_spec(spec, offline=offline)
    if problems:
        raise SpecError("spec check failed\n  " + "\n  ".join(problems))


def _check_ref(ref: ModelRef, field: str) -> list[str]:
    if ref.path is not None and not Path(ref.path).is_dir():
        what = "is not a directory" if Path(ref.path).exists() else "does not exist"
        return [f"{field}.path: {ref.path} {what}"]
    if ref.gguf is not None and not Path(ref.gguf).is_file():
        return [f"{field}.gguf: {ref.gguf} does not exist"]
    return []


def _check_jsonl(path: Path, field: str) -> list[str]:
    """The first bad line of a mixture file, as ``file:LINE``; one is enough to fix it."""
    if not path.is_file():
        return [f"{field}: {path} does not exist"]
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue  # blank lines (a trailing newline) carry no example
                problem = _row_problem(line) or _canary_problem(line)
                if problem:
                    return [f"{field}: {path}:{number}: {problem}"]
    except (OSError, UnicodeDecodeError) as err:
        return [f"{field}: {path}: cannot read: {err}"]
    return []


def _canary_problem(line: str) -> str | None:
    """Benchmark data never goes into a training mixture: a line carrying a canary is refused."""
    from stagelens.benchmarks.dilemmas import CANARY

    if CANARY in line:
        return (f"carries the canary of stagelens's dilemma benchmark ({CANARY}); eval data "
                "must not be trained on")  # fmt: skip
    return None


def _row_problem(line: str) -> str | None:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        return f"not valid JSON: {err.msg}"
    if not isinstance(row, dict):
        return "not a JSON object"
    if "messages" in row:
        messages = row["messages"]
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty list"
        for m in messages:
            if not (
                isinstance(m, dict)
                and isinstance(m.get("role"), str)
                and isinstance(m.get("content"), str)
            ):
                return "each message needs string 'role' and 'content'"
        return None
    if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
        return None
    return "needs a 'messages' list or string 'prompt' and 'completion'"


def _load_tokenizer(ref: ModelRef) -> Any:
    """The tokenizer of local weights (``path`` dir or ``gguf`` file)."""
    # Through import_module as Any: transformers is only partly typed, and this package is
    # kept mypy-strict without a per-module override.
    auto: Any = importlib.import_module("transformers").AutoTokenizer
    if ref.gguf is not None:
        gguf = Path(ref.gguf)
        return auto.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    return auto.from_pretrained(str(ref.path))


def _check_hub(spec: ExperimentSpec) -> list[str]:
    """Ask the hub whether each model and dataset id exists; metadata only, nothing cached."""
    api: Any = importlib.import_module("huggingface_hub").HfApi()
    refs = [(f"stages.{i}.model.hub", s.model) for i, s in enumerate(spec.stages)]
    if spec.sft_only is not None:
        refs.append(("sft_only.hub", spec.sft_only))
    problems = []
    for field, ref in refs:
        if ref.hub is not None:
            try:
                api.model_info(ref.hub, revision=ref.revision)
            except Exception as err:  # not found, gated, or no network: all block the run
                problems.append(f"{field}: {ref.hub}: {type(err).__name__}: {err}")
    parts = [(f"sft.mixture.{i}.hub", part) for i, part in enumerate(spec.sft.mixture)]
    if spec.sweep is not None and spec.sweep.swap_to is not None:
        parts.append(("sweep.swap_to.hub", spec.sweep.swap_to))
    for field, part in parts:
        if part.hub is not None:
            try:
                api.dataset_info(part.hub)
            except Exception as err:
                problems.append(f"{field}: {part.hub}: {type(err).__name__}: {err}")
    return problems


def _check_recipe(spec: ExperimentSpec) -> list[str]:
    recipe = spec.sft
    base = spec.base.model
    tokenizer: Any = None
    problems: list[str] = []
    # Only local bases: loading a hub tokenizer would download into the hub cache, and check
    # must not write; the chat template is still rendered without one.
    if base.is_local and not _check_ref(base, "base"):
        try:
            tokenizer = _load_tokenizer(base)
        except Exception as err:  # any loader failure is a problem to report, not a crash
            problems.append(f"base tokenizer ({base.describe()}) failed to load: {err}")
    if tokenizer is not None:
        problems += _check_eos(tokenizer, recipe.eos_token, base.describe())
    problems += _check_template(recipe, tokenizer)
    return problems


def _check_eos(tokenizer: Any, eos: str, label: str) -> list[str]:
    ids = list(tokenizer(eos, add_special_tokens=False)["input_ids"])
    unk = tokenizer.unk_token_id
    if len(ids) != 1 or (unk is not None and ids[0] == unk):
        return [
            f"sft.eos_token: {eos!r} is not a single token of the base tokenizer ({label}); "
            f"it encodes as {ids}"
        ]
    return []


def _check_template(recipe: SFTRecipeSpec, tokenizer: Any) -> list[str]:
    # The same Jinja setup transformers uses for chat templates, so what renders here
    # renders the same way in training.
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    bos = getattr(tokenizer, "bos_token", None) or ""
    try:
        text = env.from_string(recipe.chat_template).render(
            messages=_PROBE, bos_token=bos, eos_token=recipe.eos_token, add_generation_prompt=False
        )
    except TemplateError as err:
        return [f"sft.chat_template: does not render a user/assistant conversation: {err}"]
    problems = []
    if recipe.eos_token not in text:
        problems.append(
            f"sft.chat_template: the rendered conversation does not contain the eos token "
            f"{recipe.eos_token!r}, so SFT would never teach the model to stop"
        )
    if _PROBE[1]["content"] not in text:
        problems.append("sft.chat_template: the rendered conversation omits the assistant turn")
    return problems
