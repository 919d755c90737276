"""The package's import structure: no cycles between modules, and layers that only point down.

Every module under src/stagelens is parsed with `ast` (nothing is imported), and every
`import` / `from ... import` in it is an edge of the module graph, wherever it stands: at the
top, inside a function (a deferred import) or under `if TYPE_CHECKING:`. A deferred import
still makes the importing code depend on the imported one; hiding an upward dependency in a
function does not make it go away.

An edge points at the module named: `from stagelens.a.b import c` is an edge to
`stagelens.a.b.c` when that is a module, else to `stagelens.a.b`. The parent packages that
Python initialises on the way are not edges: with them, every package whose `__init__`
re-exports its submodules would form a cycle with each of them. No other exception is made.

The layers are declared in `LAYERS`, lowest first. A module may import modules of its own
package and of packages in lower layers only; packages in the same layer are independent.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "stagelens"

# Lowest first. A package (or top-level module) of stagelens is in exactly one layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    # import nothing of stagelens: the root package, user errors, the shared record types
    # and strict model base, the progress callback type
    ("stagelens", "errors", "records", "progress"),
    # pure statistics (and the expectation check on their results); TOML inputs with
    # file:line errors
    ("stats", "toml_errors"),
    # the sandbox, training (recipes, checkpoint cache, TRL stages), benchmark prompt files
    ("sandbox", "training", "benchmarks"),
    # the model organism (trained with `training`); the reward-hacking environment (run in
    # the sandbox)
    ("organism", "environments"),
    # raters, LLM judges and calibration (the organism's rater reads the organism's language)
    ("raters",),
    # the Inspect tasks: prompts, raters and environments put together
    ("suites",),
    # running suites on stages, experiment specs, the run record and its report
    ("evaluate", "spec", "report"),
    # the pipelines: demo, spec run, rescore
    ("experiment",),
    # entry points, imported by nothing of stagelens: the command line and Inspect's plugin
    ("cli", "_registry"),
)


@dataclass(frozen=True)
class Edge:
    """One import: `source` imports `target`, at `path`:`line`."""

    source: str
    target: str
    path: str
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}: {self.source} imports {self.target}"


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its name, not `__init__`)."""
    modules = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """`name` if it is a module, else its longest prefix that is; None outside stagelens."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: Mapping[str, Path]) -> list[Edge]:
    """Every import of stagelens modules in `path`, at any depth of its syntax tree."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    rel = str(path.relative_to(SRC.parent)) if path.is_relative_to(SRC.parent) else str(path)
    edges = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from pkg import submodule` imports the submodule; `from mod import name`, mod
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                for alias in node.names
            ]
        for target in targets:
            known = _known(target, modules) if target.split(".")[0] == ROOT else None
            if known is not None and known != module:
                edges.append(Edge(module, known, rel, node.lineno))
    return sorted(set(edges), key=lambda e: (e.line, e.target))


def import_graph(src: Path = SRC) -> dict[str, list[Edge]]:
    """Module -> its imports of other stagelens modules."""
    modules = module_files(src)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: Mapping[str, Iterable[Edge]]) -> list[tuple[list[Edge], set[str]]]:
    """Each strongly connected component of the graph (modules that import each other,
    directly or not), with one concrete cycle through it as its edges."""
    out: dict[str, list[Edge]] = {n: list(e) for n, e in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in out.get(node, []):
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(out):
        if node not in index:
            visit(node)
    return [(_one_cycle(out, component), component) for component in components]


def _one_cycle(graph: Mapping[str, list[Edge]], component: set[str]) -> list[Edge]:
    """The shortest way round from the component's first module back to it."""
    start = min(component)
    came: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in graph.get(node, []):
            if edge.target not in component:
                continue
            if edge.target == start:
                path = [edge]
                while path[0].source != start:
                    path.insert(0, came[path[0].source])
                return path
            if edge.target not in came:
                came[edge.target] = edge
                queue.append(edge.target)
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")  # pragma: no cover


def unit(module: str) -> str:
    """The layer unit of a module: its top-level package or module under stagelens."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_violations(
    graph: Mapping[str, Iterable[Edge]], layers: tuple[tuple[str, ...], ...] = LAYERS
) -> list[str]:
    """An explanation for every import that does not point to a lower layer."""
    rank = {name: i for i, layer in enumerate(layers) for name in layer}
    problems = []
    for edges in graph.values():
        for edge in edges:
            a, b = unit(edge.source), unit(edge.target)
            if a == b:
                continue
            if a not in rank or b not in rank:
                missing = sorted({a, b} - set(rank))
                problems.append(f"{edge.where()}: {missing} not in LAYERS; add them to a layer")
            elif rank[b] == rank[a]:
                problems.append(
                    f"{edge.where()}: {a!r} and {b!r} are both in layer {rank[a]}, and packages "
                    "of one layer are independent"
                )
            elif rank[b] > rank[a]:
                problems.append(
                    f"{edge.where()}: {a!r} (layer {rank[a]}) may not import {b!r} (layer "
                    f"{rank[b]}); move what it needs down, or let the higher layer pass it in"
                )
    return problems


def _explain_cycle(cycle: list[Edge], component: set[str]) -> str:
    among = f" (one of the cycles among {len(component)} modules: {', '.join(sorted(component))})"
    return "import cycle" + among + ":\n    " + "\n    ".join(edge.where() for edge in cycle)


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "\n".join(_explain_cycle(*c) for c in found)


def test_layers_only_point_down() -> None:
    problems = layer_violations(import_graph())
    assert not problems, f"{len(problems)} imports break the layers:\n" + "\n".join(problems)


def test_every_package_has_a_layer() -> None:
    units = {unit(m) for m in module_files()}
    declared = [name for layer in LAYERS for name in layer]
    assert len(declared) == len(set(declared)), f"a unit is in two layers: {declared}"
    assert units == set(declared), (
        f"not in LAYERS: {sorted(units - set(declared))}; "
        f"in LAYERS but not in src: {sorted(set(declared) - units)}"
    )


def test_every_kind_of_import_is_an_edge(tmp_path: Path) -> None:
    package = tmp_path / ROOT
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low" / "__init__.py").write_text("")
    (package / "low" / "a.py").write_text("X = 1\n")
    (package / "low" / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import a\n"  # relative, a submodule
        "if TYPE_CHECKING:\n"
        "    from stagelens.high import h\n"
        "def f():\n"
        "    import stagelens.errors\n"  # deferred; a name outside the package's modules
        "    from ..high.h import Y\n"
    )
    (package / "high").mkdir()
    (package / "high" / "__init__.py").write_text("")
    (package / "high" / "h.py").write_text("import os\nfrom stagelens.low.b import f\nY = 2\n")
    modules = module_files(tmp_path)
    edges = imports_of("stagelens.low.b", modules["stagelens.low.b"], modules)
    assert [(e.target, e.line) for e in edges] == [
        ("stagelens.low.a", 2),
        ("stagelens.high.h", 4),
        ("stagelens", 6),
        ("stagelens.high.h", 7),
    ]


def _edge(source: str, target: str, line: int = 1) -> Edge:
    return Edge(source, target, f"{source}.py", line)


def test_a_cycle_is_reported_with_every_edge() -> None:
    graph = {
        "stagelens.a.x": [_edge("stagelens.a.x", "stagelens.b.y", 3)],
        "stagelens.b.y": [_edge("stagelens.b.y", "stagelens.a.x", 7)],
        "stagelens.c": [_edge("stagelens.c", "stagelens.a.x")],
    }
    ((cycle, component),) = cycles(graph)
    assert component == {"stagelens.a.x", "stagelens.b.y"}
    text = _explain_cycle(cycle, component)
    assert "stagelens.a.x.py:3: stagelens.a.x imports stagelens.b.y" in text
    assert "stagelens.b.y.py:7: stagelens.b.y imports stagelens.a.x" in text
    assert cycles({"stagelens.c": [_edge("stagelens.c", "stagelens.a.x")]}) == []


@pytest.mark.parametrize(
    ("source", "target", "says"),
    [
        ("stagelens.low.m", "stagelens.high.m", "'low' (layer 0) may not import 'high' (layer 1)"),
        ("stagelens.low.m", "stagelens.peer.m", "both in layer 0"),
        ("stagelens.low.m", "stagelens.nowhere", "['nowhere'] not in LAYERS"),
    ],
)
def test_a_layer_violation_names_the_import(source: str, target: str, says: str) -> None:
    layers = (("low", "peer"), ("high",))
    graph = {source: [_edge(source, target, 12)]}
    (problem,) = layer_violations(graph, layers)
    assert problem.startswith(f"{source}.py:12: {source} imports {target}: ") and says in problem


def test_downward_and_inner_imports_are_allowed() -> None:
    layers = (("low",), ("high",))
    graph = {
        "stagelens.high.m": [_edge("stagelens.high.m", "stagelens.low.x")],
        "stagelens.low.x": [_edge("stagelens.low.x", "stagelens.low.y")],
    }
    assert layer_violations(graph, layers) == []
