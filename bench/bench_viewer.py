"""Benchmark the hipviz 3D viewer against Panel's own `pn.pane.VTK` showing the same scene.

Prints, for the full atlas scene (or the small fake body with --fake):
- bytes sent to the browser for the first load (HTTP bodies + WebSocket frames) and per paint update;
- server time per paint stroke (the Python work the server does for one brush dab);
- click-to-recoloured-frame latency in headless Chromium (median and 95th percentile), on the
  loopback and with a slow network (every websocket message held 100 ms each way in the page):
  hipviz draws the dab in the page at once, so its figure should not grow with the delay.
Each figure is shown beside the same figure for `pn.pane.VTK` (the synchronised vtk.js pane Panel
builds for a vtkRenderWindow), with the ratio VTK / hipviz.

`pn.pane.VTK` cannot report a click on the 3D view (DESIGN.md section 2), so for it a "click" is a
press of a Panel button beside the view that paints the same brush dab at the same skin vertex;
both latencies run from the press (pointerdown) to the first finished frame whose pixel under
the dab has changed colour. The same probe serves both: the page's WebGL contexts keep their
drawing buffer, and each animation frame the probe reads that pixel with gl.readPixels.

Usage: python bench/bench_viewer.py [--fake] [--repeats N] [--json]
Needs Debian chromium at /usr/bin/chromium and PyPI playwright (never `playwright install`).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 860}
BRUSH_CM = 3.0


# ---- the atlas and the target ------------------------------------------------------------------

def load_atlas(fake: bool):
    if fake:
        sys.path.insert(0, str(TESTS))
        from test_app_fakes import fake_atlas
        return fake_atlas()
    from hipviz.atlas.meshes import load_atlas as real
    return real()


def real_atlas_available() -> bool:
    try:
        from hipviz.paths import data_dir
        return (data_dir("meshes") / "manifest.json").is_file()
    except (FileNotFoundError, ImportError):
        return False


def target_vertex(atlas) -> int:
    """The skin vertex nearest the centre of the right lateral hip region."""
    from hipviz.painmap import REGION_IDS
    lab = atlas.skin_labels()
    pts = np.asarray(atlas.polydata("skin").points)
    idx = np.flatnonzero((lab.region == REGION_IDS.index("lateral_hip_trochanter")) & (lab.side == 2))
    c = pts[idx].mean(axis=0)
    return int(idx[np.argmin(np.linalg.norm(pts[idx] - c, axis=1))])


# ---- the pn.pane.VTK scene ---------------------------------------------------------------------

def vtk_scene(atlas):
    """A PyVista plotter with the same actors, colours, opacities and camera as the viewer."""
    import pyvista as pv

    from hipviz.app.scene import SKIN_ID
    from hipviz.colours import hex_to_rgb
    from hipviz.render.views import views

    pl = pv.Plotter(off_screen=True, window_size=(720, 808))
    pl.set_background("#20242e")
    skin_mesh = None
    for sid, info in atlas.manifest.items():
        mesh = atlas.polydata(sid).copy()
        if sid == SKIN_ID:
            mesh.point_data["paint"] = np.tile(np.array(hex_to_rgb(info.colour), np.uint8), (mesh.n_points, 1))
            actor = pl.add_mesh(mesh, scalars="paint", rgb=True, smooth_shading=True, opacity=info.opacity)
            skin_mesh = mesh
        else:
            actor = pl.add_mesh(mesh, color=info.colour, smooth_shading=True, opacity=info.opacity)
        actor.SetVisibility(bool(info.visible))
    v = views()["right"]
    pl.camera.position, pl.camera.focal_point, pl.camera.up = v.position, v.focal_point, v.view_up
    pl.camera.view_angle = 30
    return pl, skin_mesh


class VTKRecolour:
    """Paints or erases the brush dab on the VTK pane's skin (alternating), like a click would."""

    def __init__(self, atlas, skin_mesh, pane):
        from hipviz.app.layout import AppContext
        from hipviz.app.store import Store
        ctx = AppContext(atlas, Store(":memory:"))
        self.session = ctx.new_session()
        self.session.brush.radius_cm = BRUSH_CM
        self.vertex = target_vertex(atlas)
        self.skin = skin_mesh
        self.pane = pane
        self.n = 0

    def recolour(self) -> None:
        self.session.brush.eraser = self.n % 2 == 1
        self.n += 1
        changed = self.session.dab([self.vertex], key=self.n)
        self.session.end_stroke()
        # a new array each time: Panel's serializer fails on an array changed in place
        paint = np.array(self.skin.point_data["paint"], copy=True)
        paint[changed] = self.session.colours(changed)
        self.skin.point_data["paint"] = paint
        self.skin.GetPointData().SetActiveScalars("paint")
        self.skin.Modified()
        if self.pane is not None:
            self.pane.synchronize()


# ---- the bench server (a subprocess) ---------------------------------------------------------

def serve(port: int, fake: bool) -> None:
    import panel as pn

    if fake:
        sys.path.insert(0, str(TESTS))
        os.environ["HIPVIZ_ATLAS_FACTORY"] = "test_app_fakes:fake_atlas"
    from hipviz.app import server as app_server
    from hipviz.app.static_files import static_dirs

    ctx = app_server.context()
    atlas = ctx.atlas

    def vtk_page():
        pl, skin = vtk_scene(atlas)
        pane = pn.pane.VTK(pl.ren_win, sizing_mode="stretch_both", min_height=460)
        rec = VTKRecolour(atlas, skin, pane)
        button = pn.widgets.Button(label="Paint at the hip", width=300, height=44)
        button.on_click(lambda e: rec.recolour())
        header = pn.pane.HTML("<div style='height:52px;background:#1f2a38'></div>", height=52, sizing_mode="stretch_width", margin=0)
        page = pn.Column(header, pn.Row(pn.Column(button, width=340), pane, pn.Spacer(width=340), sizing_mode="stretch_both", margin=0),
                         sizing_mode="stretch_both", margin=0)
        return page

    os.environ["BOKEH_RESOURCES"] = "server"
    pn.extension("vtk")
    pn.serve({"hipviz": app_server.page, "vtkpane": vtk_page}, port=port, address="127.0.0.1", show=False,
             websocket_origin=[f"127.0.0.1:{port}"], start=True, websocket_max_message_size=1 << 30,
             static_dirs=static_dirs())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(fake: bool, db: Path):
    port = _free_port()
    env = dict(os.environ, HIPVIZ_DB=str(db), PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)] + (["--fake"] if fake else []),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bench server exited: {proc.stderr.read().decode()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/hipviz", timeout=5):
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("bench server did not start")


# ---- browser measurements ----------------------------------------------------------------------

class Traffic:
    """Bytes the page received: HTTP responses as on the wire (Chrome's encodedDataLength,
    headers included) and WebSocket frame payloads."""

    def __init__(self, page):
        self.http = 0
        self.ws = 0
        self.frames = 0
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.on("Network.loadingFinished", self._on_loaded)
        page.on("websocket", self._on_ws)

    def _on_loaded(self, event):
        self.http += int(event.get("encodedDataLength", 0))

    def _on_ws(self, ws):
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload):
        self.ws += len(payload) if payload is not None else 0
        self.frames += 1

    @property
    def total(self) -> int:
        return self.http + self.ws


SLOW_SOCKET = (TESTS / "e2e" / "slow_socket.js").read_text()
NETWORK_DELAY_MS = 100   # the slow network of a clinic: each websocket message waits this long, both ways

# Both viewers get WebGL contexts that keep their drawing buffer, so the probe can read the last
# frame at any time without rendering anything itself.
PRESERVE_JS = """
(() => {
  const orig = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, attrs) {
    if (typeof type === "string" && type.startsWith("webgl")) attrs = Object.assign({}, attrs || {}, { preserveDrawingBuffer: true });
    return orig.call(this, type, attrs);
  };
})();
"""

PROBE_JS = """
([getWindows, x, y]) => {
  // Each animation frame, read the pixel under the dab from the viewer's current WebGL canvas
  // (Panel's pane rebuilds its render window on updates, so it is looked up every time).
  // readPixels waits for the GPU to finish drawing, so a change is seen once the frame is done.
  const windows = (new Function('return ' + getWindows))();
  const sample = () => {
    const [, glwin] = windows();
    const [w, h] = glwin.getSize();
    const c = glwin.getCanvas().getBoundingClientRect();
    const px = Math.round((x - c.left) * w / c.width), py = Math.round(h - (y - c.top) * h / c.height);
    const gl = glwin.getContext();
    const buf = new Uint8Array(4);
    gl.readPixels(px, py, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, buf);
    return [performance.now(), buf[0], buf[1], buf[2]];
  };
  const P = window.__probe = { press: null, renders: [], done: true, sample };
  const tick = () => {
    if (P.press !== null && !P.done) { try { P.renders.push(sample()); } catch (e) { /* window being rebuilt */ } }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.addEventListener("pointerdown", () => { P.press = performance.now(); P.renders = []; P.done = false; }, true);
  return true;
}
"""

OURS_WINDOWS = "() => [window.__hipviz.interactor, window.__hipviz.glwin]"
VTK_WINDOWS = """() => { for (const m of Bokeh.documents[0].all_models) { if (m.renderer_el && m.renderer_el.getRenderer) {
  return [m.renderer_el.getInteractor(), m.renderer_el.getOpenGLRenderWindow()]; } } }"""


def _install_probe(page, windows_js, x, y):
    page.evaluate(PROBE_JS, [windows_js, x, y])


def _probe_latency(page, before, timeout=60.0) -> float:
    """ms from the press to the first rendered frame whose probe pixel differs from `before`."""
    t_end = time.perf_counter() + timeout
    while time.perf_counter() < t_end:
        r = page.evaluate("""(b) => { const P = window.__probe;
            for (const [t, r, g, bl] of P.renders) {
              if (Math.abs(r - b[0]) + Math.abs(g - b[1]) + Math.abs(bl - b[2]) > 40) { P.done = true; return t - P.press; } }
            return null; }""", list(map(float, before)))
        if r is not None:
            return r / 1000.0
        page.wait_for_timeout(20)
    raise TimeoutError("no recoloured frame")


def _probe_before(page, windows_js) -> list:
    """Render once and return the probe pixel (RGB) as it is now."""
    return page.evaluate("() => { const r = window.__probe.sample(); return [r[1], r[2], r[3]]; }")


def _pixel(page, x, y) -> np.ndarray:
    from PIL import Image
    png = page.screenshot(clip={"x": x - 1, "y": y - 1, "width": 3, "height": 3})
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).mean(axis=0)


def _wait_change(page, x, y, before, timeout=30.0) -> float:
    t_end = time.perf_counter() + timeout
    while time.perf_counter() < t_end:
        if np.abs(_pixel(page, x, y) - before).sum() > 40:
            return time.perf_counter()
    raise TimeoutError("the pixel under the dab did not change")


def _settle(page, traffic, quiet=0.6, timeout=30.0):
    """Wait until no bytes arrived for `quiet` seconds."""
    last, t0 = traffic.total, time.perf_counter()
    last_change = t0
    while time.perf_counter() - t0 < timeout:
        page.wait_for_timeout(100)
        if traffic.total != last:
            last, last_change = traffic.total, time.perf_counter()
        elif time.perf_counter() - last_change > quiet:
            return


def _context(browser, delay_ms: int):
    """A browser context whose canvases keep their drawing buffer (for the probe) and, with
    `delay_ms`, whose websocket messages each wait that long (a slow network, both ways)."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(PRESERVE_JS)
    if delay_ms:
        ctx.add_init_script(SLOW_SOCKET + f"\nwindow.__wsDelayMs = {int(delay_ms)};")
    return ctx


def bench_hipviz(browser, base, atlas, repeats, delay_ms: int = 0) -> dict:
    ctx = _context(browser, delay_ms)
    page = ctx.new_page()
    tr = Traffic(page)
    t0 = time.perf_counter()
    page.goto(base + "/hipviz")
    page.wait_for_function("() => window.__hipviz && window.__hipviz.built && window.__hipviz.frames > 0", timeout=300_000)
    first_frame_s = time.perf_counter() - t0
    _settle(page, tr)
    first = {"http": tr.http, "ws": tr.ws, "total": tr.total}
    page.locator(".bk-tab", has_text="Body").click()
    page.get_by_role("button", name="Right side").click()
    page.wait_for_timeout(500)
    page.locator(".bk-tab", has_text="Paint").click()
    page.get_by_role("button", name="Paint", exact=True).click()
    page.locator(".hv-root.painting").wait_for()
    world = np.asarray(atlas.polydata("skin").points)[target_vertex(atlas)].tolist()
    x, y = page.evaluate("([x, y, z]) => window.__hipviz.project(x, y, z)", world)
    eraser = page.get_by_role("button", name="Eraser")
    lat, internal, update_bytes = [], [], []
    page.mouse.click(x, y)      # warm-up: the first click captures the selection buffers
    _settle(page, tr)
    eraser.click()
    page.wait_for_timeout(300)
    _install_probe(page, OURS_WINDOWS, x, y)
    for i in range(repeats):
        _settle(page, tr, quiet=0.4)
        before = _probe_before(page, OURS_WINDOWS)
        b0 = tr.ws
        v0 = page.evaluate("() => window.__hipviz.skinVersion || 0")
        page.mouse.click(x, y)
        lat.append(_probe_latency(page, before))
        page.wait_for_function(f"() => (window.__hipviz.skinVersion || 0) > {v0} && !window.__hipviz.skinPending")
        internal.append(page.evaluate("() => { const t = window.__hipviz.timing; return [t.skinReceived - t.down, t.skinRendered - t.down, t.renderMs]; }"))
        _settle(page, tr, quiet=0.4)
        update_bytes.append(tr.ws - b0)
        eraser.click()
        page.wait_for_timeout(250)
    ctx.close()
    return {"first_load": first, "first_frame_s": first_frame_s, "update_bytes": update_bytes, "latency_s": lat,
            "internal_ms": internal}


def bench_vtk(browser, base, atlas, repeats, delay_ms: int = 0) -> dict:
    ctx = _context(browser, delay_ms)
    page = ctx.new_page()
    tr = Traffic(page)
    t0 = time.perf_counter()
    page.goto(base + "/vtkpane")
    n_actors = len(atlas.manifest)
    page.wait_for_function(
        """(n) => { const m = Bokeh.documents[0] && Bokeh.documents[0].all_models;
                  if (!m) return false;
                  for (const x of m) { if (x.renderer_el && x.renderer_el.getRenderer) {
                      const r = x.renderer_el.getRenderer(); return r && r.getActors().length >= n; } }
                  return false; }""", arg=n_actors, timeout=300_000)
    first_frame_s = time.perf_counter() - t0
    _settle(page, tr, quiet=1.0)
    first = {"http": tr.http, "ws": tr.ws, "total": tr.total}
    world = np.asarray(atlas.polydata("skin").points)[target_vertex(atlas)].tolist()
    x, y = page.evaluate(
        """([x, y, z]) => { for (const m of Bokeh.documents[0].all_models) { if (m.renderer_el && m.renderer_el.getRenderer) {
              const rw = m.renderer_el; const r = rw.getRenderer(); const gl = rw.getOpenGLRenderWindow();
              const [dx, dy] = gl.getSize ? gl.worldToDisplay(x, y, z, r) : [0, 0];
              const c = gl.getCanvas().getBoundingClientRect(); const [w, h] = gl.getSize();
              return [c.left + dx * c.width / w, c.top + (h - dy) * c.height / h]; } } }""", world)
    button = page.get_by_role("button", name="Paint at the hip")
    _install_probe(page, VTK_WINDOWS, x, y)
    lat, update_bytes = [], []
    for i in range(repeats * 2):   # paint, erase, paint, ...: every press changes the pixel
        _settle(page, tr, quiet=0.5)
        before = _probe_before(page, VTK_WINDOWS)
        b0 = tr.ws
        button.click()
        latency = _probe_latency(page, before)
        _settle(page, tr, quiet=0.5)
        if i % 2 == 0:
            lat.append(latency)
            update_bytes.append(tr.ws - b0)
    ctx.close()
    return {"first_load": first, "first_frame_s": first_frame_s, "update_bytes": update_bytes, "latency_s": lat}


# ---- server time per stroke (in process) -------------------------------------------------------

def server_times(atlas, repeats: int) -> dict:
    from panel.pane.vtk import synchronizable_serializer as rws

    from hipviz.app.layout import AppContext, HipvizApp
    from hipviz.app.store import Store

    v = target_vertex(atlas)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = AppContext(atlas, Store(Path(tmp) / "b.sqlite3"))
        ctx.warm_up()
        app = HipvizApp(ctx)
        app.radius.value = BRUSH_CM
        dab, stroke = [], []
        for i in range(repeats):
            app.eraser.value = i % 2 == 1
            t = time.perf_counter()
            app.viewer._handle_msg({"type": "dab", "stroke": i + 1, "points": [v]})
            t1 = time.perf_counter()
            app.viewer._handle_msg({"type": "stroke_end", "stroke": i + 1})
            t2 = time.perf_counter()
            dab.append(t1 - t)
            stroke.append(t2 - t)
        ctx.store.close()

    import panel as pn
    pl, skin = vtk_scene(atlas)
    pane = pn.pane.VTK(pl.ren_win)
    rec = VTKRecolour(atlas, skin, None)
    context = rws.SynchronizationContext(id_root="bench", serialize_all_data_arrays=False, debug=False)
    _, arrays, _ = pane._serialize_ren_win(pl.ren_win, context)
    processed = list(arrays)
    vtk_t = []
    for i in range(repeats):
        t = time.perf_counter()
        rec.recolour()
        scene, arrays, _ = pane._serialize_ren_win(pl.ren_win, context, exclude_arrays=processed)
        json.dumps(scene)
        context.checkForArraysToRelease()
        vtk_t.append(time.perf_counter() - t)
        processed += list(arrays)
    return {"hipviz_dab_s": dab, "hipviz_stroke_s": stroke, "vtk_s": vtk_t}


# ---- report ------------------------------------------------------------------------------------

def _p95(xs):
    return float(np.percentile(xs, 95))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fake", action="store_true", help="use the small fake body instead of the shipped atlas")
    ap.add_argument("--repeats", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.fake)
        return 0
    fake = args.fake or not real_atlas_available()
    if fake and not args.fake:
        print("note: the shipped atlas is not built; benchmarking the small fake body", file=sys.stderr)
    atlas = load_atlas(fake)
    tris = sum(atlas.polydata(s).n_cells for s in atlas.manifest)
    skin_tris = atlas.polydata("skin").n_cells

    from playwright.sync_api import sync_playwright
    srv = server_times(atlas, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(fake, Path(tmp) / "bench.sqlite3")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                ours = bench_hipviz(browser, base, atlas, args.repeats)
                theirs = bench_vtk(browser, base, atlas, args.repeats)
                slow = max(4, args.repeats // 2)
                ours_slow = bench_hipviz(browser, base, atlas, slow, NETWORK_DELAY_MS)
                theirs_slow = bench_vtk(browser, base, atlas, slow, NETWORK_DELAY_MS)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    med = statistics.median
    rows = [
        ("first load, bytes", ours["first_load"]["total"], theirs["first_load"]["total"], "{:,.0f}"),
        ("  of which WebSocket", ours["first_load"]["ws"], theirs["first_load"]["ws"], "{:,.0f}"),
        ("first frame, s", ours["first_frame_s"], theirs["first_frame_s"], "{:.2f}"),
        ("bytes per paint update (median)", med(ours["update_bytes"]), med(theirs["update_bytes"]), "{:,.0f}"),
        ("server time per stroke, ms (median)", 1000 * med(srv["hipviz_dab_s"]), 1000 * med(srv["vtk_s"]), "{:.1f}"),
        ("click to recoloured frame, ms (median)", 1000 * med(ours["latency_s"]), 1000 * med(theirs["latency_s"]), "{:.0f}"),
        ("click to recoloured frame, ms (p95)", 1000 * _p95(ours["latency_s"]), 1000 * _p95(theirs["latency_s"]), "{:.0f}"),
        (f"  same, {NETWORK_DELAY_MS} ms network delay each way (median)",
         1000 * med(ours_slow["latency_s"]), 1000 * med(theirs_slow["latency_s"]), "{:.0f}"),
        (f"  same, {NETWORK_DELAY_MS} ms network delay each way (p95)",
         1000 * _p95(ours_slow["latency_s"]), 1000 * _p95(theirs_slow["latency_s"]), "{:.0f}"),
    ]
    out = {
        "scene": {"atlas": "fake" if fake else "shipped", "structures": len(atlas.manifest), "triangles": tris, "skin_triangles": skin_tris},
        "rows": [{"metric": m, "hipviz": a, "pn_pane_vtk": b, "ratio_vtk_over_hipviz": (b / a if a else None)} for m, a, b, _ in rows],
        "hipviz_stroke_with_ranking_and_save_ms_median": 1000 * med(srv["hipviz_stroke_s"]),
        "hipviz_in_page_ms_median": {
            "press_to_colours_received": med([r[0] for r in ours["internal_ms"]]),
            "press_to_frame_rendered": med([r[1] for r in ours["internal_ms"]]),
            "render_call": med([r[2] for r in ours["internal_ms"]]),
        },
        "raw": {"hipviz": ours, "vtk": theirs, "hipviz_slow_network": ours_slow, "vtk_slow_network": theirs_slow, "server": srv},
    }
    if args.json:
        print(json.dumps(out, indent=2, default=float))
        return 0
    print(f"scene: {out['scene']['atlas']} atlas, {len(atlas.manifest)} structures, {tris:,} triangles (skin {skin_tris:,}); "
          f"headless Chromium, software WebGL; {args.repeats} repeats")
    w = max(len(r[0]) for r in rows)
    print(f"{'':<{w}}  {'hipviz':>12}  {'pn.pane.VTK':>12}  {'VTK/hipviz':>10}")
    for m, a, b, fmt in rows:
        ratio = f"{b / a:.1f}x" if a else "-"
        print(f"{m:<{w}}  {fmt.format(a):>12}  {fmt.format(b):>12}  {ratio:>10}")
    print(f"hipviz server time for a whole stroke incl. ranking and SQLite save: {out['hipviz_stroke_with_ranking_and_save_ms_median']:.1f} ms (median)")
    m = out["hipviz_in_page_ms_median"]
    print(f"hipviz in the page (median): press to new colours received {m['press_to_colours_received']:.0f} ms, "
          f"to frame rendered {m['press_to_frame_rendered']:.0f} ms (render call {m['render_call']:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
