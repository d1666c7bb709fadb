"""End-to-end: the tools' tab strip shows every label whole at desktop, projector and phone sizes,
whatever the widths of the fonts a machine has (a wider font wraps the strip, never cuts it)."""

from __future__ import annotations

import pytest
from conftest import open_app

pytestmark = pytest.mark.browser

LAYOUTS = {
    "desktop": ({"width": 1400, "height": 860}, False, ("Paint", "Body", "Questions", "Learn", "My maps")),
    "projector": ({"width": 1024, "height": 768}, False, ("Paint", "Body", "Questions", "Learn", "My maps")),
    "phone": ({"width": 390, "height": 844}, True, ("Paint", "Results", "Body", "Questions", "Learn", "My maps")),
}
# inherited through every shadow root: every label gets wider, as with a broader font
WIDE_TEXT = "body { letter-spacing: 3px !important; word-spacing: 6px !important; }"


def _tab_boxes(page):
    out = []
    for loc in page.locator(".bk-tab").all():
        if loc.is_visible():
            cut = loc.evaluate("t => t.scrollWidth > t.clientWidth + 1")
            out.append((loc.inner_text().strip(), loc.bounding_box(), cut))
    return out


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("wide", [False, True], ids=["page-font", "wider-font"])
def test_every_tab_label_is_whole_and_on_screen(browser, server, layout, wide):
    viewport, touch, labels = LAYOUTS[layout]
    ctx = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    try:
        page = ctx.new_page()
        open_app(page, server.url)
        if wide:
            page.add_style_tag(content=WIDE_TEXT)
            page.wait_for_timeout(200)
        tools = page.locator(".hv-tools").first.bounding_box()
        tabs = _tab_boxes(page)
        assert [t for t, _, _ in tabs] == list(labels)
        for text, box, cut in tabs:
            assert not cut, f"{text!r} is cut off"
            assert box["x"] >= tools["x"] - 1 and box["x"] + box["width"] <= tools["x"] + tools["width"] + 1, (text, box, tools)
            assert box["x"] + box["width"] <= viewport["width"] + 1, (text, box)
        if not wide:   # with the page's own font the strip is one row
            assert len({round(b["y"]) for _, b, _ in tabs}) == 1, tabs
    finally:
        ctx.close()
