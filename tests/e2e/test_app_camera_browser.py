"""End-to-end: the camera of a map is kept, so a reload opens the view where it was left."""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
import pytest
from conftest import open_app
from test_app_browser import tab, token_and_map

pytestmark = pytest.mark.browser

CAMERA = """() => { const c = window.__hipviz.renderer.getActiveCamera();
  return [...c.getPosition(), ...c.getFocalPoint(), ...c.getViewUp()]; }"""


def stored_camera(db, token, map_id, expect=None, timeout=10.0):
    """The camera stored for the map; with `expect`, waits until the stored position settles
    there (writes are debounced, so an earlier position of the same drag may be read first)."""
    deadline = time.time() + timeout
    while True:
        with sqlite3.connect(db) as c:
            row = c.execute("SELECT camera FROM maps WHERE token = ? AND id = ?", (token, map_id)).fetchone()
        cam = json.loads(row[0]) if row and row[0] else None
        settled = cam is not None and (expect is None or np.allclose(cam["position"], expect, atol=1e-3))
        if settled or time.time() > deadline:
            return cam
        time.sleep(0.2)


def test_a_turned_view_survives_a_reload(context, server):
    page = context.new_page()
    open_app(page, server.url)
    page.wait_for_function("() => window.__hipviz.reportCamera === true", timeout=20_000)
    # a map is stored once something is answered or painted; then its camera is kept
    tab(page, "Questions")
    page.get_by_role("checkbox", name="Aching").check()
    token, map_id = token_and_map(page, wait_s=10)
    assert map_id is not None, "answering did not store the map"
    start = np.array(page.evaluate(CAMERA))
    box = page.locator(".hv-root").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 120, cy)                 # look-around mode: a drag turns the body
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(cx - 120 + i * 12, cy + i * 2)
    page.mouse.up()
    turned = np.array(page.evaluate(CAMERA))
    assert np.abs(turned[:3] - start[:3]).max() > 0.2, "the drag did not turn the view"
    cam = stored_camera(server.db, token, map_id, expect=turned[:3])
    assert cam is not None, "the camera was not saved"
    assert np.allclose(cam["position"], turned[:3], atol=1e-3)
    page.reload()
    open_app(page, page.url)
    page.wait_for_function("() => window.__hipviz.reportCamera === true", timeout=20_000)
    again = np.array(page.evaluate(CAMERA))
    assert np.allclose(again, turned, atol=1e-3), (again, turned)
