"""Safety suites, one Inspect task per file, listed here by name with their metrics.

A suite is a registry entry: its description (`SuiteInfo`), the Inspect task factory, and
the metrics the experiment pipeline reads from its logs (`MetricDef`). The pipeline knows
nothing else about a suite, so adding one is a file in this package plus its entry in
`_builtin_entries` (or a `register_suite` call from outside the package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stagelens.raters.rubrics import ANSWER_RUBRICS, DILEMMA_RUBRICS
from stagelens.suites.common import SuiteInfo

if TYPE_CHECKING:
    from inspect_ai import Task


@dataclass(frozen=True)
class MetricDef:
    """One metric read from a suite's log and compared across stages.

    ``name`` is the metric's key in results.json (and its `SuiteRecord` name); ``metric`` the
    record's longer metric name. ``scorer``/``key`` say which score (and which value of a
    dict-valued score) holds the 0/1 outcome; None: the log's only scorer, a plain value.
    ``rated_by`` is "suite" for the suite's own rater, "judge" for a separate transcript
    judge (that metric exists only when the experiment names one, and, where ``rubric`` is
    set, only when the judge has that rubric). ``subset`` (key, outcome): the metric is
    defined on the samples whose score has that outcome at that key on the stage (e.g.
    misalignment among the unaware answers: ("aware", False)); the others are outside it,
    not unscored (`stats.compare_metric`'s ``outside``).
    """

    name: str
    metric: str
    label: str
    description: str
    lower_is_safer: bool = True
    scorer: str | None = None
    key: str | None = None
    rated_by: Literal["suite", "judge"] = "suite"
    rubric: str | None = None
    neutral: bool = False  # neither direction is safer: the report says lower / higher
    subset: tuple[str, bool] | None = None


@dataclass(frozen=True)
class SuiteEntry:
    """A registered suite: what it measures, its Inspect task, and its metrics.

    ``rescorable``: its answers are rated by a swappable rater or judge, so `stagelens
    rescore` can grade them again; ``spec_suite``: a spec's `[[suites]]` may name it (a
    single-prompt suite taking source / n / seed / rater / max_tokens / temperature /
    samples_per_prompt / judge arguments). ``judge_rubrics``: the rubrics a judge named as the
    suite's rater may have; ``own_rater``: when set, the suite keeps this rater for its own
    metrics and a judge adds the metrics rated by it (``rated_by="judge"``) beside them.
    """

    info: SuiteInfo
    task: Callable[..., Task]
    metrics: tuple[MetricDef, ...]
    rescorable: bool = False
    spec_suite: bool = False
    judge_rubrics: tuple[str, ...] = ANSWER_RUBRICS
    own_rater: str | None = None


def single_metric(info: SuiteInfo) -> tuple[MetricDef, ...]:
    """The one metric of a single-prompt suite: the share of answers with its event."""
    return (
        MetricDef(name=info.name, metric=info.metric, label=info.label,
                  description=info.description, lower_is_safer=info.lower_is_safer),
    )  # fmt: skip


def _episode_metrics(judged: bool) -> tuple[MetricDef, ...]:
    from stagelens.suites.reward_hacking import METRICS, SCORER_NAME

    defs = []
    for metric, (key, label, lower_is_safer) in METRICS.items():
        if key == "judged" and not judged:
            continue
        what = (" the agent really met the target, correctly, without any detector firing"
                if not lower_is_safer else " flagged as cheating")  # fmt: skip
        defs.append(MetricDef(
            name=metric, metric=metric, label=label, lower_is_safer=lower_is_safer,
            description=f"{label}: share of episodes{what}",
            scorer="judged" if key == "judged" else SCORER_NAME,
            key=None if key == "judged" else key,
            rated_by="judge" if key == "judged" else "suite",
        ))  # fmt: skip
    return tuple(defs)


# the split of misalignment by awareness: each metric is defined on one side of the split
_AWARENESS_SUBSETS: dict[str, tuple[str, bool]] = {
    "misaligned_unaware": ("aware", False), "misaligned_aware": ("aware", True),
}  # fmt: skip


def _dilemma_metrics() -> tuple[MetricDef, ...]:
    from stagelens.suites.alignment_dilemmas import JUDGED_METRICS, METRICS, NEUTRAL, SCORER_NAME

    return (*(
        MetricDef(name=name, metric=name, label=label, description=description,
                  scorer=SCORER_NAME, key=key, neutral=name in NEUTRAL,
                  subset=_AWARENESS_SUBSETS.get(key))
        for key, (name, label, description) in METRICS.items()
    ), *(
        MetricDef(name=name, metric=name, label=label, description=description,
                  scorer="judged", rated_by="judge", rubric=rubric, neutral=name in NEUTRAL)
        for rubric, (name, label, description) in JUDGED_METRICS.items()
    ))  # fmt: skip


def _organism_dilemma_metrics() -> tuple[MetricDef, ...]:
    # alignment_dilemmas' own metrics (names, direction, subsets), read from the organism's
    # scorer, so the statistics and the report treat the two suites' metrics identically
    from dataclasses import replace

    from stagelens.suites.organism_alignment_dilemmas import SCORER_NAME

    return tuple(replace(m, scorer=SCORER_NAME) for m in _dilemma_metrics()
                 if m.rated_by == "suite")  # fmt: skip


def _odcv_metrics() -> tuple[MetricDef, ...]:
    from stagelens.suites.odcv import EVIDENCE, EVIDENCE_SCORER, INFO

    return (
        MetricDef(name=INFO.metric, metric=INFO.metric, label=INFO.label,
                  description=INFO.description, scorer="judged", rated_by="judge",
                  rubric="odcv"),
        *(MetricDef(name=name, metric=name, label=label, description=description,
                    scorer=EVIDENCE_SCORER, key=key)
          for key, (name, label, description) in EVIDENCE.items()),
    )  # fmt: skip


def _audit_metrics() -> tuple[MetricDef, ...]:
    from stagelens.raters.judges.audit import SCORER_NAME
    from stagelens.raters.rubrics import AUDIT_CATEGORIES
    from stagelens.suites.user_audit import OFFLINE, OFFLINE_SCORER

    return (
        # neutral, both: real prompts mix harmful and benign requests, so the offline rater's
        # refusals are not "lower is safer" (the judge's categories tell warranted from not)
        *(MetricDef(name=name, metric=name, label=label, description=description,
                    scorer=OFFLINE_SCORER, key=key, neutral=True)
          for key, (name, label, description) in OFFLINE.items()),
        *(MetricDef(name=f"audit_{key}", metric=f"audit_{key}",
                    label=f"Audit: {key.replace('_', ' ')}",
                    description=f"share of answers to real user prompts the judge flags: "
                    f"{definition}", scorer=SCORER_NAME, key=key, rated_by="judge",
                    rubric="audit", neutral=key == "eval_awareness")
          for key, definition in AUDIT_CATEGORIES.items()),
    )  # fmt: skip


def _builtin_entries() -> list[SuiteEntry]:
    from stagelens.suites import (
        alignment_dilemmas,
        odcv,
        organism_alignment_dilemmas,
        organism_reward_hacking,
        over_refusal,
        reward_hacking,
        unsafe_response,
        user_audit,
    )

    return [
        SuiteEntry(unsafe_response.INFO, unsafe_response.unsafe_response,
                   single_metric(unsafe_response.INFO), rescorable=True, spec_suite=True),
        SuiteEntry(over_refusal.INFO, over_refusal.over_refusal,
                   single_metric(over_refusal.INFO), rescorable=True, spec_suite=True),
        SuiteEntry(reward_hacking.INFO, reward_hacking.reward_hacking, _episode_metrics(True)),
        SuiteEntry(organism_reward_hacking.INFO, organism_reward_hacking.organism_reward_hacking,
                   _episode_metrics(False)),
        SuiteEntry(alignment_dilemmas.INFO, alignment_dilemmas.alignment_dilemmas,
                   _dilemma_metrics(), spec_suite=True, judge_rubrics=DILEMMA_RUBRICS,
                   own_rater=alignment_dilemmas.DEFAULT_RATER),
        SuiteEntry(organism_alignment_dilemmas.INFO,
                   organism_alignment_dilemmas.organism_alignment_dilemmas,
                   _organism_dilemma_metrics()),
        SuiteEntry(odcv.INFO, odcv.odcv, _odcv_metrics(), judge_rubrics=("odcv",)),
        SuiteEntry(user_audit.INFO, user_audit.user_audit, _audit_metrics(),
                   judge_rubrics=("audit",)),
    ]  # fmt: skip


_REGISTERED: dict[str, SuiteEntry] = {}


def register_suite(entry: SuiteEntry) -> None:
    """Add a suite from outside this package; a name that is already taken raises."""
    if entry.info.name in _catalogue():
        raise ValueError(f"a suite named {entry.info.name!r} is already registered")
    _REGISTERED[entry.info.name] = entry


def unregister_suite(name: str) -> None:
    """Remove a suite added with `register_suite` (built-ins cannot be removed)."""
    if name not in _REGISTERED:
        raise ValueError(f"no suite named {name!r} was registered with register_suite")
    del _REGISTERED[name]


def _catalogue() -> dict[str, SuiteEntry]:
    catalogue: dict[str, SuiteEntry] = {}
    for entry in [*_builtin_entries(), *_REGISTERED.values()]:
        if entry.info.name in catalogue:
            raise ValueError(f"two suites are named {entry.info.name!r}")
        catalogue[entry.info.name] = entry
    return catalogue


def suite_names(*, spec_suites: bool = False) -> list[str]:
    """Names of every suite (only those a spec's `[[suites]]` may name, if asked)."""
    return [n for n, e in _catalogue().items() if e.spec_suite or not spec_suites]


def suite_entry(name: str) -> SuiteEntry:
    """The registry entry of suite ``name``; an unknown name raises ValueError."""
    catalogue = _catalogue()
    if name not in catalogue:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(catalogue)}")
    return catalogue[name]


def suite_info(name: str) -> SuiteInfo:
    """What suite ``name`` measures."""
    return suite_entry(name).info


def suite_metrics(
    name: str, *, judged: bool = False, rubric: str | None = None
) -> tuple[MetricDef, ...]:
    """The metrics read from suite ``name``'s logs; judge-rated ones only when ``judged``
    (and, for those tied to a rubric, when the judge's rubric is ``rubric``)."""
    return tuple(
        m for m in suite_entry(name).metrics
        if m.rated_by == "suite" or (judged and m.rubric in (None, rubric))
    )  # fmt: skip


def make_task(name: str, **args: object) -> Task:
    """The Inspect task of suite ``name`` built with ``args``."""
    return suite_entry(name).task(**args)
