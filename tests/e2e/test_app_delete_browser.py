"""End-to-end: deleting a map asks first (a prompt screen readers hear), "Keep it" keeps it, and a
deletion can be undone while the page is open, on every layout."""

from __future__ import annotations

import pytest
from conftest import LAYOUTS, layout_page, press, until
from test_app_browser import tab

pytestmark = pytest.mark.browser
TITLE = "Knee and hip, March"


def _map_titles(page) -> str:
    """The titles in the map picker (the first select of the page; locators see into shadow roots)."""
    return page.locator("select").first.evaluate("s => Array.from(s.options).map(o => o.text).join('|')")


def _until(page, check) -> None:
    until(page, check, lambda: f"map titles: {_map_titles(page)!r}")


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_deleting_a_map_asks_first_and_can_be_undone(browser, server, layout, tmp_path):
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        tab(page, "My maps", touch)
        name = page.get_by_label("Name of this map")
        name.fill(TITLE)
        name.press("Enter")                       # naming a blank map stores it
        _until(page, lambda: TITLE in _map_titles(page))

        # the first press only asks
        press(page.get_by_role("button", name="Delete this map"), touch)
        prompt = page.get_by_role("alert").filter(has_text=f"Delete {TITLE}")
        prompt.wait_for(state="visible", timeout=10_000)
        page.screenshot(path=str(tmp_path / f"delete-prompt-{layout}.png"))
        assert TITLE in _map_titles(page)
        press(page.get_by_role("button", name="Keep it"), touch)
        prompt.wait_for(state="hidden", timeout=10_000)
        assert TITLE in _map_titles(page)

        # deleting, then bringing it back
        press(page.get_by_role("button", name="Delete this map"), touch)
        press(page.get_by_role("button", name="Yes, delete it"), touch)
        page.get_by_text(f"Deleted {TITLE}").wait_for(timeout=10_000)
        _until(page, lambda: TITLE not in _map_titles(page))
        press(page.get_by_role("button", name="↶ Undo delete"), touch)
        page.get_by_text(f"Brought back {TITLE}").wait_for(timeout=10_000)
        assert TITLE in _map_titles(page)
