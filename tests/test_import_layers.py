"""The package's import graph: layers point one way, and no import cycle hides inside a function.

The graph is read from the source (AST), module-level imports and imports inside functions alike,
relative imports resolved. Issue 13 restructures the flat package into layers; this test is the
ratchet: the layers that exist must be respected, every cycle still present is listed by name in
KNOWN_CYCLES (a new cycle fails, and so does a listed one that is gone: remove it from the list), and
every upward edge still present is listed in KNOWN_UPWARD.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "generator"

# Layer packages (bottom first) and which layers each may import (its own layer always).
LAYERS = {"common": set(), "analysis": {"common"}}

# Cycles still to break: each a set of modules forming one strongly connected component (none left).
KNOWN_CYCLES: list[set[str]] = []
# Edges that go the wrong way between existing packages: figures must not import pages (none left).
KNOWN_UPWARD: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported module of the package, line)}; ``from pkg import sub`` counts as ``pkg.sub``."""
    files = {module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for mod, path in files.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in files else target for a in node.names]
            for t in targets:
                if t in files and t != mod:
                    graph[mod].add((t, node.lineno))
        graph.setdefault(mod, set())
    return graph


def cycles(graph) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    succ = {m: sorted({t for t, _ in edges}) for m, edges in graph.items()}
    for root in sorted(succ):
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ[w])))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def layer_of(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # pipeline imports the experiments stage only inside functions
    assert any(t == "generator.experiments" for t, _ in graph["generator.pipeline"])
    # a cycle closed by an import inside a function is found
    graph["generator.experiments"].add(("generator.pipeline", 0))
    assert any({"generator.experiments", "generator.pipeline"} <= c for c in cycles(graph))


def test_no_cycle_but_the_known_ones():
    found = cycles(import_graph())
    new = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not new, f"new import cycle(s): {new}"
    assert not gone, f"cycle(s) broken, remove from KNOWN_CYCLES: {gone}"


def test_layers_import_only_downward():
    bad = []
    for mod, edges in import_graph().items():
        src = layer_of(mod)
        for target, line in edges:
            dst = layer_of(target)
            if src is not None and dst != src and dst not in LAYERS[src]:
                bad.append(f"{mod}:{line} -> {target}")
    assert not bad, "upward or sideways imports:\n" + "\n".join(sorted(bad))


def test_common_and_analysis_import_nothing_above_them():
    for mod, edges in import_graph().items():
        if layer_of(mod) in ("common", "analysis"):
            assert all(layer_of(t) in {layer_of(mod)} | LAYERS[layer_of(mod)] for t, _ in edges), (mod, edges)


def test_figures_do_not_import_pages_but_the_known_edges():
    edges = {(m, t) for m, es in import_graph().items() for t, _ in es
             if m.startswith("generator.figures") and t.startswith("generator.pages")}
    assert edges == KNOWN_UPWARD, (sorted(edges - KNOWN_UPWARD), sorted(KNOWN_UPWARD - edges))


def test_common_loads_no_third_party_library():
    code = ("import sys, generator.common.paths, generator.common.languages, generator.common.atomic, "
            "generator.common.hashing, generator.common.errors, generator.analysis.rules; "
            "print(sorted(m for m in ('numpy', 'pandas', 'matplotlib', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent)
    assert out.stdout.strip() == "[]", out.stdout
