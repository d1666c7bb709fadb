"""End-to-end: presenter mode for a projector. The 3D view takes the whole width, the camera
presets stand beside the body instead of over it, a bar above the view picks a condition, and
the arrow keys step through its path; on a phone the tools stay, leading back out."""

from __future__ import annotations

import pytest
from conftest import LAYOUTS, layout_page, press
from test_app_browser import tab

pytestmark = pytest.mark.browser


def _wait_for_step(banner, n: int) -> None:
    """The view's caption says step n of the path (it follows the keys within a few seconds)."""
    for _ in range(50):
        if banner.inner_text().startswith(f"Step {n} of"):
            return
        banner.page.wait_for_timeout(100)
    assert banner.inner_text().startswith(f"Step {n} of"), banner.inner_text()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_presenter_mode_gives_the_view_the_width_a_picker_and_keyboard_steps(browser, server, layout, tmp_path):
    with layout_page(browser, server.url, layout) as (page, viewport, touch):
        tab(page, "Learn", touch)
        press(page.get_by_role("button", name="Presenter mode (big text, tools hidden)"), touch)
        page.wait_for_timeout(800)
        # nothing wider than the screen: no sideways scrolling on a projector or a phone
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"] + 1
        bar = page.locator(".hv-presenter-bar")
        if touch:
            # a phone keeps its tools (the Learn tab has the conditions); the switch leads back out
            assert page.locator(".hv-tools").first.is_visible() and not bar.is_visible()
            page.screenshot(path=str(tmp_path / f"presenter-{layout}.png"))
            press(page.get_by_role("button", name="Presenter mode (big text, tools hidden)"), touch)
            return
        bar.wait_for(state="visible", timeout=10_000)
        view = page.locator(".hv-view").first.bounding_box()
        bar_box = bar.bounding_box()
        assert bar_box["x"] + bar_box["width"] <= viewport["width"] + 1, bar_box
        assert view["width"] >= 0.97 * viewport["width"], view          # the 3D view takes the width
        assert not page.locator(".hv-results").first.is_visible()
        # the presets stand in a column at the left edge, beside the body (which is centred)
        presets = [page.get_by_role("button", name=n, exact=True).first.bounding_box() for n in ("Front", "Back", "Left side")]
        presets = [b for b in presets if b and b["y"] > view["y"] + 40]
        assert presets and all(b["x"] + b["width"] < view["x"] + 0.3 * view["width"] for b in presets), presets
        page.screenshot(path=str(tmp_path / f"presenter-{layout}.png"))

        # the picker explains a condition; the arrow keys step through its path
        picker = bar.locator("select")
        label = picker.evaluate("s => Array.from(s.options).map(o => o.text).find(t => t.startsWith('Trapped L5 nerve root'))")
        assert label, "the picker lists every condition"
        picker.select_option(label=label)
        banner = page.locator(".hv-banner").first
        page.wait_for_function("() => window.__hipviz && (window.__hipviz.tubes || []).length > 0", timeout=20_000)
        page.evaluate("() => { const a = document.activeElement; if (a && a.blur) a.blur(); }")
        page.locator(".hv-top").first.click()        # the keys belong to the page, not to the picker
        page.keyboard.press("ArrowRight")
        _wait_for_step(banner, 1)
        page.keyboard.press("ArrowRight")
        _wait_for_step(banner, 2)

        # leaving brings the tools (and on a wide screen the results) back
        press(bar.get_by_role("button", name="Leave"), touch)
        bar.wait_for(state="hidden", timeout=10_000)
        assert page.locator(".hv-tools").first.is_visible()
