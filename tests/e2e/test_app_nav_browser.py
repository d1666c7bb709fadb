"""End-to-end: zoom, pan and whole-body buttons over the view (for those who cannot pinch, scroll
or Shift+drag), which never paint, and an orientation figure that names the body's sides."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LAYOUTS, layout_page, press
from test_app_browser import enter_paint_mode

pytestmark = pytest.mark.browser

CAMERA = """() => { const c = window.__hipviz.renderer.getActiveCamera();
  return [...c.getPosition(), ...c.getFocalPoint()]; }"""


def _cam(page):
    c = np.array(page.evaluate(CAMERA))
    return c[:3], c[3:], np.linalg.norm(c[:3] - c[3:])


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_zoom_pan_and_whole_body_buttons(browser, server, layout, tmp_path):
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        nav = lambda name: press(page.get_by_role("button", name=name, exact=True), touch)  # noqa: E731
        p0, f0, d0 = _cam(page)
        nav("Zoom in")
        page.wait_for_timeout(150)
        _, f1, d1 = _cam(page)
        assert d1 < 0.85 * d0 and np.allclose(f1, f0)
        nav("Zoom out")
        page.wait_for_timeout(150)
        assert abs(_cam(page)[2] - d0) < 1e-3 * d0
        nav("Move the view up")
        page.wait_for_timeout(150)
        _, f2, d2 = _cam(page)
        assert np.linalg.norm(f2 - f0) > 0.02 and abs(d2 - d0) < 1e-3 * d0     # moved, not zoomed
        nav("Move the view left")
        nav("Move the view right")
        nav("Move the view down")
        page.wait_for_timeout(150)
        assert np.allclose(_cam(page)[1], f0, atol=1e-6)                          # back where it was
        nav("Zoom in")
        nav("Whole body")
        page.wait_for_timeout(150)
        assert np.allclose(_cam(page)[0], p0, atol=1e-3)
        # the whole body is in view: the feet and the head project inside the view
        box = page.locator(".hv-root").first.bounding_box()
        lo, hi = page.evaluate("() => window.__hipviz.meta.bounds")
        for z in (lo[2] + 0.02, hi[2] - 0.02):
            x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, z])
            assert box["y"] <= y <= box["y"] + box["height"], (layout, z, y, box)
        # in paint mode the buttons still work and never paint
        enter_paint_mode(page, touch=touch)
        nav("Zoom in")
        nav("Move the view left")
        page.wait_for_timeout(800)
        assert not (page.evaluate("() => window.__hipviz.skinVersion || 0") > 0)
        assert page.evaluate("() => !!window.__hipviz.orientation")
        page.screenshot(path=str(tmp_path / f"nav-{layout}.png"))
