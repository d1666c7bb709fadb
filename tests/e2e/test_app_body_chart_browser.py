"""End-to-end: a whole pain map made with the flat body chart only (mouse, and one finger on a
phone), one made with the keyboard alone through the list of body areas, and an automated
accessibility check (axe-core) of the main screens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import load_test_atlas, open_app
from test_app_browser import _shot_dir, stored_document, token_and_map, wait_ranking

from hipviz.bodychart import BodyChart
from hipviz.normals import vertex_normals
from hipviz.painmap import REGION_IDS

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}

# the element that has the keyboard focus, looking inside the widgets' shadow roots
FOCUSED = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a) return null;
  return {tag: a.tagName, type: a.type || '', name: (a.getAttribute('aria-label') || a.textContent || '').trim().slice(0, 80),
          checked: !!a.checked, value: a.value || ''};
}"""


@pytest.fixture(scope="module")
def chart():
    atlas = load_test_atlas()
    pd = atlas.polydata("skin")
    tri = np.asarray(pd.faces).reshape(-1, 4)[:, 1:]
    pts = np.asarray(pd.points, np.float64)
    labels = atlas.skin_labels()
    return pts, labels, BodyChart.build(pts, vertex_normals(pts, tri), np.flatnonzero(labels.region >= 0))


def region_centre(pts, labels, region: str, side: int) -> np.ndarray:
    sel = pts[(labels.region == REGION_IDS.index(region)) & (labels.side == side)]
    return sel[np.argmin(np.linalg.norm(sel - sel.mean(0), axis=1))]


def page_xy(page, view, xyz) -> tuple[float, float]:
    """Where an atlas point of the skin lies on the page, on one view of the chart."""
    col, row = view.locate(xyz)[0]
    box = page.locator(f"canvas[data-view={view.name}]").bounding_box()
    return box["x"] + col / view.shape[1] * box["width"], box["y"] + row / view.shape[0] * box["height"]


def show_chart(page, views: list[str], touch: bool = False) -> None:
    press = (lambda loc: loc.tap()) if touch else (lambda loc: loc.click())
    press(page.get_by_role("button", name="Body chart", exact=True))
    page.wait_for_function("() => window.__hipvizChart && window.__hipvizChart.built", timeout=60_000)
    for name, label in (("front", "Front"), ("back", "Back"), ("left", "Left side"), ("right", "Right side")):
        button = page.locator(f"button.hv-chart-view[data-view={name}]")
        if (button.get_attribute("aria-pressed") == "true") != (name in views):
            press(button)
    page.wait_for_timeout(300)


def updates(page) -> int:
    return int(page.locator(".hv-chart").get_attribute("data-updates") or 0)


def test_a_whole_pain_map_with_the_body_chart_only(context, server, chart, tmp_path_factory):
    pts, labels, ch = chart
    page = context.new_page()
    page.set_default_timeout(90_000)
    errors = open_app(page, server.url)
    show_chart(page, ["right", "back"])
    assert not page.locator(".hv-root").is_visible()          # the 3D view gives the chart its place

    # a drag down the side of the right hip and thigh, on the right-side view
    right = ch.views["right"]
    hip = region_centre(pts, labels, "lateral_hip_trochanter", 2)
    thigh = region_centre(pts, labels, "lateral_thigh", 2)
    (x0, y0), (x1, y1) = page_xy(page, right, hip), page_xy(page, right, thigh)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x0 + (x1 - x0) * i / 12, y0 + (y1 - y0) * i / 12, steps=2)
    page.mouse.up()
    page.locator(".hv-chart[data-updates]").wait_for(timeout=15_000)
    # and a tap on the right buttock, on the back view
    bx, by = page_xy(page, ch.views["back"], region_centre(pts, labels, "buttock_upper", 2))
    before = updates(page)
    page.mouse.click(bx, by)
    for _ in range(75):                              # the back view takes the tap's colours
        if updates(page) > before:
            break
        page.wait_for_timeout(200)
    assert updates(page) > before
    wait_ranking(page)
    page.wait_for_timeout(1500)

    top = [e.get_attribute("data-condition") for e in page.locator(".hv-cand").all()[:5]]
    assert "gtps_gluteal_tendinopathy" in top, top
    token, map_id = token_and_map(page, wait_s=10)
    doc = stored_document(server.db, token, map_id)
    painted = {(r["region"], r["side"]) for r in doc.get("regions", [])}
    assert ("lateral_hip_trochanter", "right") in painted and ("buttock_upper", "right") in painted, painted
    assert not any(side == "left" for _, side in painted), painted

    # the 3D view shows what the chart painted
    page.get_by_role("button", name="3D body", exact=True).click()
    page.locator(".hv-root").wait_for(state="visible")
    assert page.evaluate("() => (window.__hipviz.skinVersion || 0) > 0")
    page.screenshot(path=str(_shot_dir(tmp_path_factory) / "body-chart-3d.png"))
    assert not errors, errors


def test_one_finger_on_a_phone_paints_the_chart(browser, server, chart, tmp_path_factory):
    pts, labels, ch = chart
    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    try:
        page = ctx.new_page()
        page.set_default_timeout(90_000)      # a phone-sized software-rendered first frame can hold the page for long
        errors = open_app(page, server.url)
        show_chart(page, ["front", "back"], touch=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        for b in page.locator("button.hv-chart-view").all():
            assert b.bounding_box()["height"] >= 44
        x, y = page_xy(page, ch.views["front"], region_centre(pts, labels, "groin", 1))
        page.touchscreen.tap(x, y)
        page.locator(".hv-chart[data-updates]").wait_for(timeout=15_000)
        page.locator(".bk-tab", has_text="Results").tap()
        wait_ranking(page)
        page.screenshot(path=str(_shot_dir(tmp_path_factory) / "body-chart-phone.png"))
        token, map_id = token_and_map(page, wait_s=10)
        painted = {(r["region"], r["side"]) for r in stored_document(server.db, token, map_id).get("regions", [])}
        assert ("groin", "left") in painted, painted
        assert not errors, errors
    finally:
        ctx.close()


def _tab_to(page, want, limit: int = 250) -> dict:
    """Press Tab until `want(focused)` holds; the keyboard alone, no mouse."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUSED)
        if f and want(f):
            return f
    raise AssertionError("never reached by Tab")


def test_a_whole_pain_map_from_the_keyboard_alone(context, server):
    page = context.new_page()
    page.set_default_timeout(90_000)
    errors = open_app(page, server.url)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    _tab_to(page, lambda f: f["tag"] == "BUTTON" and f["name"] == "List")
    page.keyboard.press("Enter")
    page.locator(".hv-rl").wait_for(state="visible", timeout=15_000)

    hip = _tab_to(page, lambda f: f["type"] == "checkbox" and f["name"].startswith("Side of the hip") and f["name"].endswith("right"))
    assert not hip["checked"]
    page.keyboard.press("Space")
    # the tick comes back from the server with the region's strength (6); change the strength
    # once it has, as a person would after seeing the area ticked
    wait_ranking(page)
    page.wait_for_timeout(1000)
    page.keyboard.press("Tab")                       # its strength
    f = page.evaluate(FOCUSED)
    assert f["tag"] == "SELECT" and "Side of the hip" in f["name"], f
    for _ in range(2):
        page.keyboard.press("ArrowDown")             # 6/10 -> 8/10
    page.wait_for_timeout(300)
    assert page.evaluate(FOCUSED)["value"] == "8"
    _tab_to(page, lambda f: f["type"] == "checkbox" and f["name"].startswith("Outer thigh") and f["name"].endswith("right"))
    page.keyboard.press("Space")
    wait_ranking(page)
    page.wait_for_timeout(1500)

    top = [e.get_attribute("data-condition") for e in page.locator(".hv-cand").all()[:5]]
    assert "gtps_gluteal_tendinopathy" in top, top
    token, map_id = token_and_map(page, wait_s=10)
    regions = {(r["region"], r["side"]): r["intensity"] for r in stored_document(server.db, token, map_id).get("regions", [])}
    assert regions.get(("lateral_hip_trochanter", "right")) == 8, regions
    assert ("lateral_thigh", "right") in regions, regions

    # unticking clears the area again, from the keyboard
    page.keyboard.press("Space")
    page.wait_for_timeout(1500)
    regions = {(r["region"], r["side"]) for r in stored_document(server.db, token, map_id).get("regions", [])}
    assert ("lateral_thigh", "right") not in regions and ("lateral_hip_trochanter", "right") in regions, regions
    assert not errors, errors


def axe_serious(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 120))}));
    }""")


@pytest.mark.parametrize("viewport,touch", [({"width": 1400, "height": 860}, False), (PHONE, True)], ids=["desktop", "phone"])
def test_the_main_screens_have_no_serious_accessibility_violation(browser, server, viewport, touch):
    ctx = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    try:
        page = ctx.new_page()
        page.set_default_timeout(90_000)      # a phone-sized software-rendered first frame can hold the page for long
        open_app(page, server.url)
        press = (lambda loc: loc.tap()) if touch else (lambda loc: loc.click())
        found = {}
        page.wait_for_timeout(1000)
        found["3D body"] = axe_serious(page)
        press(page.get_by_role("button", name="Body chart", exact=True))
        page.wait_for_function("() => window.__hipvizChart && window.__hipvizChart.built", timeout=60_000)
        found["Body chart"] = axe_serious(page)
        press(page.get_by_role("button", name="List", exact=True))
        page.locator(".hv-rl").wait_for(state="visible")
        found["List"] = axe_serious(page)
        # each tab is audited once it is on screen (a tab is built when opened), not half-built
        shown = {"Questions": page.get_by_role("checkbox", name="Aching", exact=True),
                 "My maps": page.get_by_label("Name of this map"),
                 "Learn": page.get_by_placeholder("e.g. piriformis, sciatic, L5"),
                 "Body": page.get_by_role("button", name="Right side")}
        for name, marker in shown.items():
            press(page.locator(".bk-tab", has_text=name))
            marker.first.wait_for(state="visible", timeout=30_000)
            page.wait_for_timeout(800)
            found[name] = axe_serious(page)
        assert not any(found.values()), {k: v for k, v in found.items() if v}
    finally:
        ctx.close()
