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

# The layers, bottom first, and what each may import besides itself. ``cli`` is generator/cli.py and
# generator/__main__.py; generator/__init__.py imports nothing.
ORDER = (
    "common",
    "engine",
    "config",
    "contract",
    "analysis",
    "experiments",
    "render",
    "figures",
    "pages",
    "pipeline",
    "cli",
)
LAYERS = {
    "common": set(),
    "engine": set(),  # NumPy only
    "config": {"common", "engine"},  # the registries give the valid choices
    "contract": {"common"},
    "analysis": {"common", "engine", "contract"},  # no matplotlib, no strings catalog
    "experiments": {"common", "engine", "contract", "analysis", "config"},
    "render": {"common"},
    "figures": {"common", "engine", "contract", "analysis", "render"},
    "pages": {"common", "engine", "contract", "analysis", "render", "figures"},
    "pipeline": set(ORDER) - {"pipeline", "cli"},
    "cli": set(ORDER) - {"cli"},
}

# Cycles still to break: each a set of modules forming one strongly connected component (none left).
KNOWN_CYCLES: list[set[str]] = []
# Imports that still go the wrong way (module, imported module); the list may only shrink.
KNOWN_UPWARD: set[tuple[str, str]] = set()
# Package __init__ files that still import (none left).
KNOWN_INIT_IMPORTS: list[str] = []


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
    if parts[1:] in (["cli"], ["__main__"]):
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def upward_edges() -> set[tuple[str, str]]:
    """(module, imported module) for every import a layer may not make."""
    bad = set()
    for mod, edges in import_graph().items():
        src = layer_of(mod)
        for target, _ in edges:
            dst = layer_of(target)
            if src is None or (dst != src and dst not in LAYERS[src]):
                bad.add((mod, target))
    return bad


def test_every_module_is_in_a_layer():
    """No flat module is left: each file of the package sits in a layer folder (or is the cli)."""
    flat = sorted(m for m in import_graph() if m != "generator" and layer_of(m) is None)
    assert not flat, f"modules outside every layer: {flat}"


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # the stage driver imports the experiments stage only inside functions
    assert any(t == "generator.pipeline.experiments_stage" for t, _ in graph["generator.pipeline.stages"])
    # a cycle closed by an import inside a function is found
    graph["generator.engine.inits"].add(("generator.pipeline.stages", 0))
    assert any({"generator.engine.inits", "generator.pipeline.stages"} <= c for c in cycles(graph))


def test_no_cycle_but_the_known_ones():
    found = cycles(import_graph())
    new = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not new, f"new import cycle(s): {new}"
    assert not gone, f"cycle(s) broken, remove from KNOWN_CYCLES: {gone}"


def test_layers_import_only_downward():
    found = upward_edges()
    new, gone = sorted(found - KNOWN_UPWARD), sorted(KNOWN_UPWARD - found)
    assert not new, "upward or sideways imports:\n" + "\n".join(f"{m} -> {t}" for m, t in new)
    assert not gone, f"fixed, remove from KNOWN_UPWARD: {gone}"


def test_the_rule_catches_an_upward_import():
    graph = import_graph()
    mod, target = "generator.analysis.rules", "generator.figures.style"
    assert layer_of(target) not in LAYERS[layer_of(mod)]
    assert layer_of("generator.cli") == "cli" and layer_of("generator.pipeline.stages") == "pipeline"
    assert "pipeline" not in set().union(*(v for k, v in LAYERS.items() if k != "cli"))
    assert graph  # the graph itself is read (see test_the_graph_sees_imports_inside_functions)


def test_package_init_imports_nothing():
    """A package's __init__ holds its docstring: importing one module never loads its siblings."""
    bad = []
    for path in PKG.rglob("__init__.py"):
        tree = ast.parse(path.read_text("utf-8"))
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)):
            bad.append(str(path.relative_to(PKG.parent)))
    assert sorted(bad) == sorted(KNOWN_INIT_IMPORTS), bad


def loaded_after_import(mods, libraries) -> list[str]:
    """Which of ``libraries`` are in sys.modules after importing ``mods`` in a fresh interpreter."""
    code = (
        f"import sys, importlib; [importlib.import_module(m) for m in {sorted(mods)!r}]; "
        f"print(','.join(m for m in {list(libraries)!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PKG.parent)
    return [m for m in out.stdout.strip().split(",") if m]


def test_engine_loads_no_pandas_matplotlib_or_jinja():
    mods = [m for m in import_graph() if layer_of(m) == "engine"]
    assert loaded_after_import(mods, ("pandas", "matplotlib", "jinja2", "sklearn")) == []


def test_analysis_loads_no_matplotlib():
    mods = [
        m for m in import_graph() if layer_of(m) in ("analysis", "contract", "render") and m != "generator.render.fonts"
    ]
    assert loaded_after_import(mods, ("matplotlib",)) == []


def test_common_loads_no_third_party_library():
    mods = [m for m in import_graph() if layer_of(m) == "common"]
    assert loaded_after_import(mods, ("numpy", "pandas", "matplotlib", "jinja2")) == []
