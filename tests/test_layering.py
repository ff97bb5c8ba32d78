"""The package's import structure: no cycles between its parts, and each layer importing only from layers below
it."""
from __future__ import annotations

import ast
from collections import defaultdict

from helpers import REPO

PKG = REPO / "pipeline"
# Lower layers never import from higher ones. Stages may use each other where the data flows that way, but
# never in a cycle (checked separately).
LAYERS = [
    {"records", "util", "resources"},
    {"recipe", "rules", "embed"},
    {"sources", "generate", "filters", "dedupe", "judge", "funnel", "publish", "report", "devtools"},
    {"build", "audit", "starter"},
    {"cli"},
]


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_graph() -> dict[str, dict[str, list[str]]]:
    """part -> imported part -> ["file:line", ...], for every import anywhere in a module (lazy ones included:
    a function-level import is still a dependency)."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(REPO).with_suffix("")
        module = ".".join(rel.parts)
        package = module[: -len(".__init__")] if module.endswith(".__init__") else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                if t.startswith("pipeline.") and _unit(t) != _unit(module):
                    graph[_unit(module)][_unit(t)].append(f"{rel}.py:{node.lineno}")
    return graph


def cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_parts():
    graph = import_graph()
    found = cycles(graph)
    detail = [f"{a} -> {b} ({', '.join(graph[a][b][:2])})" for comp in found for a in comp for b in graph[a]
              if b in comp]
    assert not found, f"import cycles: {found}\n" + "\n".join(detail)


def test_cycle_detector_finds_a_planted_cycle():
    assert cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}) == [["a", "b", "c"]]


def test_layers_import_only_downwards():
    level = {part: i for i, layer in enumerate(LAYERS) for part in layer}
    parts = {p.stem if p.is_file() else p.name for p in PKG.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert parts <= set(level), f"parts with no layer in this test: {sorted(parts - set(level))}"
    graph = import_graph()
    upward = [f"{a} (layer {level[a]}) imports {b} (layer {level[b]}) at {graph[a][b][0]}"
              for a in graph for b in graph[a] if level[b] > level[a]]
    assert not upward, "\n".join(upward)
