"""End-to-end: one person paints two maps, compares them in My maps, and sees both on the body
(earlier blue, later orange), the change per body area, and the chart of all their maps; leaving
the comparison shows the open map again and neither map was written."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest
from conftest import load_test_atlas, open_app
from test_app_browser import enter_paint_mode, tab, token_and_map, view_image

from hipviz.app.visit_colours import visit_style
from hipviz.painmap import REGION_IDS

style = visit_style()

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hips():
    """A point on the right and on the left lateral hip skin (the labelled vertex nearest each centroid)."""
    atlas = load_test_atlas()
    lab = atlas.skin_labels()
    pts = np.asarray(atlas.polydata("skin").points)
    out = {}
    for name, code in (("right", 2), ("left", 1)):
        m = (lab.region == REGION_IDS.index("lateral_hip_trochanter")) & (lab.side == code)
        p = pts[m]
        out[name] = p[np.argmin(np.linalg.norm(p - p.mean(0), axis=1))].tolist()
    return out


def _paint(page, world, side: str) -> None:
    enter_paint_mode(page, side)
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", world)
    for k in (-1, 0, 1):
        page.mouse.move(x - 14, y + 14 * k)
        page.mouse.down()
        for i in range(1, 9):
            page.mouse.move(x - 14 + i * 3.5, y + 14 * k, steps=2)
        page.mouse.up()
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Look around", exact=True).click()


def _patch(page, world) -> np.ndarray:
    """Mean colour of the view around a point of the body."""
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", world)
    img = view_image(page)
    box = page.locator(".hv-root").first.bounding_box()
    px, py = int(x - box["x"]), int(y - box["y"])
    return img[py - 3:py + 4, px - 3:px + 4].reshape(-1, 3).mean(axis=0)


def _new_map_id(page, old: int, wait_s: float = 20) -> int:
    """The id of the map stored after `old` (from the page address)."""
    deadline = time.time() + wait_s
    while True:
        _, m = token_and_map(page)
        if m not in (None, old) or time.time() > deadline:
            assert m not in (None, old), m
            return m
        page.wait_for_timeout(200)


# the chart's data source (an earlier chart, drawn before the second map, may linger in the page: the
# one with the most maps is the chart shown)
CHART_COLOURS = ("(() => { let best = null; for (const d of window.Bokeh.documents) for (const m of d._all_models.values())"
                 " if (m.name === 'visits' && (!best || m.data.map_id.length >= best.data.map_id.length)) best = m;"
                 " return best ? Array.from(best.data.colour) : null; })()")


def _chart_colours(page) -> list | None:
    """The chart's marker colours as the page has them (Bokeh's copy of the data)."""
    return page.evaluate(f"() => {CHART_COLOURS}")


def _versions(db, token) -> dict:
    with sqlite3.connect(db) as c:
        return dict(c.execute("SELECT id, version FROM maps WHERE token = ?", (token,)).fetchall())


def _turn(page, side: str) -> None:
    tab(page, "Body")
    page.get_by_role("button", name=side).click()
    page.wait_for_timeout(500)


def test_two_maps_compare_on_the_body_in_the_table_and_the_chart(context, server, hips, requests_log, tmp_path):
    page = context.new_page()
    page.set_default_timeout(60_000)            # a loaded machine
    errors = open_app(page, server.url, requests_log)
    _paint(page, hips["right"], "Right side")
    token, first = token_and_map(page, wait_s=10)
    assert first is not None
    tab(page, "My maps")
    page.get_by_role("button", name="New map").click()
    page.locator(".hv-painted").wait_for(state="detached", timeout=20_000)   # a blank map: nothing painted
    _paint(page, hips["left"], "Left side")
    second = _new_map_id(page, first)
    page.wait_for_timeout(1200)                    # the stroke's save
    versions = _versions(server.db, token)

    tab(page, "My maps")
    compare = page.get_by_role("button", name="Compare on the body")
    compare.wait_for(timeout=10_000)
    compare.click()
    table = page.locator(".hv-vtable")
    table.wait_for(timeout=20_000)
    status = {r.get_attribute("data-side"): r.get_attribute("data-status")
              for r in page.locator(".hv-vtable tr[data-region='lateral_hip_trochanter']").all()}
    assert status == {"right": "gone", "left": "new"}, status
    assert "gone" in table.inner_text() and "new" in table.inner_text()
    assert page.locator(".hv-vtitle").get_attribute("data-earlier") == str(first)

    # the chart across the maps draws (Bokeh, from the local server)
    page.locator(".hv-vchart canvas").first.wait_for(timeout=20_000)
    assert _chart_colours(page) == [style.colours["earlier"], style.colours["later"]]
    page.screenshot(path=str(tmp_path / "compare-1400.png"))

    # the body shows both: the earlier map blue on the right hip, the later orange on the left
    _turn(page, "Right side")
    right = _patch(page, hips["right"])
    assert right[2] > right[0] + 25, right
    _turn(page, "Left side")
    left = _patch(page, hips["left"])
    assert left[0] > left[2] + 60, left
    assert "Blue" in page.locator(".hv-caption").inner_text()

    # back to the open map (the later one): its own paint, the comparison's colours gone
    page.get_by_role("button", name="← Back to my map").click()
    page.locator(".hv-vtable").wait_for(state="hidden", timeout=10_000)
    page.wait_for_timeout(500)
    _turn(page, "Right side")
    right_after = _patch(page, hips["right"])
    assert not right_after[2] > right_after[0] + 25, right_after
    assert page.locator(".hv-caption").is_hidden()
    assert _versions(server.db, token) == versions              # comparing wrote neither map
    # the chart sits in the My maps tab, built when the tab opens: no pair marked any more
    tab(page, "My maps")
    page.wait_for_function(f"() => {{ const c = {CHART_COLOURS}; return !!c && c.every(x => x === '{style.colours['line']}'); }}")
    assert not errors, errors
    assert not requests_log.foreign(), requests_log.foreign()
