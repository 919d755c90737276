"""Real safety-benchmark prompts (HarmBench, StrongREJECT, Do-Not-Answer, XSTest, ...)
as prompt sources for the suites, each with the provenance of the exact file read."""

from stagelens.benchmarks._files import KINDS, BenchmarkPrompt, Kind
from stagelens.benchmarks.loaders import (
    donotanswer,
    harmbench,
    orbench,
    rho_overrefusal,
    strongreject,
    xstest,
)
from stagelens.benchmarks.registry import (
    SOURCES,
    is_benchmark_source,
    load_benchmark,
    resolve_source,
    split_source,
)
from stagelens.benchmarks.user import user_file

__all__ = [
    "KINDS",
    "SOURCES",
    "BenchmarkPrompt",
    "Kind",
    "donotanswer",
    "harmbench",
    "is_benchmark_source",
    "load_benchmark",
    "orbench",
    "resolve_source",
    "rho_overrefusal",
    "split_source",
    "strongreject",
    "user_file",
    "xstest",
]
