"""Benchmark prompt sources for the suites: ``name[:location]`` -> Inspect samples.

``resolve_source`` does the work; the suites' ``load_prompts`` calls it for any source whose
name is one of ``SOURCES`` (``"harmbench"``, ``"xstest:/path/to/file.csv"``, ...).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from inspect_ai.dataset import Sample

from stagelens.benchmarks._files import BenchmarkPrompt, Kind, parse_kind
from stagelens.benchmarks.hub import hub_dataset
from stagelens.benchmarks.loaders import (
    donotanswer,
    harmbench,
    orbench,
    rho_overrefusal,
    strongreject,
    xstest,
)
from stagelens.benchmarks.user import user_file
from stagelens.benchmarks.userlogs import userlog_prompts
from stagelens.records import Provenance

Loaded = tuple[list[BenchmarkPrompt], Provenance]
# (location or None, requested kind) -> prompts; the kind matters only for user files.
_Loader = Callable[[str | None, Kind], Loaded]


def _needs(name: str, example: str) -> Callable[[str | None], str]:
    def location(loc: str | None) -> str:
        if not loc:
            raise ValueError(f"source {name!r} needs a file: use '{name}:{example}'")
        return loc

    return location


def _no_location(name: str, loc: str | None) -> None:
    if loc:
        raise ValueError(f"source {name!r} reads packaged data and takes no location, got {loc!r}")


def _rho(loc: str | None, kind: Kind) -> Loaded:
    _no_location("rho-overrefusal", loc)
    return rho_overrefusal()


_xstest_path = _needs("xstest", "/path/to/xstest_prompts.csv")
_hard_path = _needs("orbench-hard", "/path/to/or-bench-hard-1k.csv")
_toxic_path = _needs("orbench-toxic", "/path/to/or-bench-toxic.csv")
_jsonl_path = _needs("jsonl", "/path/to/prompts.jsonl")
_csv_path = _needs("csv", "/path/to/prompts.csv")
_userlogs_path = _needs("userlogs", "/path/to/conversations.jsonl")

_LOADERS: dict[str, _Loader] = {
    "harmbench": lambda loc, kind: harmbench(loc or None),
    "strongreject": lambda loc, kind: strongreject(small=False, path=loc or None),
    "strongreject-small": lambda loc, kind: strongreject(small=True, path=loc or None),
    "donotanswer": lambda loc, kind: donotanswer(loc or None),
    "xstest": lambda loc, kind: xstest(_xstest_path(loc)),
    "rho-overrefusal": _rho,
    "orbench-hard": lambda loc, kind: orbench(_hard_path(loc), "hard"),
    "orbench-toxic": lambda loc, kind: orbench(_toxic_path(loc), "toxic"),
    # A user file's records without a "kind" are taken to be the kind the suite asks for:
    # the user chose this file for that suite.
    "jsonl": lambda loc, kind: user_file(_jsonl_path(loc), kind, fmt="jsonl"),
    "csv": lambda loc, kind: user_file(_csv_path(loc), kind, fmt="csv"),
    # Real users' logs: every deduplicated first user turn, taken to be the suite's kind.
    "userlogs": lambda loc, kind: userlog_prompts(_userlogs_path(loc), kind),
    "hf": lambda loc, kind: hub_dataset(
        _needs("hf", "hf:walledai/HarmBench?split=train")(loc), kind
    ),
}

SOURCES: tuple[str, ...] = tuple(_LOADERS)


def split_source(source: str) -> tuple[str, str | None]:
    """``"xstest:/a/b.csv"`` -> ``("xstest", "/a/b.csv")``; ``"harmbench"`` -> (name, None)."""
    # Only the first colon separates: the location may contain colons of its own.
    name, sep, location = source.partition(":")
    if name not in _LOADERS:
        raise ValueError(f"unknown benchmark source {name!r}; known: {list(SOURCES)}")
    return name, (location if sep else None)


def load_benchmark(source: str, kind: str) -> Loaded:
    """All prompts of ``kind`` from ``source``; errors list the kinds the source has."""
    name, location = split_source(source)
    wanted = parse_kind(kind, f"source {name!r}")
    prompts, provenance = _LOADERS[name](location, wanted)
    chosen = [p for p in prompts if p.kind == wanted]
    if not chosen:
        has = sorted({p.kind for p in prompts})
        raise ValueError(f"source {name!r} has no {kind!r} prompts; it has kinds {has}")
    return chosen, provenance


def _select(
    prompts: list[BenchmarkPrompt], name: str, kind: str, n: int, seed: int
) -> list[BenchmarkPrompt]:
    if n > len(prompts):
        raise ValueError(
            f"source {name!r} has only {len(prompts)} {kind!r} prompts; {n} were requested"
        )
    if n <= 0:
        return sorted(prompts, key=lambda p: p.id)
    # A string seed: Random hashes it with sha512, so it is stable across processes
    # (unlike hash()), and names and kinds get independent draws for the same seed.
    chosen = random.Random(f"{name}-{kind}-{seed}").sample(prompts, n)
    return sorted(chosen, key=lambda p: p.id)


def _sample(prompt: BenchmarkPrompt, name: str) -> Sample:
    core = {"kind": prompt.kind, "category": prompt.category, "source": name}
    # Core fields last: a user file's extra column must not overwrite "kind".
    return Sample(id=prompt.id, input=prompt.text, metadata={**prompt.metadata, **core})


def resolve_source(source: str, kind: str, n: int, seed: int) -> tuple[list[Sample], Provenance]:
    """Load ``source`` (``name[:location]``), keep ``kind``, select ``n`` (<= 0: all)."""
    name, _ = split_source(source)
    prompts, provenance = load_benchmark(source, kind)
    chosen = _select(prompts, name, kind, n, seed)
    how = "all" if n <= 0 else f"random.Random('{name}-{kind}-{seed}').sample, sorted by id"
    notes = f"{len(chosen)} of {len(prompts)} {kind} prompts selected ({how}); seed {seed}"
    if provenance.notes:
        notes = f"{notes}; {provenance.notes}"
    provenance = provenance.model_copy(
        update={"name": f"{provenance.name} ({kind})", "n": len(chosen), "notes": notes}
    )
    return [_sample(p, name) for p in chosen], provenance


def is_benchmark_source(source: str) -> bool:
    """Whether ``source`` names a benchmark here (with or without a location)."""
    return source.partition(":")[0] in _LOADERS


__all__ = [
    "SOURCES",
    "is_benchmark_source",
    "load_benchmark",
    "resolve_source",
    "split_source",
]
