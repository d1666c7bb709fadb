"""End-to-end: a warning-sign alert is on screen the moment it is raised, on every layout, without
opening any tab, and screen readers are told (role="alert")."""

from __future__ import annotations

import pytest
from conftest import open_app
from test_app_browser import tab

pytestmark = pytest.mark.browser

LAYOUTS = {
    "desktop": ({"width": 1400, "height": 860}, False),
    "projector": ({"width": 1024, "height": 768}, False),
    "phone": ({"width": 390, "height": 844}, True),
}
SADDLE = "Numbness between the legs or around the back passage"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_an_emergency_alert_is_seen_at_once_on_every_layout(browser, server, layout, tmp_path):
    viewport, touch = LAYOUTS[layout]
    ctx = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    try:
        page = ctx.new_page()
        open_app(page, server.url)
        assert not page.get_by_role("alert").first.is_visible()
        tab(page, "Questions", touch)
        box = page.get_by_text(SADDLE, exact=True)
        box.scroll_into_view_if_needed()
        box.tap() if touch else box.click()
        alert = page.get_by_role("alert").filter(has_text="Seek medical care now").first
        alert.wait_for(state="visible", timeout=15_000)
        b = alert.bounding_box()
        # on screen, whole, without scrolling and without opening the Results tab
        assert b["y"] >= 0 and b["y"] + b["height"] <= viewport["height"], b
        assert b["x"] >= 0 and b["x"] + b["width"] <= viewport["width"] + 1, b
        assert page.evaluate("() => window.scrollY") == 0
        page.screenshot(path=str(tmp_path / f"alert-{layout}.png"))
    finally:
        ctx.close()
