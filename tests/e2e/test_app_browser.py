"""End-to-end: the app in headless Chromium against a real `hipviz serve` process."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from conftest import load_test_atlas, open_app
from PIL import Image

from hipviz.painmap import REGION_IDS

pytestmark = pytest.mark.browser

SHOTS = None


def _shot_dir(tmp_path_factory):
    global SHOTS
    if SHOTS is None:
        SHOTS = tmp_path_factory.mktemp("screenshots")
    return SHOTS


@pytest.fixture(scope="module")
def target():
    """Centroid and outward normal of the right lateral hip (greater trochanter) skin region."""
    atlas = load_test_atlas()
    lab = atlas.skin_labels()
    skin = atlas.polydata("skin")
    mask = (lab.region == REGION_IDS.index("lateral_hip_trochanter")) & (lab.side == 2)
    pts = np.asarray(skin.points)[mask]
    c = pts.mean(axis=0)
    # the labelled vertex nearest the centroid, so the point lies on the surface
    return pts[np.argmin(np.linalg.norm(pts - c, axis=1))].tolist()


def _press(locator, touch: bool) -> None:
    locator.tap() if touch else locator.click()


def tab(page, name, touch: bool = False):
    _press(page.locator(".bk-tab", has_text=name), touch)


def enter_paint_mode(page, side: str = "Right side", touch: bool = False, settle_ms: int = 400) -> None:
    """Turn the body to a preset, then switch to paint mode (by mouse or by finger)."""
    tab(page, "Body", touch)
    _press(page.get_by_role("button", name=side), touch)
    page.wait_for_timeout(settle_ms)
    tab(page, "Paint", touch)
    _press(page.get_by_role("button", name="Paint", exact=True), touch)
    page.locator(".hv-root.painting").wait_for(timeout=10_000)


def view_image(page) -> np.ndarray:
    png = page.locator(".hv-root").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def token_and_map(page, wait_s: float = 0.0) -> tuple[str, int | None]:
    """The person's token and the map's id from the page address; the id is None while the map
    is blank (a map is stored only once something is painted or answered). With `wait_s`,
    waits that long for the map to be stored."""
    deadline = time.time() + wait_s
    while True:
        q = parse_qs(urlparse(page.url).query)
        if "m" in q or time.time() >= deadline:
            return q["s"][0], (int(q["m"][0]) if "m" in q else None)
        page.wait_for_timeout(200)


def stored_document(db, token, map_id) -> dict:
    """The stored document of a map ({} when there is none: nothing was stored)."""
    if map_id is None:
        return {}
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT document FROM maps WHERE token = ? AND id = ?", (token, map_id)).fetchone()
    return json.loads(row[0]) if row else {}


def paint_at(page, world, strokes=3, spread=14):
    """Right-side view, paint mode, then a few short mouse strokes around the projected point."""
    enter_paint_mode(page)
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", world)
    camera = "() => window.__hipviz.renderer.getActiveCamera().getPosition()"
    before = page.evaluate(camera)
    for k in range(strokes):
        oy = (k - strokes // 2) * spread
        page.mouse.move(x - spread, y + oy)
        page.mouse.down()
        for i in range(1, 9):
            page.mouse.move(x - spread + i * spread / 4, y + oy, steps=2)
        page.mouse.up()
    assert page.evaluate(camera) == before, "a paint stroke turned the body"
    return x, y


def wait_ranking(page, timeout=20_000):
    page.locator(".hv-cand").first.wait_for(timeout=timeout)


def test_page_loads_and_the_view_is_not_blank(context, server, requests_log, tmp_path_factory):
    page = context.new_page()
    errors = open_app(page, server.url, requests_log)
    page.wait_for_timeout(500)
    img = view_image(page)
    bg = img[2, 2]
    differs = np.abs(img - bg).sum(axis=2) > 30
    assert differs.mean() > 0.05, "the 3D view looks empty"
    assert len(np.unique(img[differs].reshape(-1, 3) // 16, axis=0)) > 8, "no shading in the 3D view"
    # the body is drawn before what lies under the solid skin is built
    t = page.evaluate("() => window.__hipviz.timing")
    assert t["firstFrame"] < t["built"], t
    page.screenshot(path=str(_shot_dir(tmp_path_factory) / "01-loaded.png"))
    assert not errors
    assert not requests_log.foreign(), requests_log.foreign()


def test_painting_the_right_lateral_hip_ranks_gluteal_tendinopathy(context, server, requests_log, target, tmp_path_factory):
    page = context.new_page()
    open_app(page, server.url, requests_log)
    before = view_image(page)
    x, y = paint_at(page, target)
    wait_ranking(page)
    page.wait_for_function("() => (window.__hipviz.skinVersion || 0) > 0")
    page.wait_for_timeout(300)
    top3 = [e.get_attribute("data-condition") for e in page.locator(".hv-cand").all()[:3]]
    assert "gtps_gluteal_tendinopathy" in top3, top3
    assert "right" in page.locator(".hv-painted").inner_text()
    token, map_id = token_and_map(page, wait_s=10)
    deadline = time.time() + 5
    while True:  # saved within a second of the stroke
        doc = stored_document(server.db, token, map_id)
        if doc.get("vertex_paint") or time.time() > deadline:
            break
        time.sleep(0.2)
    assert {"region": "lateral_hip_trochanter", "side": "right"} in [{k: r[k] for k in ("region", "side")} for r in doc["regions"]]
    after = view_image(page)
    box = page.locator(".hv-root").bounding_box()
    px, py = int(x - box["x"]), int(y - box["y"])
    patch_after = after[py - 3:py + 4, px - 3:px + 4].reshape(-1, 3).mean(axis=0)
    patch_before = before[py - 3:py + 4, px - 3:px + 4].reshape(-1, 3).mean(axis=0)
    assert patch_after[0] - patch_after[1] > patch_before[0] - patch_before[1] + 30, "the painted skin did not turn red"
    page.screenshot(path=str(_shot_dir(tmp_path_factory) / "02-painted.png"))
    assert not requests_log.foreign(), requests_log.foreign()


def test_reload_and_restart_restore_the_drawing(context, server, target, tmp_path_factory):
    page = context.new_page()
    open_app(page, server.url)
    paint_at(page, target, strokes=1)
    wait_ranking(page)
    painted = page.locator(".hv-painted").inner_text()
    page.wait_for_timeout(1000)
    page.reload()
    open_app(page, page.url)
    page.wait_for_function("() => (window.__hipviz.skinVersion || 0) > 0", timeout=60_000)
    assert page.locator(".hv-painted").inner_text() == painted
    # the bare address (as `hipviz serve` opens it) finds the same person through the cookie
    open_app(page, server.url)
    page.wait_for_function("() => (window.__hipviz.skinVersion || 0) > 0", timeout=60_000)
    assert page.locator(".hv-painted").inner_text() == painted
    page.screenshot(path=str(_shot_dir(tmp_path_factory) / "03-reloaded.png"))


def test_two_browser_contexts_stay_isolated(browser, server, target):
    from conftest import VIEWPORT
    a, b = browser.new_context(viewport=VIEWPORT), browser.new_context(viewport=VIEWPORT)
    try:
        pa = a.new_page()
        open_app(pa, server.url)
        paint_at(pa, target, strokes=1)
        wait_ranking(pa)
        pb = b.new_page()
        open_app(pb, server.url)
        pb.wait_for_timeout(800)
        assert pb.locator("text=/Nothing painted yet/").count() == 1
        assert pb.locator(".hv-cand").count() == 0
        ta, tb = token_and_map(pa)[0], token_and_map(pb)[0]
        assert ta != tb
        assert pb.evaluate("() => window.__hipviz.skinVersion || 0") == 0
        tab(pb, "My maps")
        assert pb.locator("select option", has_text="Pain map").count() == 0   # none of A's maps
        with sqlite3.connect(server.db) as c:
            n_b = c.execute("SELECT COUNT(*) FROM maps WHERE token = ?", (tb,)).fetchone()[0]
        assert n_b == 0          # B painted nothing: nothing is stored for B
    finally:
        a.close()
        b.close()


def test_import_rejects_a_bad_file_with_a_message(context, server, tmp_path):
    page = context.new_page()
    open_app(page, server.url)
    tab(page, "My maps")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "hipviz-painmap", "version": 1,
                               "regions": [{"region": "elbow", "side": "left", "intensity": 3}]}))
    page.locator("input[type=file]").set_input_files(str(bad))
    msg = page.locator(".hv-import-error")
    msg.wait_for(timeout=10_000)
    text = msg.inner_text()
    assert "regions[0].region" in text and "elbow" in text
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"format": "hipviz-painmap", "version": 1,
                                "regions": [{"region": "lateral_hip_trochanter", "side": "left", "intensity": 7}]}))
    page.locator("input[type=file]").set_input_files(str(good))
    page.locator(".hv-cand").first.wait_for(timeout=15_000)
    assert "left" in page.locator(".hv-painted").inner_text()


def test_touch_paints_resizes_and_saves_a_picture(browser, server, target, tmp_path):
    from conftest import VIEWPORT
    ctx = browser.new_context(viewport=VIEWPORT, has_touch=True, accept_downloads=True)
    try:
        page = ctx.new_page()
        open_app(page, server.url)
        enter_paint_mode(page, touch=True)
        x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", target)
        page.touchscreen.tap(x, y)                      # one finger paints in paint mode
        wait_ranking(page)
        assert "right" in page.locator(".hv-painted").inner_text()
        # the view follows the page size
        w0 = page.evaluate("() => window.__hipviz.glwin.getSize()[0]")
        page.set_viewport_size({"width": 1100, "height": 760})
        page.wait_for_function(f"() => window.__hipviz.glwin.getSize()[0] < {w0}", timeout=10_000)
        # a PNG of the view
        tab(page, "My maps")
        with page.expect_download(timeout=20_000) as dl:
            page.get_by_role("button", name="Save a picture of the view (PNG)").tap()
        path = tmp_path / "view.png"
        dl.value.save_as(path)
        img = np.asarray(Image.open(path).convert("RGB"))
        assert img.shape[0] > 200 and img.std() > 10
    finally:
        ctx.close()
