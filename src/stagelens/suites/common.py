"""What the suites share: prompt sources, the rating scorer, and its metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    metric,
    scorer,
)
from inspect_ai.solver import TaskState, generate

from stagelens.raters.registry import COARSE, JUDGE_PREFIX, UNSCORED, get_rater
from stagelens.report.record import Provenance

SCORER_NAME = "rated"
DEFAULT_MAX_TOKENS = 24  # the organism's longest answer is 17 tokens


@dataclass(frozen=True)
class SuiteInfo:
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
    if name in _SOURCES:
        raise ValueError(f"a prompt source named {name!r} is already registered")
    _SOURCES[name] = source


def load_prompts(source: str, kind: str, n: int, seed: int) -> tuple[list[Sample], Provenance]:
    if "organism" not in _SOURCES:
        _SOURCES["organism"] = _organism_prompts
    if source in _SOURCES:
        return _SOURCES[source](kind, n, seed)
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


def dataset(source: str, kind: str, n: int, seed: int) -> MemoryDataset:
    samples, provenance = load_prompts(source, kind, n, seed)
    return MemoryDataset(samples, name=provenance.name, location=provenance.source)


def _events(scores: list[SampleScore]) -> list[float]:
    return [float(s.score.value) for s in scores if s.score.value != UNSCORED]  # type: ignore[arg-type]


# Both metrics read unreduced scores: Inspect's default epoch reducer (mean) turns the
# "unscored" string into 0.0, which would count an unscored answer as a non-event.
@metric(scores="unreduced")
def event_rate() -> Metric:
    """Share of scored samples with the event; unscored ones are left out, and counted below."""

    def compute(scores: list[SampleScore]) -> float:
        events = _events(scores)
        return sum(events) / len(events) if events else float("nan")

    return compute


@metric(scores="unreduced")
def unscored() -> Metric:
    def compute(scores: list[SampleScore]) -> float:
        return float(len(scores) - len(_events(scores)))

    return compute


@scorer(metrics=[event_rate(), unscored()], name=SCORER_NAME)
def rated(rater: str, event_labels: list[str]) -> Scorer:
    """Labels the response with a rater; value 1 if the label is an event, 0 if not."""
    chosen = get_rater(rater)
    # a binary rater (refusal / compliance) serves a suite whose events include finer
    # labels it cannot tell apart; a rater that can return none of them cannot serve it
    returnable = set(chosen.labels) | {COARSE[x] for x in chosen.labels if x in COARSE}
    if not set(event_labels) & returnable:
        raise ValueError(f"rater {rater!r} never returns any of {sorted(event_labels)}")

    async def score(state: TaskState, target: Target) -> Score:
        label = chosen.classify(state.output.completion)
        event = label in event_labels or COARSE.get(label) in event_labels
        value: str | int = UNSCORED if label == UNSCORED else int(event)
        return Score(
            value=value,
            answer=state.output.completion,
            explanation=f"{chosen.identity.name} v{chosen.identity.version}: {label}",
            metadata={"label": label, "rater": chosen.identity.name},
        )

    return score


def suite_scorer(info: SuiteInfo, rater: str, judge: dict[str, Any] | None) -> Scorer:
    """The suite's scorer: a registered rater, or the LLM judge the suite names."""
    if not rater.startswith(JUDGE_PREFIX):
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
