// hipviz body chart: flat front, back and side views of the skin, painted by tapping or dragging.
// The views arrive once (a grid of cells per view, each naming the skin vertex it shows);
// afterwards only colour changes of skin vertices arrive, the same ones the 3D view gets.
// A stroke is sent as points in chart cells; Python finds the skin vertices under them.

const DAB_INTERVAL_MS = 35;   // at most one message per interval while painting
const STEP_CELLS = 0.75;      // sample the stroke path this often (chart cells)

import { el, hexToBytes, inflate, sendThrottled, toArrayBuffer } from "./viewer/common.js";

export function render({ model, el: host }) {
  const T = model.texts || {};
  const root = el("div", "hv-chart");
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", T.chart_title || "Body chart");
  const bar = el("div", "hv-chart-bar");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", T.chart_views || "Views");
  const help = el("p", "hv-chart-help", T.chart_help || "");
  const stage = el("div", "hv-chart-stage");
  const figs = el("div", "hv-chart-figs");
  stage.append(figs);
  root.append(bar, help, stage);

  const S = { views: [], rgb: null, base: hexToBytes(model.base || "#e8b796"), built: false, queue: [],
    stroke: null, strokeCounter: 0, pointers: new Set(), drawPending: false, shown: new Set(model.shown || []) };
  window.__hipvizChart = S;

  function scheduleDraw() {
    if (S.drawPending) return;
    S.drawPending = true;
    requestAnimationFrame(() => { S.drawPending = false; drawAll(); });
  }

  function drawView(v) {
    const { rows, cols, cells, shade, img, off } = v;
    const d = img.data, rgb = S.rgb;
    for (let i = 0, n = rows * cols; i < n; i++) {
      const k = cells[i];
      const o = 4 * i;
      if (k < 0) { d[o + 3] = 0; continue; }
      const f = 0.7 + 0.3 * shade[i] / 255;
      d[o] = rgb[3 * k] * f; d[o + 1] = rgb[3 * k + 1] * f; d[o + 2] = rgb[3 * k + 2] * f; d[o + 3] = 255;
    }
    off.getContext("2d").putImageData(img, 0, 0);
    const ctx = v.canvas.getContext("2d");
    ctx.clearRect(0, 0, v.canvas.width, v.canvas.height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    // the outline follows the edge of the smoothed body: a thin dark shadow around it
    const px = Math.max(1, v.canvas.width / v.cols * 0.35);
    ctx.filter = `drop-shadow(0 0 ${px}px #3d2b1f) drop-shadow(0 0 ${px * 0.5}px #3d2b1f)`;
    ctx.drawImage(off, 0, 0, v.canvas.width, v.canvas.height);
    ctx.filter = "none";
  }

  function layout() {
    root.classList.toggle("narrow", root.clientWidth < 560);
    // each shown view as large as the stage allows, side by side, keeping its proportions
    const shown = S.views.filter((v) => S.shown.has(v.name));
    for (const v of S.views) v.fig.style.display = S.shown.has(v.name) ? "" : "none";
    if (!shown.length) return;
    const W = stage.clientWidth, H = stage.clientHeight;
    if (W <= 0 || H <= 0) return;
    const gap = 8, capH = 22;
    const totalAspect = shown.reduce((a, v) => a + v.cols / v.rows, 0);
    const h = Math.max(60, Math.min(H - capH, (W - gap * (shown.length - 1)) / totalAspect));
    const dpr = window.devicePixelRatio || 1;
    for (const v of shown) {
      const w = h * v.cols / v.rows;
      v.canvas.style.width = `${w}px`;
      v.canvas.style.height = `${h}px`;
      v.canvas.width = Math.round(w * dpr);
      v.canvas.height = Math.round(h * dpr);
    }
    drawAll();
  }

  function drawAll() {
    if (!S.built) return;
    for (const v of S.views) if (S.shown.has(v.name)) drawView(v);
    root.dataset.draws = String((+root.dataset.draws || 0) + 1);
  }

  function makeButtons() {
    bar.innerHTML = "";
    for (const v of S.views) {
      const b = el("button", "hv-chart-view", v.label);
      b.type = "button";
      b.dataset.view = v.name;
      b.setAttribute("aria-pressed", S.shown.has(v.name) ? "true" : "false");
      b.addEventListener("click", () => {
        if (S.shown.has(v.name) && S.shown.size > 1) S.shown.delete(v.name);
        else S.shown.add(v.name);
        for (const x of bar.querySelectorAll("button")) x.setAttribute("aria-pressed", S.shown.has(x.dataset.view) ? "true" : "false");
        layout();
      });
      bar.append(b);
    }
  }

  // ---- painting --------------------------------------------------------------------------
  function cellXY(v, ev) {
    const r = v.canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) / r.width * v.cols, (ev.clientY - r.top) / r.height * v.rows];
  }

  function send(stroke, force) {
    sendThrottled(stroke, force, {
      interval: DAB_INTERVAL_MS, most: model.max_points || 256, again: () => send(stroke, true),
      take: () => stroke.points.splice(0),
      post: (points) => model.send_msg({ type: "chart_dab", stroke: stroke.n, view: stroke.view.name, points }),
    });
  }

  function addPoint(stroke, x, y) {
    stroke.points.push([Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
  }

  function onDown(v, ev) {
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    S.pointers.add(ev.pointerId);
    if (S.stroke && S.pointers.size > 1) { cancel(); return; }
    if (S.pointers.size > 1) return;
    ev.preventDefault();
    try { v.canvas.setPointerCapture(ev.pointerId); } catch (e) { /* ignore */ }
    const [x, y] = cellXY(v, ev);
    const stroke = { n: ++S.strokeCounter, view: v, points: [], lastSent: 0, timer: null, sent: false, x, y, id: ev.pointerId };
    S.stroke = stroke;
    addPoint(stroke, x, y);
    send(stroke, true);
  }

  function onMove(v, ev) {
    const stroke = S.stroke;
    if (!stroke || stroke.view !== v || ev.pointerId !== stroke.id) return;
    ev.preventDefault();
    const [x, y] = cellXY(v, ev);
    const dx = x - stroke.x, dy = y - stroke.y;
    const n = Math.ceil(Math.hypot(dx, dy) / STEP_CELLS);
    for (let i = 1; i <= n; i++) addPoint(stroke, stroke.x + dx * i / n, stroke.y + dy * i / n);
    if (n) { stroke.x = x; stroke.y = y; }
    send(stroke, false);
  }

  function onUp(ev) {
    S.pointers.delete(ev.pointerId);
    const stroke = S.stroke;
    if (!stroke || ev.pointerId !== stroke.id) return;
    S.stroke = null;
    clearTimeout(stroke.timer);
    send(stroke, true);
    model.send_msg({ type: "stroke_end", stroke: stroke.n });
  }

  // a second finger came down: a pinch or a slip, so the stroke leaves no paint
  function cancel() {
    const stroke = S.stroke;
    if (!stroke) return;
    S.stroke = null;
    clearTimeout(stroke.timer);
    if (stroke.sent) model.send_msg({ type: "stroke_cancel", stroke: stroke.n });
  }

  // ---- Python -> browser -----------------------------------------------------------------
  function handle(msg) {
    if (msg.type === "skin") {
      const idx = new Uint32Array(toArrayBuffer(msg.idx));
      const rgb = new Uint8Array(toArrayBuffer(msg.rgb));
      const n = S.rgb.length / 3;
      for (let i = 0; i < idx.length; i++) {
        const k = idx[i];
        if (k >= n) continue;
        S.rgb[3 * k] = rgb[3 * i]; S.rgb[3 * k + 1] = rgb[3 * i + 1]; S.rgb[3 * k + 2] = rgb[3 * i + 2];
      }
      root.dataset.updates = String((+root.dataset.updates || 0) + 1);
      scheduleDraw();
    } else if (msg.type === "skin_reset") {
      for (let k = 0; k < S.rgb.length; k += 3) { S.rgb[k] = S.base[0]; S.rgb[k + 1] = S.base[1]; S.rgb[k + 2] = S.base[2]; }
      scheduleDraw();
    }
  }
  model.on("msg:custom", (msg) => { if (!S.built) S.queue.push(msg); else handle(msg); });

  async function build() {
    if (S.built || !model.blob || !model.views_meta || !model.views_meta.length) return;
    const buf = await inflate(toArrayBuffer(model.blob));
    let at = 0;
    figs.innerHTML = "";
    S.views = [];
    for (const m of model.views_meta) {
      const n = m.rows * m.cols;
      const cells = new Int32Array(buf.slice(at, at + 4 * n)); at += 4 * n;
      const shade = new Uint8Array(buf.slice(at, at + n)); at += n;
      const fig = el("figure", "hv-chart-fig");
      const canvas = el("canvas", "hv-chart-canvas");
      canvas.dataset.view = m.name;
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", (T.chart_canvas || "{view}").replace("{view}", m.label));
      const cap = el("figcaption", "", m.label);
      fig.append(canvas, cap);
      figs.append(fig);
      const off = document.createElement("canvas");
      off.width = m.cols; off.height = m.rows;
      const v = { ...m, cells, shade, canvas, fig, off, img: new ImageData(m.cols, m.rows) };
      canvas.addEventListener("pointerdown", (ev) => onDown(v, ev));
      canvas.addEventListener("pointermove", (ev) => onMove(v, ev));
      canvas.addEventListener("pointerup", onUp);
      canvas.addEventListener("pointercancel", (ev) => { S.pointers.delete(ev.pointerId); cancel(); });
      S.views.push(v);
    }
    S.rgb = new Uint8Array(3 * model.n_vertices);
    handle({ type: "skin_reset" });
    makeButtons();
    S.built = true;
    root.dataset.state = "ready";
    for (const m of S.queue.splice(0)) handle(m);
    layout();
    model.send_msg({ type: "ready" });
  }

  const ro = new ResizeObserver(() => layout());
  ro.observe(stage);
  model.on("blob", build);
  model.on("remove", () => ro.disconnect());
  build();
  return root;
}
