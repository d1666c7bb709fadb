"""End-to-end, on every layout: controls that show the same answer agree at once (a quality
chosen on the brush is ticked under Questions, an age of 62 ticks "Aged over 50"), "Clear all"
leaves no ranking of the paint behind, and "Back to painting" gives back the camera the person had."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LAYOUTS, layout_page, press, until
from test_app_browser import enter_paint_mode, tab, target  # noqa: F401  (target is a fixture)
from test_app_phone_browser import touch_drag

pytestmark = pytest.mark.browser

CAMERA = """() => { const c = window.__hipviz.renderer.getActiveCamera();
  return [...c.getPosition(), ...c.getFocalPoint(), ...c.getViewUp()]; }"""


def _stroke(page, world, touch: bool) -> None:
    """One short stroke over a point of the body, by finger or by mouse."""
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", world)
    points = [(x - 12 + 3 * i, y) for i in range(9)]
    if touch:
        touch_drag(page, points)
        return
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p, steps=2)
    page.mouse.up()


def _candidates(page, touch: bool):
    if touch:
        tab(page, "Results", touch)                   # a phone shows the ranking in its own tab
    return page.locator(".hv-cand")


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_duplicate_controls_agree_and_clear_all_clears_the_ranking(browser, server, target, layout, tmp_path):  # noqa: F811
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        enter_paint_mode(page, touch=touch)
        press(page.get_by_role("button", name="Burning", exact=True).first, touch)
        _stroke(page, target, touch)
        cands = _candidates(page, touch)
        cands.first.wait_for(timeout=20_000)
        # the brush's quality is ticked under Questions, without a reload
        tab(page, "Questions", touch)
        burning = page.get_by_role("checkbox", name="Burning", exact=True)
        until(page, burning.is_checked, "Burning ticked under Questions")
        # Clear all: no paint, so no ranking; the quality only the paint had goes with it
        tab(page, "Paint", touch)
        press(page.get_by_role("button", name="Clear all"), touch)
        cands = _candidates(page, touch)
        until(page, lambda: cands.count() == 0, "no candidate left after Clear all")
        tab(page, "Questions", touch)
        until(page, lambda: not burning.is_checked(), "Burning unticked once its paint is gone")
        # a stated age ticks the warning-sign box that it implies
        age = page.get_by_label("Age (years)")
        age.fill("62")
        age.press("Enter")
        over_50 = page.get_by_role("checkbox", name="Aged over 50", exact=True)
        until(page, over_50.is_checked, "Aged over 50 ticked for an age of 62")
        page.screenshot(path=str(tmp_path / f"questions-{layout}.png"))


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_back_to_painting_gives_back_the_persons_camera(browser, server, layout, tmp_path):
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        tab(page, "Body", touch)
        press(page.get_by_role("button", name="Back", exact=True).first, touch)
        press(page.get_by_role("button", name="Zoom in").first, touch)
        press(page.get_by_role("button", name="Move the view left").first, touch)
        page.wait_for_timeout(400)
        mine = np.array(page.evaluate(CAMERA))
        tab(page, "Learn", touch)
        press(page.locator(".hv-cond[data-condition='radiculopathy_L5']").first, touch)
        page.locator(".hv-root[data-overlay='pattern']").first.wait_for(timeout=20_000)
        page.wait_for_timeout(600)
        assert not np.allclose(page.evaluate(CAMERA), mine, atol=1e-3), "explaining did not turn the camera"
        press(page.get_by_role("button", name="← Back to painting").locator("visible=true").first, touch)
        until(page, lambda: np.allclose(page.evaluate(CAMERA), mine, atol=1e-3), "the camera from before explaining")
        page.wait_for_timeout(1500)                 # nothing turns it afterwards (no preset arrives late)
        assert np.allclose(page.evaluate(CAMERA), mine, atol=1e-3)
        page.screenshot(path=str(tmp_path / f"back-{layout}.png"))
