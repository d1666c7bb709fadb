"""End-to-end: a warning-sign alert is on screen the moment it is raised, on every layout, without
opening any tab, and screen readers are told (role="alert")."""

from __future__ import annotations

import pytest
from conftest import LAYOUTS, layout_page, press
from test_app_browser import tab

pytestmark = pytest.mark.browser
SADDLE = "Numbness between the legs or around the back passage"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_an_emergency_alert_is_seen_at_once_on_every_layout(browser, server, layout, tmp_path):
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        assert not page.get_by_role("alert").first.is_visible()
        tab(page, "Questions", touch)
        press(page.get_by_text(SADDLE, exact=True), touch)
        alert = page.get_by_role("alert").filter(has_text="Seek medical care now").first
        alert.wait_for(state="visible", timeout=15_000)
        b = alert.bounding_box()
        # on screen, whole, without scrolling and without opening the Results tab
        assert b["y"] >= 0 and b["y"] + b["height"] <= viewport["height"], b
        assert b["x"] >= 0 and b["x"] + b["width"] <= viewport["width"] + 1, b
        assert page.evaluate("() => window.scrollY") == 0
        page.screenshot(path=str(tmp_path / f"alert-{layout}.png"))
