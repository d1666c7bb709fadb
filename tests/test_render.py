"""Offscreen renders: not blank, the views differ, and a small render matches its baseline.

Set HIPVIZ_UPDATE_BASELINES=1 to rewrite the baseline after an intended visual change (and look
at the new image before committing it)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hipviz.atlas.meshes import load_atlas
from hipviz.cli import main
from hipviz.render.offscreen import render

BASELINES = Path(__file__).parent / "baselines"


def _img(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    out = tmp_path_factory.mktemp("renders")
    atlas = load_atlas()
    paths = {}
    for view in ("posterior", "right"):
        paths[view] = render(atlas, out / f"{view}.png", view=view, layers=("skin", "bones", "muscles", "bursae", "nerves"),
                             skin_opacity=0.3, window=(240, 300))
    return paths


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


def test_posterior_render_matches_baseline(renders):
    base = BASELINES / "posterior_240x300.png"
    if os.environ.get("HIPVIZ_UPDATE_BASELINES") == "1":
        base.parent.mkdir(exist_ok=True)
        Image.open(renders["posterior"]).save(base)
        pytest.skip("baseline written")
    a, b = _img(renders["posterior"]), _img(base)
    assert a.shape == b.shape
    diff = np.abs(a - b).max(axis=2)
    assert diff.mean() < 4.0, f"mean difference {diff.mean():.2f}"
    assert (diff > 60).mean() < 0.02, f"{(diff > 60).mean():.1%} of pixels changed a lot"


def test_render_cli(tmp_path, capsys):
    out = tmp_path / "front.png"
    assert main(["render", "--view", "anterior", "--layers", "bones,muscles", "--size", "200x240", "--out", str(out)]) == 0
    assert Image.open(out).size == (200, 240)
    assert main(["render", "--view", "top", "--out", str(out)]) == 2
    assert "unknown view 'top'" in capsys.readouterr().err
    assert main(["render", "--layers", "bones,organs", "--out", str(out)]) == 2
    assert "unknown layer" in capsys.readouterr().err
    assert main(["render", "--skin-opacity", "nan", "--out", str(out)]) == 2
    assert "opacity" in capsys.readouterr().err
