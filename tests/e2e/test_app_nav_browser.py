"""End-to-end: zoom, pan and whole-body buttons over the view (for those who cannot pinch, scroll
or Shift+drag), which never paint, and an orientation figure that names the body's sides."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import open_app
from test_app_browser import enter_paint_mode, token_and_map

pytestmark = pytest.mark.browser

CAMERA = """() => { const c = window.__hipviz.renderer.getActiveCamera();
  return [...c.getPosition(), ...c.getFocalPoint()]; }"""


def _cam(page):
    c = np.array(page.evaluate(CAMERA))
    return c[:3], c[3:], np.linalg.norm(c[:3] - c[3:])


def test_zoom_pan_and_whole_body_buttons(context, server, tmp_path):
    page = context.new_page()
    open_app(page, server.url)
    nav = lambda name: page.get_by_role("button", name=name, exact=True)  # noqa: E731
    p0, f0, d0 = _cam(page)
    nav("Zoom in").click()
    page.wait_for_timeout(150)
    _, f1, d1 = _cam(page)
    assert d1 < 0.85 * d0 and np.allclose(f1, f0)
    nav("Zoom out").click()
    page.wait_for_timeout(150)
    assert abs(_cam(page)[2] - d0) < 1e-3 * d0
    nav("Move the view up").click()
    page.wait_for_timeout(150)
    _, f2, d2 = _cam(page)
    assert np.linalg.norm(f2 - f0) > 0.02 and abs(d2 - d0) < 1e-3 * d0     # moved, not zoomed
    nav("Move the view left").click()
    nav("Move the view right").click()
    nav("Move the view down").click()
    page.wait_for_timeout(150)
    assert np.allclose(_cam(page)[1], f0, atol=1e-6)                          # back where it was
    nav("Zoom in").click()
    nav("Whole body").click()
    page.wait_for_timeout(150)
    assert np.allclose(_cam(page)[0], p0, atol=1e-3)
    # in paint mode the buttons still work and never paint
    enter_paint_mode(page)
    nav("Zoom in").click()
    nav("Move the view left").click()
    page.wait_for_timeout(800)
    assert not (page.evaluate("() => window.__hipviz.skinVersion || 0") > 0)
    assert page.evaluate("() => !!window.__hipviz.orientation")
    page.screenshot(path=str(tmp_path / "nav.png"))
