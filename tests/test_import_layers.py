"""The import order of the package: layers that only look down, and no module cycles.

Every import counts, also one deferred into a function: a deferred import still ties the two
modules together and hides a cycle rather than removing it.

Layers, lowest first (a module may import its own layer and the ones below):

1. domain: the vocabulary, pain maps, the atlas, the knowledge, the ranking, triage, referral
   paths, explanations, visits. No UI, no rendering, no output formats.
2. render: offscreen images of the atlas.
3. outputs: the PDF summary and FHIR.
4. app: the Panel web app, its storage and the clinic.
5. command line.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("domain", ("hipviz", "hipviz.paths", "hipviz.colours", "hipviz.vocabulary", "hipviz.normals", "hipviz.painmap", "hipviz.bodychart",
                "hipviz.visits", "hipviz.compare", "hipviz.ddx", "hipviz.triage", "hipviz.explain", "hipviz.referral",
                "hipviz.knowledge", "hipviz.atlas")),
    ("render", ("hipviz.render",)),
    ("outputs", ("hipviz.report", "hipviz.fhir")),
    ("app", ("hipviz.app",)),
    ("command line", ("hipviz.cli", "hipviz.commands")),
]
#: Libraries the domain layer must not use: UI and rendering (the atlas holds its meshes as PyVista
#: data sets, which is data, so pyvista is allowed there and nowhere else in the domain).
UI_LIBRARIES = {"panel", "bokeh", "param", "vtk", "vtkmodules", "reportlab", "playwright"}


def _modules() -> dict[str, Path]:
    out = {}
    for f in (SRC / "hipviz").rglob("*.py"):
        parts = f.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> tuple[set[str], set[str]]:
    """(hipviz modules, other top-level packages) that `name` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names]
        else:
            continue
        for t in targets:
            if t.split(".")[0] != "hipviz":
                theirs.add(t.split(".")[0])
                continue
            while t not in MODULES and "." in t:
                t = t.rpartition(".")[0]
            if t != name:
                ours.add(t)
    return ours, theirs


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    best, depth = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > depth:
                best, depth = i, len(p)
    if best is None:
        raise AssertionError(f"{module} is in no layer of tests/test_import_layers.py: add it to one")
    return best


def test_every_module_has_a_layer():
    for m in MODULES:
        layer_of(m)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_look_down(module):
    mine = layer_of(module)
    up = sorted(t for t in GRAPH[module][0] if layer_of(t) > mine)
    assert not up, (f"{module} (layer {LAYERS[mine][0]}) imports {', '.join(up)} from a higher layer "
                    f"({', '.join(sorted({LAYERS[layer_of(t)][0] for t in up}))})")


def test_domain_uses_no_ui_or_rendering_library():
    bad = {}
    for m, (_, theirs) in GRAPH.items():
        if layer_of(m) != 0:
            continue
        libs = theirs & UI_LIBRARIES
        if "pyvista" in theirs and not m.startswith("hipviz.atlas"):
            libs.add("pyvista")
        if libs:
            bad[m] = sorted(libs)
    assert not bad, f"domain modules using UI or rendering libraries: {bad}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_cycles():
    assert _cycles({m: ours for m, (ours, _) in GRAPH.items()}) == []


def test_the_checks_can_fail():
    """The cycle finder finds a planted cycle, and the layer rule sees an upward import."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("hipviz.app.layout") > layer_of("hipviz.ddx")
    assert layer_of("hipviz.atlas.build.skin") == 0
    assert "hipviz.app.clinic_page" in GRAPH["hipviz.app.layout"][0]
    assert "hipviz.report" in GRAPH["hipviz.app.summary_pdf"][0]  # a deferred import counts
