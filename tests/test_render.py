"""Offscreen renders: not blank, the views differ, and the four views and two close-ups match
their baselines in tests/image_cache through pytest-pyvista.

The baselines are made with Mesa's software renderer (tests/conftest.py pins it). After an
intended visual change, rewrite them with
`.venv/bin/python -m pytest -q tests/test_render.py --reset_image_cache` and look at the new
images before committing them.

Tolerance: pytest-pyvista's error (vtkImageDifference, thresholded per pixel). Between Mesa's
two software rasterisers (llvmpipe and softpipe) these images differ by at most 0.3; hiding one
structure (the sciatic nerve under the see-through skin of the back view, the trochanteric bursa
in the lateral hip) or moving the sciatic nerve by 1 cm costs 10 or more. The tests below prove
the second half: such renders fail the same comparison.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pytest_pyvista import VerifyImageCache
from pytest_pyvista.pytest_pyvista import RegressionError

from hipviz.atlas.meshes import load_atlas
from hipviz.cli import main
from hipviz.render.offscreen import LAYERS, preset_scene, render
from hipviz.render.views import close_ups, views

IMAGE_CACHE = Path(__file__).parent / "image_cache"
WHOLE_VIEWS = ("anterior", "posterior", "left", "right")
CLOSE_UPS = ("lateral_hip", "deep_gluteal")
#: the four views with the skin see-through ("See inside"); the close-ups bring their own layers
WHOLE = {"layers": LAYERS, "skin_opacity": 0.3, "window": (300, 400)}
CLOSE = {"window": (400, 400)}
MAX_ERROR = 5.0
WARN_ERROR = 1.0


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _plotter(atlas, view: str, **kw):
    return preset_scene(atlas, view, **(CLOSE if view in CLOSE_UPS else WHOLE), **kw)


def _img(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_close_ups_are_presets():
    assert set(CLOSE_UPS) <= set(close_ups())
    assert not set(WHOLE_VIEWS) & set(close_ups())


@pytest.mark.parametrize("view", WHOLE_VIEWS + CLOSE_UPS)
def test_view_matches_baseline(atlas, view, verify_image_cache):
    verify_image_cache.test_name = f"test_{view}"     # the baseline is tests/image_cache/<view>.png
    verify_image_cache.error_value = MAX_ERROR
    verify_image_cache.warning_value = WARN_ERROR
    _plotter(atlas, view).show()


def _check_against_baseline(view: str, tmp_path: Path) -> VerifyImageCache:
    """pytest-pyvista's comparison with the stored baseline of `view`, on a copy of it (so a
    run that resets the cache can never store a broken render)."""
    shutil.copy(IMAGE_CACHE / f"{view}.png", tmp_path / f"{view}.png")
    check = VerifyImageCache(f"test_{view}", tmp_path, error_value=MAX_ERROR, warning_value=WARN_ERROR)
    check.image_format = "png"
    check.max_image_size = None
    check.reset_image_cache = check.add_missing_images = check.reset_only_failed = check.ignore_image_cache = False
    return check


@pytest.mark.parametrize(("view", "hidden"), [
    ("posterior", "sciatic_nerve_right"),
    ("right", "gluteus_medius_right"),
    ("lateral_hip", "trochanteric_bursa_right"),
    ("deep_gluteal", "piriformis_right"),
])
def test_a_missing_structure_fails_the_comparison(atlas, view, hidden, tmp_path):
    check = _check_against_baseline(view, tmp_path)
    p = _plotter(atlas, view, actors={**views()[view].actors, hidden: {"visible": False}})
    with pytest.raises(RegressionError, match="Exceeded image regression error"):
        check(p)
    p.close()


def test_a_moved_structure_fails_the_comparison(atlas, tmp_path):
    check = _check_against_baseline("deep_gluteal", tmp_path)
    p = _plotter(atlas, "deep_gluteal")
    p.renderer.actors["sciatic_nerve_right"].SetPosition(0.0, 0.0, 0.01)   # 1 cm lateral
    with pytest.raises(RegressionError, match="Exceeded image regression error"):
        check(p)
    p.close()


def test_close_ups_show_what_they_are_for(atlas):
    """The lateral hip sees the bursa through the iliotibial tract; the deep gluteal view has no
    gluteus maximus and shows the sciatic nerve."""
    lat = views()["lateral_hip"]
    assert lat.actors["iliotibial_tract_right"]["opacity"] < 0.5
    assert {"bones", "muscles", "bursae"} <= set(lat.layers)
    deep = views()["deep_gluteal"]
    assert deep.actors["gluteus_maximus_right"] == {"visible": False}
    assert "nerves" in deep.layers
    p = _plotter(atlas, "deep_gluteal")
    names = set(p.renderer.actors)
    p.close()
    assert "gluteus_maximus_right" not in names and "skin" not in names
    assert {"piriformis_right", "sciatic_nerve_right", "gemellus_superior_right", "gemellus_inferior_right",
            "obturator_internus_right", "quadratus_femoris_right"} <= names


@pytest.fixture(scope="module")
def renders(tmp_path_factory, atlas):
    out = tmp_path_factory.mktemp("renders")
    return {view: render(atlas, out / f"{view}.png", view=view, **WHOLE) for view in ("posterior", "right")}


def test_renders_are_not_blank_and_views_differ(renders):
    a, b = _img(renders["posterior"]), _img(renders["right"])
    for im in (a, b):
        non_white = (im.sum(axis=2) < 720).mean()
        assert 0.10 < non_white < 0.9
        # bone ivory, muscle red and nerve yellow are all there
        r, g, bl = im[..., 0], im[..., 1], im[..., 2]
        assert ((r > 150) & (g < 110) & (bl < 110)).sum() > 50  # muscle
        assert ((r > 180) & (g > 150) & (bl < 90)).sum() > 10  # nerve
    assert np.abs(a - b).mean() > 5


def test_render_cli(tmp_path, capsys):
    out = tmp_path / "front.png"
    assert main(["render", "--view", "anterior", "--layers", "bones,muscles", "--size", "200x240", "--out", str(out)]) == 0
    assert Image.open(out).size == (200, 240)
    assert main(["render", "--view", "deep_gluteal", "--size", "200x200", "--out", str(out)]) == 0
    assert main(["render", "--view", "top", "--out", str(out)]) == 2
    assert "unknown view 'top'" in capsys.readouterr().err
    assert main(["render", "--layers", "bones,organs", "--out", str(out)]) == 2
    assert "unknown layer" in capsys.readouterr().err
    assert main(["render", "--skin-opacity", "nan", "--out", str(out)]) == 2
    assert "opacity" in capsys.readouterr().err
