"""The app's vtk.js bundle (app/static/vtk-hipviz.js) is built from the committed recipe (js/vtk)
and holds every vtk.js class the page's scripts use."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from hipviz.app.static_files import STATIC_DIR, VTK_BUNDLE

ROOT = Path(__file__).resolve().parents[1]
RECIPE_DIR = ROOT / "js" / "vtk"
RECIPE = ("entry.js", "build.mjs", "package-lock.json")      # as build.mjs hashes them
APP_JS = sorted((ROOT / "src" / "hipviz" / "app").rglob("*.js"))


def exported_names(entry: str) -> set[str]:
    """The dotted names entry.js puts on window.vtk ("Rendering.Core.vtkActor", ...): an object of
    two levels of groups around lists of classes."""
    body = entry[entry.index("window.vtk = {"):]
    names = set()
    for top, inner in re.findall(r"(\w+): \{((?:[^{}]|\{[^{}]*\})*)\}", body):
        for group, classes in re.findall(r"(\w+): \{([^{}]*)\}", inner):
            names |= {f"{top}.{group}.{cls}" for cls in re.findall(r"\w+", classes)}
    return names


def used_names(js: str) -> set[str]:
    """vtk.js classes a script reaches through window.vtk: `vtk.A.B.vtkC`, or an alias of
    `vtk.A.B` (`const RC = vtk.Rendering.Core`) followed by `RC.vtkC`."""
    names = set(re.findall(r"\bvtk\.(\w+\.\w+\.vtk\w+)", js))
    for alias, group in re.findall(r"\b(\w+)\s*=\s*vtk\.(\w+\.\w+)\b(?!\.)", js):
        names |= {f"{group}.{cls}" for cls in re.findall(rf"(?<![.\w]){alias}\.(vtk\w+)", js)}
    return names


def test_the_name_scan_sees_direct_and_aliased_uses():
    js = "const a = vtk.Rendering.Core.vtkActor.newInstance(); const DM = vtk.Common.DataModel, Core = vtk.Common.Core; DM.vtkPolyData; vtk.Rendering.Core.vtkMapper"
    assert used_names(js) == {"Rendering.Core.vtkActor", "Common.DataModel.vtkPolyData", "Rendering.Core.vtkMapper"}
    assert exported_names("window.vtk = {\n  A: { B: { vtkC, vtkD }, E: { vtkF } },\n  G: { H: { vtkI } },\n};") == {
        "A.B.vtkC", "A.B.vtkD", "A.E.vtkF", "G.H.vtkI"}


def test_the_bundle_holds_every_vtk_class_the_page_uses():
    """entry.js lists what the bundle exports; the next test ties the bundle to entry.js."""
    exported = exported_names((RECIPE_DIR / "entry.js").read_text())
    used = set().union(*(used_names(p.read_text()) for p in APP_JS))
    assert len(used) >= 10, used          # the scan found the view's classes
    assert used <= exported, f"classes used but not in js/vtk/entry.js (add them and rebuild): {sorted(used - exported)}"


def test_the_bundle_was_built_from_the_committed_recipe():
    """A change to entry.js, build.mjs or the locked packages without a rebuild fails here."""
    h = hashlib.sha256()
    for f in RECIPE:
        h.update((RECIPE_DIR / f).read_bytes())
    first_line = VTK_BUNDLE.read_text().split("\n", 1)[0]
    m = re.search(r"recipe sha256 ([0-9a-f]{64})", first_line)
    assert m, f"{VTK_BUNDLE.name}: no recipe checksum in its first line"
    assert m.group(1) == h.hexdigest(), "js/vtk changed since the bundle was built: run bash scripts/build_vtk.sh"


@pytest.mark.parametrize("package", ["vtk.js", "gl-matrix"])
def test_the_licences_of_the_bundled_packages_ship_beside_it(package):
    notices = (STATIC_DIR / "vtk-hipviz.LICENSES.txt").read_text()
    assert re.search(rf"^{re.escape(package)} \d+\.\d+\.\d+ \(", notices, re.M)
    assert "Permission" in notices or "Redistribution" in notices
