"""The page code is split into modules and joined into the one module Panel loads."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hipviz.app import esm_bundle
from hipviz.app.esm_bundle import BundleError, bodychart_esm, bundle, viewer_esm

APP = Path(esm_bundle.__file__).resolve().parent
FUNCTION = re.compile(r"^\s*(?:export )?(?:async )?function (\w+)", re.M)


@pytest.mark.parametrize("make", [viewer_esm, bodychart_esm], ids=["viewer", "bodychart"])
def test_a_bundle_is_one_module_with_render_as_its_only_export(make, tmp_path):
    code = make()
    assert re.findall(r"^export .*", code, re.M) == ["export function render({ model, el: host }) {"]
    assert not re.search(r"^import ", code, re.M)
    # every function is defined once: the shared helpers are not written twice
    names = FUNCTION.findall(code)
    assert sorted({n for n in names if names.count(n) > 1}) == []
    if shutil.which("node"):
        f = tmp_path / "bundle.mjs"
        f.write_text(code)
        r = subprocess.run(["node", "--check", str(f)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_the_viewer_bundle_installs_every_module():
    code = viewer_esm()
    installers = re.findall(r"^function (install\w+)\(V\)", code, re.M)
    assert installers == ["installOverlays", "installSkinShade", "installCamera", "installScene", "installPick", "installPaint"]
    assert ("for (const install of [installOverlays, installSkinShade, installCamera, installScene, installPick, installPaint])"
            in code)
    assert re.search(r'^const CSS = ".*\.hv-root \{', code, re.M)       # viewer.css, inlined as a string


def test_the_modules_use_the_shared_helpers_instead_of_their_own():
    common = set(FUNCTION.findall((APP / "viewer" / "common.js").read_text()))
    assert {"hexToRgb", "hexToBytes", "el", "inflate", "toArrayBuffer", "loadVtk"} <= common
    for f in [*sorted((APP / "viewer").glob("*.js")), APP / "bodychart.js"]:
        if f.name == "common.js":
            continue
        own = set(FUNCTION.findall(f.read_text()))
        assert not own & common, (f.name, own & common)


def test_a_module_imported_before_it_is_bundled_is_an_error(tmp_path):
    (tmp_path / "a.js").write_text('import { b } from "./b.js";\nexport function render() { return b(); }\n')
    (tmp_path / "b.js").write_text("export function b() { return 1; }\n")
    with pytest.raises(BundleError, match=r"a\.js imports \./b\.js"):
        bundle(tmp_path, ("a.js", "b.js"))
    joined = bundle(tmp_path, ("b.js", "a.js"))
    assert "function b()" in joined and "export function b" not in joined and "export function render" in joined


def test_the_page_takes_view_names_from_the_scene_data():
    from hipviz.render.views import body_presets, close_ups, views

    code = viewer_esm()
    assert "posterior_oblique_left" not in code and "meta.presets" in code
    presets = body_presets()
    assert presets[0] == "anterior" and "reset" not in presets and not set(presets) & set(close_ups())
    assert list(views())[: len(presets)] == presets
