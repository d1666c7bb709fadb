"""Faults a patient meets in the browser: a stroke held still, the server killed mid-stroke and
started again, and where the save status shows.

The server here is this module's own (it is killed and restarted on the same port)."""

from __future__ import annotations

import os
import signal

import pytest
from conftest import open_app, start_server, stop_server
from test_app_browser import enter_paint_mode, stored_document, tab, target, token_and_map, wait_ranking  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def own_server(tmp_path):
    s = start_server(tmp_path)
    yield s
    if s.proc.poll() is None:
        stop_server(s)


def _press_and_hold(page, world):
    """Paint mode on the right side; press on the hip, move a little, then keep the button down."""
    enter_paint_mode(page)
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", world)
    page.mouse.move(x - 12, y)
    page.mouse.down()
    for i in range(1, 7):
        page.mouse.move(x - 12 + i * 4, y, steps=2)
    return x, y


def _painted_vertices(db, token, map_id) -> int:
    """How many painted regions the stored map has (0 when nothing is stored)."""
    return len(stored_document(db, token, map_id).get("regions", []))


def test_a_stroke_held_still_is_saved_and_survives_a_killed_server(browser, own_server, target, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 860})
    page = ctx.new_page()
    open_app(page, own_server.url)
    _press_and_hold(page, target)
    # the pointer stays down and still: no more dabs reach the server, yet the paint is saved
    token, map_id = token_and_map(page, wait_s=20)
    assert map_id is not None, "a held stroke stored nothing"
    deadline_ms = 20_000
    for _ in range(deadline_ms // 250):
        if _painted_vertices(own_server.db, token, map_id) > 0:
            break
        page.wait_for_timeout(250)
    assert _painted_vertices(own_server.db, token, map_id) > 0, "the stroke in progress was not saved"

    # the server dies while the button is still down: the page says so at once
    os.kill(own_server.proc.pid, signal.SIGKILL)
    own_server.proc.wait()
    banner = page.locator(".hv-conn")
    banner.wait_for(state="visible", timeout=20_000)
    assert banner.get_attribute("role") == "alert"
    assert "connection to hipviz was lost" in banner.inner_text()
    page.mouse.up()
    page.evaluate("() => { window.__beforeRestart = true; }")

    # started again on the same port: the page comes back by itself, with the paint
    port = int(own_server.url.split(":")[2].split("/")[0])
    again = start_server(tmp_path, port=port)
    try:
        # a new page (the marker is gone), built, with the stored paint on the skin
        page.wait_for_function("() => !window.__beforeRestart && window.__hipviz && window.__hipviz.built"
                               " && window.__hipviz.frames > 0 && (window.__hipviz.skinVersion || 0) > 0", timeout=120_000)
        page.locator(".hv-conn").wait_for(state="hidden", timeout=30_000)
        assert _painted_vertices(again.db, token, map_id) > 0
        assert page.locator(".hv-painted").inner_text().strip() != ""
    finally:
        stop_server(again)
        ctx.close()


def test_the_save_status_shows_on_every_tab(browser, own_server, target):
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    open_app(page, own_server.url)
    _press_and_hold(page, target)
    page.mouse.up()
    wait_ranking(page)
    status = page.locator(".hv-save")
    status.wait_for(state="visible", timeout=20_000)
    assert "Saved" in status.inner_text()
    for name in ("Questions", "Body", "My maps"):
        tab(page, name)
        assert status.is_visible(), f"the save status is hidden on the {name} tab"
    ctx.close()
