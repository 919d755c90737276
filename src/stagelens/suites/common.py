"""What the suites share: prompt sources, the rating scorer, and the single-prompt suite shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState, generate

from stagelens.raters.base import COARSE, UNSCORED, judge_name
from stagelens.raters.metrics import event_rate
from stagelens.raters.registry import get_rater
from stagelens.records import Provenance

SCORER_NAME = "rated"
DEFAULT_MAX_TOKENS = 24  # the organism's longest answer is 17 tokens


@dataclass(frozen=True)
class SuiteInfo:
    """What a suite measures: its name, metric, labels for people, and which events count."""

    name: str
    metric: str
    label: str  # short, for figures and verdict sentences
    description: str
    request_kind: str  # which prompts: "harmful" or "scary"
    event_labels: tuple[str, ...]  # rater labels that count as the (unsafe) event
    judge_event: str  # the event an LLM judge decides for this suite: refusal or compliance
    lower_is_safer: bool = True


PromptSource = Callable[[str, int, int], tuple[list[Sample], Provenance]]
_SOURCES: dict[str, PromptSource] = {}


def register_source(name: str, source: PromptSource) -> None:
    """Make `source` the prompt source called `name`; a name that is already taken raises."""
    if name in _SOURCES:
        raise ValueError(f"a prompt source named {name!r} is already registered")
    _SOURCES[name] = source


def load_prompts(source: str, kind: str, n: int, seed: int) -> tuple[list[Sample], Provenance]:
    """`n` prompts of `kind` from `source` (a registered name, or a benchmark ``name[:location]``)
    as Inspect samples, with the provenance of what was read; unknown sources raise ValueError."""
    if "organism" not in _SOURCES:
        _SOURCES["organism"] = _organism_prompts
    if source in _SOURCES:
        return _SOURCES[source](kind, n, seed)
    if kind == "dilemma":
        return _dilemma_prompts(source, n, seed)
    # real benchmarks: "harmbench", "xstest:/path/to/file.csv", "jsonl:/path", ...
    from stagelens.benchmarks import SOURCES, resolve_source

    if source.split(":", 1)[0] in SOURCES:
        return resolve_source(source, kind, n, seed)
    known = sorted([*_SOURCES, *SOURCES])
    raise ValueError(f"unknown prompt source {source!r}; known: {known}")


def _organism_prompts(kind: str, n: int, seed: int) -> tuple[list[Sample], Provenance]:
    from stagelens.organism.data import content_hash
    from stagelens.organism.stages import GENERATOR, LICENCE
    from stagelens.organism.world import World

    requests = World(seed).eval_requests(kind, n, seed)  # type: ignore[arg-type]
    samples = [
        Sample(
            id=r.id,
            input=r.text,
            metadata={
                "kind": r.kind,
                "domain": r.combo.domain,
                "verb": r.combo.verb,
                "target": r.combo.target,
                "combo_heldout": r.combo_heldout,
                "template_heldout": r.template_heldout,
                # one request in several phrasings: its answers go together (a seed's model
                # complied with "fake a bank check" in three phrasings), so the statistics
                # resample requests, not prompts
                "cluster": f"{r.kind}:{r.combo.act}",
            },
        )
        for r in requests
    ]
    provenance = Provenance(
        name=f"organism held-out {kind} prompts",
        source=GENERATOR,
        licence=LICENCE,
        sha256=content_hash([r.text for r in requests]),
        n=len(requests),
        notes=f"seed {seed}; every prompt has a held-out (verb, target) combination or phrasing",
    )
    return samples, provenance


def _dilemma_prompts(source: str, n: int, seed: int) -> tuple[list[Sample], Provenance]:
    from stagelens.benchmarks.dilemmas import load_dilemmas, select

    dilemmas, provenance = load_dilemmas(source)
    chosen = select(dilemmas, n, seed)
    samples = [Sample(id=d.id, input=d.user, metadata={"theme": d.theme}) for d in chosen]
    return samples, provenance.model_copy(update={"n": len(chosen)})


# Benchmark names registered here, so that a partial failure (a name taken by someone else)
# does not re-register the others on retry: the registry raises on duplicates.
_benchmarks_registered: set[str] = set()


def register_benchmark_sources() -> None:
    """Register every plain benchmark name (``harmbench``, ...) as a prompt source; later calls
    do nothing. `load_prompts` resolves benchmark names without it; registering lists them
    among the sources by name."""
    from stagelens.benchmarks import SOURCES, resolve_source

    def bound(name: str) -> PromptSource:
        def load(kind: str, n: int, seed: int) -> tuple[list[Sample], Provenance]:
            return resolve_source(name, kind, n, seed)

        return load

    for name in SOURCES:
        if name not in _benchmarks_registered:
            register_source(name, bound(name))
            _benchmarks_registered.add(name)


def dataset(source: str, kind: str, n: int, seed: int) -> MemoryDataset:
    """`load_prompts` as an Inspect dataset named after its provenance."""
    samples, provenance = load_prompts(source, kind, n, seed)
    return MemoryDataset(samples, name=provenance.name, location=provenance.source)


@scorer(metrics=[event_rate()], name=SCORER_NAME)
def rated(rater: str, event_labels: list[str]) -> Scorer:
    """Labels the response with a rater; value 1 if the label is an event, 0 if not, and
    unscored (`Score.unscored()`) when the rater returns "unscored"."""
    chosen = get_rater(rater)
    # a binary rater (refusal / compliance) serves a suite whose events include finer
    # labels it cannot tell apart; a rater that can return none of them cannot serve it
    returnable = set(chosen.labels) | {COARSE[x] for x in chosen.labels if x in COARSE}
    if not set(event_labels) & returnable:
        raise ValueError(f"rater {rater!r} never returns any of {sorted(event_labels)}")

    async def score(state: TaskState, target: Target) -> Score:
        label = chosen.classify(state.output.completion)
        answer = state.output.completion
        explanation = f"{chosen.identity.name} v{chosen.identity.version}: {label}"
        metadata = {"label": label, "rater": chosen.identity.name}
        if label == UNSCORED:
            return Score.unscored(answer=answer, explanation=explanation, metadata=metadata)
        event = label in event_labels or COARSE.get(label) in event_labels
        return Score(value=int(event), answer=answer, explanation=explanation, metadata=metadata)

    return score


def suite_scorer(info: SuiteInfo, rater: str, judge: dict[str, Any] | None) -> Scorer:
    """The suite's scorer: a registered rater, or the LLM judge the suite names.

    `rater` is a registered rater's name or ``judge:NAME``; for a judge, `judge` holds its
    settings (`JudgeSettings` fields, as plain data). A mismatch raises ValueError.
    """
    if judge_name(rater) is None:
        if judge is not None:
            raise ValueError(f"judge settings given, but the rater is {rater!r}")
        return rated(rater, list(info.event_labels))
    if judge is None:
        raise ValueError(f"rater {rater!r} needs the judge's settings (task argument 'judge')")
    from stagelens.raters.judges import JudgeSettings

    return JudgeSettings.model_validate(judge).scorer(info.judge_event)


def single_turn_task(
    info: SuiteInfo,
    source: str,
    n: int,
    seed: int,
    rater: str,
    max_tokens: int,
    temperature: float | None = None,
    epochs: int = 1,
    judge: dict[str, Any] | None = None,
) -> Task:
    """One prompt, one answer, rated: the shape of every single-prompt safety suite.

    With `rater="judge:NAME"`, `judge` holds that judge's settings (JudgeSettings fields)
    and an LLM judge (or panel) bound to grader model roles scores the answers.
    """
    return Task(
        dataset=dataset(source, info.request_kind, n, seed),
        solver=generate(),
        scorer=suite_scorer(info, rater, judge),
        config=GenerateConfig(max_tokens=max_tokens, temperature=temperature),
        epochs=epochs,
        name=info.name,
        metadata={"stagelens_suite": info.name, "metric": info.metric},
    )


def single_turn_suite(info: SuiteInfo, doc: str) -> Callable[..., Task]:
    """The Inspect task (registered under ``info.name``) of a single-prompt suite.

    Every single-prompt suite takes the same arguments, which the runner and the spec
    pipeline pass: prompt source, number of prompts, seed, rater, generation settings,
    samples per prompt and, for a judge, its settings. `doc` is the task's description.
    """

    def suite(
        source: str = "organism",
        n: int = 320,
        seed: int = 0,
        rater: str = "organism-exact",
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        samples_per_prompt: int = 1,
        judge: dict[str, Any] | None = None,
    ) -> Task:
        return single_turn_task(
            info, source, n, seed, rater, max_tokens, temperature, samples_per_prompt, judge
        )

    suite.__name__ = suite.__qualname__ = info.name
    suite.__doc__ = doc
    return task(suite)
