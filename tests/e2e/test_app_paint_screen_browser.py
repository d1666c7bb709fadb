"""End-to-end, on every layout: in paint mode the "Paint mode" badge is a strip along the view's
edge, outside the 3D picture, so it never covers the body; and
the questionnaire has room: many of its rows are on screen at once (on a phone the view above
the tools shrinks while a tab to read or answer is open)."""

from __future__ import annotations

import pytest
from conftest import LAYOUTS, layout_page
from test_app_browser import enter_paint_mode, tab

pytestmark = pytest.mark.browser

MIN_ROWS = 8        # questionnaire rows on screen at once


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_badge_leaves_the_body_free_and_the_questions_have_room(browser, server, layout, tmp_path):
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        enter_paint_mode(page, touch=touch)
        badge = page.locator(".hv-mode").first
        badge.wait_for(state="visible", timeout=10_000)
        page.wait_for_timeout(300)
        b, root = badge.bounding_box(), page.locator(".hv-root").first.bounding_box()
        pic = page.locator(".hv-gl canvas").first.bounding_box()
        # the badge is on the view's edge, outside the 3D picture, which keeps the rest of the view
        assert b["y"] >= pic["y"] + pic["height"] - 0.5 or b["y"] + b["height"] <= pic["y"] + 0.5, (layout, b, pic)
        assert root["y"] - 0.5 <= b["y"] and b["y"] + b["height"] <= root["y"] + root["height"] + 0.5, (layout, b, root)
        assert pic["height"] >= root["height"] - b["height"] - 1, (layout, pic, root)
        page.screenshot(path=str(tmp_path / f"paint-{layout}.png"))
        tab(page, "Questions", touch)
        first = page.get_by_role("checkbox", name="Aching", exact=True)
        first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        on_screen = 0
        for box in (c.bounding_box() for c in page.get_by_role("checkbox").all()):
            if box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]:
                on_screen += 1
        page.screenshot(path=str(tmp_path / f"questions-{layout}.png"))
        assert on_screen >= MIN_ROWS, f"{layout}: only {on_screen} questionnaire rows on screen at once"
