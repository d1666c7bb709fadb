"""End-to-end on a phone: the 3D view fills most of the screen, the paint tools are big enough for
a finger, one-finger painting fills the pain map, and the ranking is one tap away."""

from __future__ import annotations

import time

import pytest
from conftest import LAYOUTS, layout_page, open_app
from test_app_browser import _shot_dir, enter_paint_mode, stored_document, target, token_and_map  # noqa: F401  (target is a fixture)
from test_app_browser import tab as browser_tab

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MIN_TOUCH_PX = 44


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    yield ctx
    ctx.close()


def tab(page, name):
    browser_tab(page, name, touch=True)


def touch_drag(page, points):
    """One finger down at the first point, along the others, and up (Chromium touch events)."""
    cdp = page.context.new_cdp_session(page)
    x, y = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_phone_layout_touch_painting_and_ranking(phone, server, target, tmp_path_factory):  # noqa: F811
    page = phone.new_page()
    errors = open_app(page, server.url)
    # the page is as wide as the phone, and the 3D view takes most of it
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    view = page.locator(".hv-root").bounding_box()
    assert view["height"] >= 0.6 * PHONE["height"], view
    assert view["width"] >= 0.95 * PHONE["width"], view
    # the ranking has no column of its own here: it is a tab, and it starts closed
    assert not page.locator(".hv-cand, .hv-ranking").first.is_visible()
    results_tab = page.locator(".bk-tab", has_text="Results")
    assert results_tab.is_visible()

    # paint tools: within reach (on screen) and big enough for a finger
    tools = [page.locator(".bk-tab").filter(has_text=t) for t in ("Paint", "Results", "Body", "Questions", "Learn", "My maps")]
    tools += [page.get_by_role("button", name=n, exact=True) for n in ("Look around", "Paint", "↶ Undo", "↷ Redo", "Eraser", "Clear all")]
    for loc in tools:
        box = loc.first.bounding_box()
        assert box is not None and box["height"] >= MIN_TOUCH_PX, (loc, box)
        assert box["y"] + box["height"] <= PHONE["height"] + 1 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    for q in ("Aching", "Burning"):
        assert page.get_by_role("button", name=q).bounding_box()["height"] >= MIN_TOUCH_PX

    # turn to the right side, paint mode, one finger along the hip
    enter_paint_mode(page, touch=True, settle_ms=300)
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", target)
    assert view["y"] < y < view["y"] + view["height"] and 0 < x < PHONE["width"]
    camera = "() => window.__hipviz.renderer.getActiveCamera().getPosition()"
    before = page.evaluate(camera)
    touch_drag(page, [(x, y - 18 + 3 * i) for i in range(13)])
    page.wait_for_function("() => (window.__hipviz.skinVersion || 0) > 0", timeout=15_000)
    assert page.evaluate(camera) == before, "the finger turned the body instead of painting"

    # the paint is in the saved pain map
    token, map_id = token_and_map(page, wait_s=10)
    deadline = time.time() + 5
    while True:
        doc = stored_document(server.db, token, map_id)
        if doc.get("vertex_paint") or time.time() > deadline:
            break
        time.sleep(0.2)
    assert doc.get("vertex_paint"), "no paint was saved"
    assert {"region": "lateral_hip_trochanter", "side": "right"} in [{k: r[k] for k in ("region", "side")} for r in doc["regions"]]

    # the ranking: one tap on the Results tab, shown under the view while the view stays big
    page.locator(".hv-tools.hv-has-results").wait_for(state="attached", timeout=15_000)
    results_tab.tap()
    first = page.locator(".hv-cand").first
    first.wait_for(timeout=15_000)
    box = first.bounding_box()
    assert box["y"] + 20 < PHONE["height"] and box["y"] > view["y"] + view["height"] - 1, box
    top3 = [e.get_attribute("data-condition") for e in page.locator(".hv-cand").all()[:3]]
    assert "gtps_gluteal_tendinopathy" in top3, top3
    assert page.locator(".hv-root").bounding_box()["height"] >= 0.6 * PHONE["height"]
    page.screenshot(path=str(_shot_dir(tmp_path_factory) / "phone-results.png"))
    # back to the tools: the paint tools are there again
    tab(page, "Paint")
    page.get_by_role("button", name="Clear all").wait_for(state="visible", timeout=5_000)
    assert not errors


def two_finger_gesture(page, start, second_after_ms: int, steps: int = 10):
    """One finger down at `start`, a second finger joining after `second_after_ms` (the first
    one moving meanwhile), both moving apart (a pinch), then both lifted."""
    cdp = page.context.new_cdp_session(page)
    x, y = start
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 1}]})
    waited = 0
    while waited < second_after_ms:
        y += 2
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        page.wait_for_timeout(20)
        waited += 20
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 1}, {"x": x + 40, "y": y + 40, "id": 2}]})
    for i in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x - 3 * i, "y": y - 3 * i, "id": 1}, {"x": x + 40 + 3 * i, "y": y + 40 + 3 * i, "id": 2}]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("second_after_ms", [0, 400], ids=["together", "after-a-stroke-began"])
def test_two_fingers_never_paint(browser, server, target, second_after_ms, layout):  # noqa: F811
    with layout_page(browser, server.url, layout, touch=True) as (page, _viewport, _touch):
        _two_fingers_never_paint(page, server, target, second_after_ms)


def _two_fingers_never_paint(page, server, target, second_after_ms):  # noqa: F811
    enter_paint_mode(page, touch=True, settle_ms=300)
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", target)
    two_finger_gesture(page, (x, y - 20), second_after_ms)
    page.wait_for_timeout(1500)
    token, map_id = token_and_map(page)
    doc = stored_document(server.db, token, map_id)        # a pinch stores no paint (nor, here, a map)
    assert not doc.get("vertex_paint") and not doc.get("regions"), doc
    assert not page.locator(".hv-cand").first.is_visible()
    # one finger still paints
    touch_drag(page, [(x, y - 18 + 3 * i) for i in range(13)])
    token, map_id = token_and_map(page, wait_s=10)
    deadline = time.time() + 10
    while not stored_document(server.db, token, map_id).get("vertex_paint") and time.time() < deadline:
        time.sleep(0.2)
    assert stored_document(server.db, token, map_id).get("vertex_paint")
