"""End-to-end: the page draws a dab the moment the pointer moves, before the server answers, and
the server's colours are the truth once the stroke is done.

A slow network is made in the page itself (slow_socket.js): every websocket message, both ways,
is held for `DELAY_MS`; a dab is drawn before its message leaves the page, so an answer
can come only two delays later. The checks are about order, not wall-clock time: paint is on screen
while no colour from the server has arrived yet.
"""

from __future__ import annotations

from pathlib import Path

from conftest import open_app
from test_app_browser import _shot_dir, enter_paint_mode, tab, target, view_image  # noqa: F401 (target is a fixture)

DELAY_MS = 4000   # long enough that no answer can come back while the test looks (its order, not its speed)

SLOW_SOCKET = (Path(__file__).parent / "slow_socket.js").read_text()


def _skin_state(page) -> dict:
    return page.evaluate("""() => {
      const S = window.__hipviz, sk = S.skin;
      let differ = 0, painted = 0;
      for (let k = 0; k < sk.rgb.length; k += 3) {
        if (sk.rgb[k] !== sk.server[k] || sk.rgb[k + 1] !== sk.server[k + 1] || sk.rgb[k + 2] !== sk.server[k + 2]) differ++;
        if (sk.server[k] !== sk.base[0] || sk.server[k + 1] !== sk.base[1] || sk.server[k + 2] !== sk.base[2]) painted++;
      }
      return { skinVersion: S.skinVersion || 0, drawnDabs: S.drawnDabs || 0, pending: S.drawn.size, differ, painted };
    }""")


def _stroke_start(page, target) -> tuple[float, float]:
    enter_paint_mode(page)
    return page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", target)


def test_a_dab_is_on_screen_before_the_server_answers(browser, server, target, tmp_path_factory):
    from conftest import VIEWPORT
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        ctx.add_init_script(SLOW_SOCKET)
        page = ctx.new_page()
        open_app(page, server.url, timeout=120_000)
        x, y = _stroke_start(page, target)
        page.evaluate(f"() => {{ window.__wsDelayMs = {DELAY_MS}; }}")
        before = view_image(page)
        page.mouse.move(x - 12, y)
        page.mouse.down()
        page.mouse.move(x + 12, y, steps=6)
        page.wait_for_function("() => (window.__hipviz.drawnDabs || 0) > 0", timeout=60_000)
        page.wait_for_function("() => window.__hipviz.timing.skinRendered >= window.__hipviz.timing.dabDrawn",
                               timeout=60_000)
        during = view_image(page)
        page.screenshot(path=str(_shot_dir(tmp_path_factory) / "local-dab-before-the-server.png"))
        state = _skin_state(page)
        # the paint is on screen, and nothing from the server has come back yet
        assert state["skinVersion"] == 0 and state["painted"] == 0, state
        assert state["differ"] > 0, state
        box = page.locator(".hv-root").bounding_box()
        px, py = int(x - box["x"]), int(y - box["y"])
        redness = lambda img: float((img[py - 3:py + 4, px - 3:px + 4, 0] - img[py - 3:py + 4, px - 3:px + 4, 1]).mean())
        assert redness(during) > redness(before) + 30, "the dab is not on screen"
        page.mouse.up()
        # the server's answer replaces the page's own drawing, which leaves nothing of its own
        page.wait_for_function("() => window.__hipviz.drawn.size === 0 && (window.__hipviz.skinVersion || 0) > 0",
                               timeout=60_000)
        done = _skin_state(page)
        assert done["differ"] == 0 and done["painted"] > 0, done
        # each dab and answer recomputed the drawn paint only near the vertices it changed, and
        # the result is what recomputing the whole skin gives
        shade = page.evaluate("""() => {
          const S = window.__hipviz, sk = S.skin, n = sk.rgb.length / 3, updated = sk.paintUpdated;
          const step = Float32Array.from(sk.attr.paint.getData());
          S.paintChanged();
          const whole = sk.attr.paint.getData();
          let worst = 0, covered = 0;
          for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(step[i] - whole[i]));
          for (let v = 0; v < n; v++) if (whole[4 * v + 3] > 0) covered++;
          return { n, updated, worst, covered };
        }""")
        assert shade["covered"] > 0 and shade["worst"] < 1e-4, shade
        assert 0 < shade["updated"] < shade["n"] / 10, shade
        page.screenshot(path=str(_shot_dir(tmp_path_factory) / "local-dab-confirmed.png"))
        page.evaluate("() => { window.__wsDelayMs = 0; }")
    finally:
        ctx.close()


def test_what_the_server_does_not_confirm_is_taken_back(context, server, target):
    """The page draws with a brush far wider than the server's: at the stroke's end the extra
    paint goes, and the skin shows exactly the server's colours."""
    page = context.new_page()
    open_app(page, server.url)
    x, y = _stroke_start(page, target)
    page.evaluate("() => { const m = window.__hipviz.model; m.brush = { ...m.brush, radius: 0.12 }; }")
    page.mouse.move(x - 6, y)
    page.mouse.down()
    page.mouse.move(x + 6, y, steps=3)
    page.wait_for_function("() => (window.__hipviz.drawnDabs || 0) > 0")
    drawn = page.evaluate("() => Math.max(...[...window.__hipviz.drawn.values()].map((s) => s.size))")
    page.mouse.up()
    page.wait_for_function("() => window.__hipviz.drawn.size === 0 && (window.__hipviz.skinVersion || 0) > 0",
                           timeout=60_000)
    done = _skin_state(page)
    assert done["differ"] == 0, done
    assert 0 < done["painted"] < drawn / 3, (done, drawn)     # a 3 cm brush against a 12 cm one


def test_the_page_draws_in_the_brush_colour_and_the_eraser_draws_skin(context, server, target):
    page = context.new_page()
    open_app(page, server.url)
    brush = page.evaluate("() => window.__hipviz.model.brush")
    assert brush["radius"] > 0 and len(brush["rgb"]) == 3
    base = page.evaluate("() => Array.from(window.__hipviz.skin.base)")
    assert brush["rgb"] != base
    tab(page, "Paint")
    page.get_by_role("button", name="Eraser").click()
    page.wait_for_function("(base) => window.__hipviz.model.brush.rgb.every((v, i) => v === base[i])", arg=base)


def test_a_ring_shows_where_the_brush_will_paint(context, server, target, tmp_path_factory):
    page = context.new_page()
    open_app(page, server.url)
    x, y = _stroke_start(page, target)
    ring = page.locator(".hv-ring")
    page.mouse.move(x, y)
    ring.wait_for(state="visible", timeout=10_000)
    small = ring.bounding_box()
    assert abs(small["x"] + small["width"] / 2 - x) < 2 and abs(small["y"] + small["height"] / 2 - y) < 2
    assert 8 < small["width"] < 300, small
    page.screenshot(path=str(_shot_dir(tmp_path_factory) / "brush-ring.png"))
    page.evaluate("() => { const m = window.__hipviz.model; m.brush = { ...m.brush, radius: 2 * m.brush.radius }; }")
    page.mouse.move(x + 1, y)
    for _ in range(50):
        if ring.bounding_box()["width"] > 1.5 * small["width"]:
            break
        page.wait_for_timeout(100)
    assert 1.5 * small["width"] < ring.bounding_box()["width"] < 2.5 * small["width"]
    box = page.locator(".hv-root").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] / 2)     # beside the body: no skin under the pointer
    ring.wait_for(state="hidden", timeout=5_000)
    assert page.evaluate("() => window.__hipviz.skinVersion || 0") == 0    # hovering paints nothing
