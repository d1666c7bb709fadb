"""End-to-end: zoom, pan and whole-body buttons over the view (for those who cannot pinch, scroll
or Shift+drag), which never paint, and an orientation figure that names the body's sides."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LAYOUTS, layout_page, press
from test_app_browser import enter_paint_mode
from test_app_phone_browser import touch_drag

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


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_vertical_drag_keeps_the_body_upright(browser, server, layout):
    """Dragging up or down turns the body over only so far: never a view from above the open
    top of the torso, or from under the feet, and never a body on its side."""
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        box = page.locator(".hv-root").first.bounding_box()
        x, y0, y1 = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.85, box["y"] + box["height"] * 0.1
        for a, b in ((y0, y1), (y1, y0), (y0, y1)):
            points = [(x + 2 * i, a + (b - a) * i / 20) for i in range(21)]
            if touch:
                touch_drag(page, points)
            else:
                page.mouse.move(*points[0])
                page.mouse.down()
                for p in points[1:]:
                    page.mouse.move(*p, steps=2)
                page.mouse.up()
            page.wait_for_timeout(200)
            pos, focal, dist = _cam(page)
            elevation = np.degrees(np.arcsin((pos[2] - focal[2]) / dist))
            up = np.array(page.evaluate("() => window.__hipviz.renderer.getActiveCamera().getViewUp()"))
            assert abs(elevation) <= 55.5, (layout, elevation)
            assert up[2] > 0.5, (layout, up)
