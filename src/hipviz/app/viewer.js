// hipviz 3D viewer: drives the vtk.js that Panel ships (loaded from the local Panel server).
// Geometry arrives once (zlib-compressed binary); afterwards only deltas arrive as messages.
// Picking uses vtk.js's hardware selector: buffers are captured once per camera pose and
// reused for every pick until the camera or the scene changes.

const CLICK_SLOP_PX = 5;      // press and release within this distance is a click, not a drag
const CLICK_MAX_MS = 700;
const HOVER_DELAY_MS = 180;
const DAB_INTERVAL_MS = 100;  // at most one dab message per interval while painting (the page draws
                              // each dab at once; the message only carries it to the server)
const DAB_STEP_PX = 4;        // sample the stroke path every few (CSS) pixels
const TOUCH_COMMIT_MS = 120;  // a finger paints once no second finger has joined it for this long
const CAMERA_STILL_MS = 300;  // report the camera once the view has been still this long

function loadVtk(url) {
  if (window.vtk && window.vtk.Rendering) return Promise.resolve(window.vtk);
  if (!window.__hipvizVtk) {
    window.__hipvizVtk = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.onload = () => (window.vtk ? resolve(window.vtk) : reject(new Error("vtk.js did not define window.vtk")));
      s.onerror = () => reject(new Error("could not load " + url));
      document.head.appendChild(s);
    });
  }
  return window.__hipvizVtk;
}

async function inflate(buffer) {
  const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("deflate"));
  return await new Response(stream).arrayBuffer();
}

function toArrayBuffer(v) {
  if (v instanceof ArrayBuffer) return v;
  if (ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  if (v && v.buffer instanceof ArrayBuffer) return v.buffer;
  throw new Error("expected binary data");
}

function hexToRgb(hex) {
  const h = hex.replace("#", "");
  return [parseInt(h.slice(0, 2), 16) / 255, parseInt(h.slice(2, 4), 16) / 255, parseInt(h.slice(4, 6), 16) / 255];
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const CSS = `
.hv-root { position: relative; width: 100%; height: 100%; min-height: 300px; overflow: hidden;
  touch-action: none; user-select: none; -webkit-user-select: none; border-radius: 8px; }
.hv-gl { position: absolute; inset: 0; }
.hv-label { position: absolute; pointer-events: none; padding: 4px 9px; border-radius: 6px;
  background: rgba(20, 24, 32, 0.86); color: #fff; font: 15px/1.3 system-ui, sans-serif;
  white-space: nowrap; transform: translate(12px, -120%); display: none; z-index: 3; }
.hv-status { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%);
  color: #dfe6f0; font: 17px system-ui, sans-serif; z-index: 2; text-align: center; }
.hv-mode { position: absolute; left: 10px; top: 10px; padding: 5px 10px; border-radius: 6px;
  background: rgba(200, 60, 40, 0.92); color: #fff; font: 600 14px system-ui, sans-serif;
  display: none; pointer-events: none; z-index: 3; }
.hv-root.painting { cursor: crosshair; }
.hv-root.painting .hv-mode { display: block; }
.hv-ring { position: absolute; border-radius: 50%; pointer-events: none; display: none; z-index: 2;
  border: 2px solid rgba(255, 255, 255, 0.95); box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.55), inset 0 0 0 1px rgba(0, 0, 0, 0.55);
  transform: translate(-50%, -50%); }
.hv-caption { position: absolute; left: 10px; top: 10px; padding: 5px 10px; border-radius: 6px; z-index: 3;
  background: rgba(20, 24, 32, 0.78); color: #fff; font: 600 15px system-ui, sans-serif; pointer-events: none; display: none; }
.hv-root.painting .hv-caption { top: 46px; }
.hv-banner { position: absolute; left: 50%; bottom: 14px; transform: translateX(-50%); max-width: 86%; z-index: 3;
  padding: 8px 14px; border-radius: 8px; background: rgba(20, 24, 32, 0.88); color: #fff; text-align: center;
  font: 600 16px/1.35 system-ui, sans-serif; pointer-events: none; display: none; }
.hv-tlabels { position: absolute; inset: 0; pointer-events: none; z-index: 2; overflow: hidden; }
.hv-tlabel { position: absolute; transform: translate(-50%, -50%); padding: 2px 8px; border-radius: 5px;
  background: rgba(255, 255, 255, 0.9); color: #111; font: 700 18px system-ui, sans-serif; white-space: nowrap;
  border: 2px solid #222; }
.hv-tools { position: absolute; right: 10px; top: 10px; display: flex; gap: 6px; z-index: 4; }
.hv-tools button, .hv-presets button { font: 600 14px system-ui, sans-serif; border: 1px solid #fff8; color: #fff;
  background: rgba(20, 24, 32, 0.8); border-radius: 6px; padding: 6px 10px; cursor: pointer; }
.hv-tools button:hover, .hv-presets button:hover { background: rgba(31, 78, 121, 0.95); }
.hv-nav { position: absolute; right: 10px; bottom: 10px; display: grid; grid-template-columns: repeat(3, 40px);
  grid-auto-rows: 40px; gap: 4px; z-index: 4; }
.hv-nav button { font: 700 18px system-ui, sans-serif; border: 1px solid #fff8; color: #fff; padding: 0;
  background: rgba(20, 24, 32, 0.8); border-radius: 6px; cursor: pointer; touch-action: manipulation; }
.hv-nav button:hover { background: rgba(31, 78, 121, 0.95); }
.hv-nav .hv-whole { grid-column: 1 / span 3; font-size: 14px; }
.hv-root.narrow .hv-nav { grid-template-columns: repeat(3, 34px); grid-auto-rows: 34px; }
.hv-presets { position: absolute; left: 130px; bottom: 10px; display: none; gap: 6px; flex-wrap: wrap; z-index: 4; max-width: 60%; }
.hv-root.presenter .hv-presets { display: flex; }
.hv-root.presenter .hv-presets button, .hv-root.presenter .hv-tools button { font-size: 18px; padding: 8px 14px; }
.hv-root.presenter .hv-label { font-size: 24px; }
.hv-root.presenter .hv-tlabel { font-size: 26px; }
.hv-root.presenter .hv-banner { font-size: 23px; bottom: auto; top: 12px; max-width: 62%; }
.hv-root.presenter .hv-caption { font-size: 22px; }
.hv-root.narrow .hv-banner { font-size: 13.5px; max-width: 94%; padding: 6px 9px; }
.hv-root.narrow .hv-caption { font-size: 13.5px; max-width: calc(100% - 140px); }   /* wraps clear of the full-screen button */
.hv-root.narrow .hv-mode { max-width: calc(100% - 150px); font-size: 13.5px; line-height: 1.3; }
`;

export function render({ model, el: host }) {
  const root = el("div", "hv-root");
  const style = el("style");
  style.textContent = CSS;
  const gl = el("div", "hv-gl");
  const label = el("div", "hv-label");
  const status = el("div", "hv-status", "Loading the 3D body…");
  const modeBadge = el("div", "hv-mode", "Paint mode: drag on the skin to paint");
  const ring = el("div", "hv-ring");   // the brush: where a dab will paint
  const caption = el("div", "hv-caption");
  const banner = el("div", "hv-banner");
  const tlabels = el("div", "hv-tlabels");
  const tools = el("div", "hv-tools");
  const fsBtn = el("button", "hv-fullscreen", "Full screen");
  fsBtn.type = "button";
  fsBtn.title = "Full screen (Esc to leave)";
  if ((model.role || "main") === "main") tools.append(fsBtn);
  const presets = el("div", "hv-presets");
  // zoom, pan and the whole body: buttons for those who cannot pinch, scroll or Shift+drag
  const nav = el("div", "hv-nav");
  const NAV = [["+", "Zoom in", () => zoom(1.25)], ["↑", "Move the view up", () => pan(0, 1)], ["−", "Zoom out", () => zoom(0.8)],
               ["←", "Move the view left", () => pan(-1, 0)], ["↓", "Move the view down", () => pan(0, -1)],
               ["→", "Move the view right", () => pan(1, 0)]];
  for (const [text, title, fn] of NAV) {
    const b = el("button", "", text);
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", fn);
    nav.append(b);
  }
  const wholeBtn = el("button", "hv-whole", "Whole body");
  wholeBtn.type = "button";
  wholeBtn.title = "Show the whole body";
  wholeBtn.addEventListener("click", () => { if (S.meta) applyCamera(S.meta.views.whole_body || S.meta.views.reset); });
  nav.append(wholeBtn);
  root.append(style, gl, tlabels, status, label, ring, modeBadge, caption, banner, tools, presets, nav);
  root.dataset.state = "loading";
  root.setAttribute("role", "application");
  root.setAttribute("aria-label", "3D body: drag to turn it, or to paint in paint mode; click a part to name it");

  const S = {
    vtk: null, grw: null, renderer: null, renderWindow: null, glwin: null, selector: null,
    actors: new Map(),          // id -> {actor, mapper, pd, entry, pts, tris}
    propToId: new Map(),        // vtkActor -> id
    skin: null,                 // {scalars, rgb, base, server, pts, nrm}
    drawn: new Map(),           // stroke number -> skin vertices the page drew itself, until stroke_done
    queue: [], built: false, disposed: false,
    src: null, srcDirty: true, capturing: null,
    renderPending: false, frames: 0,
    down: null, stroke: null, strokeCounter: 0, hoverTimer: null, labelTimer: null,
    pointers: new Set(),
    timing: {},
  };
  const isMain = (model.role || "main") === "main";
  S.model = model;
  if (isMain) window.__hipviz = S;   // handle for tests and the bench
  window.__hipvizViews = window.__hipvizViews || {};
  window.__hipvizViews[model.role || "main"] = S;

  // full screen: the whole page, so the side panels come along (a user gesture, handled here)
  fsBtn.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  });
  const onFullscreen = () => {
    fsBtn.textContent = document.fullscreenElement ? "Leave full screen" : "Full screen";
  };
  document.addEventListener("fullscreenchange", onFullscreen);
  const setCaption = () => {
    caption.textContent = model.caption || "";
    caption.style.display = model.caption ? "block" : "none";
  };
  setCaption();
  model.on("caption", setCaption);
  const setPresenter = () => root.classList.toggle("presenter", !!model.presenter);
  setPresenter();
  model.on("presenter", setPresenter);

  const setPaint = (on) => {
    root.classList.toggle("painting", !!on);
    if (!on) ring.style.display = "none";
    updatePickable();
  };

  // Only visible actors can be picked; in paint mode only the skin; a see-through skin lets
  // clicks through to what lies beneath it.
  function updatePickable() {
    let inside = false;
    for (const [id, a] of S.actors) if (id !== S.skinId && a.actor.getVisibility()) inside = true;
    for (const [id, a] of S.actors) {
      let pick = a.actor.getVisibility();
      if (model.paint_mode) pick = pick && id === S.skinId;
      else if (id === S.skinId && inside && a.actor.getProperty().getOpacity() < 0.99) pick = false;
      a.actor.setPickable(pick);
    }
    S.srcDirty = true;
  }
  setPaint(model.paint_mode);
  model.on("paint_mode", () => setPaint(model.paint_mode));

  model.on("msg:custom", (msg) => {
    if (!S.built) S.queue.push(msg);
    else handle(msg);
  });

  function requestRender() {
    if (S.renderPending || S.disposed) return;
    S.renderPending = true;
    requestAnimationFrame(() => {
      S.renderPending = false;
      if (S.disposed || !S.renderWindow) return;
      const t0 = performance.now();
      S.renderWindow.render();
      S.frames += 1;
      if (S.frames === 1) S.timing.firstFrame = performance.now();   // since the page's navigation began
      root.dataset.frames = String(S.frames);
      if (S.skinPending) {
        // timings for tests and the bench: when the last skin change reached the screen
        S.skinPending = false;
        S.timing.skinRendered = performance.now();
        S.timing.renderMs = S.timing.skinRendered - t0;
      }
    });
  }

  function handle(msg) {
    switch (msg.type) {
      case "actors": {
        for (const [id, ch] of Object.entries(msg.changes)) {
          const a = S.actors.get(id);
          if (!a) continue;
          const prop = a.actor.getProperty();
          if (ch.visible !== undefined) a.actor.setVisibility(!!ch.visible);
          if (ch.opacity !== undefined) prop.setOpacity(ch.opacity);
          if (ch.colour !== undefined) {
            const c = hexToRgb(ch.colour);
            prop.setColor(...c);
            if (a.id === S.skinId && S.skin) {
              S.skin.base = c.map((v) => Math.round(v * 255));
            }
          }
        }
        updatePickable();
        requestRender();
        break;
      }
      case "skin": {
        if (!S.skin) break;
        const idx = new Uint32Array(toArrayBuffer(msg.idx));
        const rgb = new Uint8Array(toArrayBuffer(msg.rgb));
        const dst = S.skin.rgb, server = S.skin.server;
        for (let i = 0; i < idx.length; i++) {
          const v = idx[i] * 3;
          server[v] = rgb[3 * i]; server[v + 1] = rgb[3 * i + 1]; server[v + 2] = rgb[3 * i + 2];
          if (isDrawn(idx[i])) continue;   // the stroke's own drawing stays until its stroke_done
          dst[v] = rgb[3 * i]; dst[v + 1] = rgb[3 * i + 1]; dst[v + 2] = rgb[3 * i + 2];
        }
        S.skin.scalars.modified();
        S.skin.pd.modified();
        S.skinVersion = (S.skinVersion || 0) + 1;
        S.skinPending = true;
        S.timing.skinReceived = performance.now();
        root.dataset.skinVersion = String(S.skinVersion);
        requestRender();
        break;
      }
      case "skin_reset": {
        if (!S.skin) break;
        const [r, g, b] = S.skin.base;
        const dst = S.skin.rgb, server = S.skin.server;
        for (let v = 0; v < dst.length; v += 3) { dst[v] = server[v] = r; dst[v + 1] = server[v + 1] = g; dst[v + 2] = server[v + 2] = b; }
        S.skin.scalars.modified();
        S.skin.pd.modified();
        requestRender();
        break;
      }
      case "view":
        applyCamera(msg.camera);
        break;
      case "stroke_done":
        undraw(msg.stroke);
        break;
      case "synced":
        // Python has re-sent the state (and the kept camera): from now on camera moves are reported
        S.reportCamera = true;
        break;
      case "snapshot":
        snapshot(msg.filename || "hipviz-view.png");
        break;
      case "banner":
        banner.textContent = msg.text || "";
        banner.style.display = msg.text ? "block" : "none";
        break;
      case "path":
        buildPath(msg);
        break;
      case "path_frame":
        pathFrame(msg.lit || [], msg.newest || []);
        break;
      case "labels":
        setLabels(msg.items || []);
        break;
    }
  }

  // ---- the referral path: tubes along the centre lines, lit step by step ---------------------
  function clearPath() {
    for (const t of S.tubes || []) S.renderer.removeActor(t.actor);
    S.tubes = [];
  }

  function buildPath(msg) {
    clearPath();
    const vtk = S.vtk;
    const pts = new Float32Array(toArrayBuffer(msg.pts));
    for (const [step, start, count] of msg.segs || []) {
      if (count < 2) continue;
      const pd = vtk.Common.DataModel.vtkPolyData.newInstance();
      pd.getPoints().setData(pts.slice(3 * start, 3 * (start + count)), 3);
      const line = new Uint32Array(count + 1);
      line[0] = count;
      for (let i = 0; i < count; i++) line[i + 1] = i;
      pd.getLines().setData(line);
      const tube = vtk.Filters.General.vtkTubeFilter.newInstance({ radius: msg.radius || 0.004, numberOfRadialSides: 10, capping: true });
      tube.setInputData(pd);
      const mapper = vtk.Rendering.Core.vtkMapper.newInstance();
      mapper.setInputConnection(tube.getOutputPort());
      mapper.setScalarVisibility(false);
      const actor = vtk.Rendering.Core.vtkActor.newInstance();
      actor.setMapper(mapper);
      const prop = actor.getProperty();
      prop.setAmbient(0.45);
      prop.setDiffuse(0.7);
      prop.setSpecular(0.3);
      actor.setPickable(false);
      actor.setVisibility(false);
      S.renderer.addActor(actor);
      S.tubes.push({ step, actor });
    }
    S.srcDirty = true;
    requestRender();
  }

  function pathFrame(lit, newest) {
    const on = new Set(lit), now = new Set(newest);
    for (const t of S.tubes || []) {
      t.actor.setVisibility(on.has(t.step));
      t.actor.getProperty().setColor(...(now.has(t.step) ? [1.0, 0.95, 0.45] : [1.0, 0.62, 0.0]));
    }
    root.dataset.pathLit = String(lit.length);
    requestRender();
  }

  // ---- labelled skin territories (kept on the body as the camera moves) ----------------------
  function setLabels(items) {
    tlabels.innerHTML = "";
    S.tlabels = items.map((it) => {
      const d = el("div", "hv-tlabel", it.text);
      if (it.colour) d.style.borderColor = it.colour;
      tlabels.append(d);
      return { el: d, xyz: it.xyz, n: it.n };
    });
    placeLabels();
  }

  function placeLabels() {
    if (!S.tlabels || !S.tlabels.length || !S.renderer) return;
    const cam = S.renderer.getActiveCamera();
    const cp = cam.getPosition();
    const rect = gl.getBoundingClientRect();
    const [w, h] = S.glwin.getSize();
    const placed = [];
    for (const L of S.tlabels) {
      const [x, y, z] = L.xyz;
      const v = [cp[0] - x, cp[1] - y, cp[2] - z];
      const facing = !L.n || (v[0] * L.n[0] + v[1] * L.n[1] + v[2] * L.n[2]) > 0;
      if (!facing) { L.el.style.display = "none"; continue; }
      const [dx, dy] = S.glwin.worldToDisplay(x, y, z, S.renderer);
      const px = (dx * rect.width) / w, py = ((h - dy) * rect.height) / h;
      const inside = px > 0 && py > 0 && px < rect.width && py < rect.height;
      // labels never overlap: one that would cover a label already placed is left out
      const bw = (L.w || 60) / 2 + 4, bh = (L.h || 30) / 2 + 2;
      const clash = placed.some((q) => Math.abs(q[0] - px) < bw + q[2] && Math.abs(q[1] - py) < bh + q[3]);
      const show = inside && !clash;
      L.el.style.display = show ? "block" : "none";
      L.el.style.left = `${px}px`;
      L.el.style.top = `${py}px`;
      if (show) {
        if (!L.w) { L.w = L.el.offsetWidth; L.h = L.el.offsetHeight; }
        placed.push([px, py, (L.w || 60) / 2, (L.h || 30) / 2]);
      }
    }
  }

  // ---- linked views: the same camera in every view of a link group -------------------------
  function linkCameras() {
    if (!model.link) return;
    const reg = (window.__hipvizLinks = window.__hipvizLinks || {});
    const group = (reg[model.link] = reg[model.link] || new Set());
    group.add(S);
    S.linkGroup = group;
    // adopt the camera of a view already in the group
    for (const other of group) {
      if (other !== S && other.built && other.renderer) { copyCamera(other, S); break; }
    }
  }

  function copyCamera(from, to) {
    const a = from.renderer.getActiveCamera(), b = to.renderer.getActiveCamera();
    to.syncing = true;
    b.setPosition(...a.getPosition());
    b.setFocalPoint(...a.getFocalPoint());
    b.setViewUp(...a.getViewUp());
    b.setViewAngle(a.getViewAngle());
    to.renderer.resetCameraClippingRange();
    to.syncing = false;
    to.requestRender();
  }
  S.requestRender = () => requestRender();

  // the camera of the painting view goes to Python (which keeps it with the map) once the view
  // has been still for a moment: one message per gesture, not one per frame
  function cameraNow() {
    const cam = S.renderer.getActiveCamera();
    const r = (v) => Array.from(v, (x) => Math.round(x * 1e6) / 1e6);
    return { position: r(cam.getPosition()), focal_point: r(cam.getFocalPoint()), view_up: r(cam.getViewUp()) };
  }

  function reportCamera() {
    clearTimeout(S.cameraTimer);
    S.cameraTimer = 0;
    if (!S.reportCamera || S.disposed || !S.renderer) return;
    const c = cameraNow();
    const key = JSON.stringify(c);
    if (key === S.cameraSent) return;
    S.cameraSent = key;
    model.send_msg({ type: "camera", ...c });
  }
  S.reportCamera = false;
  S.flushCamera = () => { if (S.cameraTimer) reportCamera(); };
  const onPageHide = () => S.flushCamera();
  if (isMain) window.addEventListener("pagehide", onPageHide);

  function onCameraModified() {
    S.srcDirty = true;
    if (isMain && S.reportCamera) {
      clearTimeout(S.cameraTimer);
      S.cameraTimer = setTimeout(reportCamera, CAMERA_STILL_MS);
    }
    if (!S.labelRaf) S.labelRaf = requestAnimationFrame(() => { S.labelRaf = 0; placeLabels(); });
    if (S.syncing || !S.linkGroup) return;
    for (const other of S.linkGroup) {
      if (other !== S && other.built && !other.disposed && other.renderer) copyCamera(S, other);
    }
  }

  function applyCamera(v) {
    const cam = S.renderer.getActiveCamera();
    cam.setFocalPoint(...v.focal_point);
    cam.setPosition(...v.position);
    cam.setViewUp(...v.view_up);
    // a close-up frames a square region: on a view narrower than tall, widen the angle so its
    // sides still show (the whole-body views fill the height as they are)
    const [w, h] = S.glwin ? S.glwin.getSize() : [1, 1];
    const narrow = v.layers && w > 0 && h > w;
    cam.setViewAngle(narrow ? (360 / Math.PI) * Math.atan(Math.tan(Math.PI / 12) * (h / w)) : 30);
    S.renderer.resetCameraClippingRange();
    S.srcDirty = true;
    requestRender();
  }

  function zoom(factor) {
    if (!S.built) return;
    S.renderer.getActiveCamera().dolly(factor);
    S.renderer.resetCameraClippingRange();
    S.srcDirty = true;
    requestRender();
  }

  // move the view by a tenth of its height (dx, dy in -1..1: right and up on the screen)
  function pan(dx, dy) {
    if (!S.built) return;
    const cam = S.renderer.getActiveCamera();
    const p = cam.getPosition(), f = cam.getFocalPoint(), up = cam.getViewUp();
    const d = [f[0] - p[0], f[1] - p[1], f[2] - p[2]];
    const dist = Math.hypot(...d);
    const right = [d[1] * up[2] - d[2] * up[1], d[2] * up[0] - d[0] * up[2], d[0] * up[1] - d[1] * up[0]];
    const rn = Math.hypot(...right) || 1;
    const step = 0.2 * dist * Math.tan((cam.getViewAngle() * Math.PI) / 360);
    // the scene moves with the arrow: the camera moves the other way
    const m = [0, 1, 2].map((i) => -step * (dx * right[i] / rn + dy * up[i]));
    cam.setPosition(p[0] + m[0], p[1] + m[1], p[2] + m[2]);
    cam.setFocalPoint(f[0] + m[0], f[1] + m[1], f[2] + m[2]);
    S.renderer.resetCameraClippingRange();
    S.srcDirty = true;
    requestRender();
  }

  // a small cube in the corner that turns with the body and names its sides
  function addOrientationFigure(vtk, views) {
    const Cube = vtk.Rendering.Core.vtkAnnotatedCubeActor, Widget = vtk.Interaction.Widgets.vtkOrientationMarkerWidget;
    if (!Cube || !Widget || !views.anterior || !views.left) return;
    const dir = (v) => [0, 1, 2].map((i) => v.position[i] - v.focal_point[i]);
    const names = {};
    const put = (vec, text, opposite) => {
      const i = [0, 1, 2].reduce((a, b) => (Math.abs(vec[b]) > Math.abs(vec[a]) ? b : a), 0);
      const axis = "XYZ"[i];
      names[`${axis}${vec[i] > 0 ? "Plus" : "Minus"}`] = text;
      names[`${axis}${vec[i] > 0 ? "Minus" : "Plus"}`] = opposite;
    };
    put(dir(views.anterior), "Front", "Back");
    put(dir(views.left), "Left", "Right");
    put(views.anterior.view_up, "Head", "Feet");
    const cube = Cube.newInstance();
    cube.setDefaultStyle({ text: "", fontStyle: "bold", fontFamily: "sans-serif", fontColor: "#1f2a38",
      fontSizeScale: (res) => res / 3.4, faceColor: "#dfe6f0", edgeThickness: 0.06, edgeColor: "#1f2a38", resolution: 256 });
    for (const [face, text] of Object.entries(names)) cube[`set${face[0]}${face.slice(1)}FaceProperty`]({ text });
    const w = Widget.newInstance({ actor: cube, interactor: S.interactor, parentRenderer: S.renderer });
    w.setEnabled(true);
    w.setViewportCorner(Widget.Corners.BOTTOM_LEFT);
    w.setViewportSize(0.14);
    if (w.setMinPixelSize) w.setMinPixelSize(70);
    if (w.setMaxPixelSize) w.setMaxPixelSize(120);
    S.orientation = w;
  }

  async function snapshot(filename) {
    const images = await S.renderWindow.captureImages();
    const url = await images[0];
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  // ---- building the scene ----------------------------------------------------------------
  function buildActor(vtk, buf, entry, skinId, visible) {
    const n = entry.nverts, t = entry.ntris;
    const q = new Uint16Array(buf, entry.off_pts, n * 3);
    const pts = new Float32Array(n * 3);
    const [ox, oy, oz] = entry.origin, [sx, sy, sz] = entry.scale;
    for (let i = 0; i < n * 3; i += 3) {
      pts[i] = ox + q[i] * sx; pts[i + 1] = oy + q[i + 1] * sy; pts[i + 2] = oz + q[i + 2] * sz;
    }
    // triangle indices: high-water coding (index = highest so far + 1 - code), see scene.py
    const code = entry.idx_bytes === 4 ? new Uint32Array(buf, entry.off_tri, t * 3) : new Uint16Array(buf, entry.off_tri, t * 3);
    const tris = new Uint32Array(t * 3);
    const cells = new Uint32Array(t * 4);
    const mod = entry.idx_bytes === 4 ? 4294967296 : 65536;
    let high = -1;
    for (let i = 0; i < t * 3; i++) {
      let idx = (high + 1 - code[i]) % mod;
      if (idx < 0) idx += mod;
      tris[i] = idx;
      if (idx > high) high = idx;
    }
    for (let k = 0; k < t; k++) {
      cells[4 * k] = 3; cells[4 * k + 1] = tris[3 * k]; cells[4 * k + 2] = tris[3 * k + 1]; cells[4 * k + 3] = tris[3 * k + 2];
    }
    // area-weighted vertex normals (no normals travel)
    const nrm = new Float32Array(n * 3);
    for (let k = 0; k < t * 3; k += 3) {
      const a = 3 * tris[k], b = 3 * tris[k + 1], c = 3 * tris[k + 2];
      const ux = pts[b] - pts[a], uy = pts[b + 1] - pts[a + 1], uz = pts[b + 2] - pts[a + 2];
      const vx = pts[c] - pts[a], vy = pts[c + 1] - pts[a + 1], vz = pts[c + 2] - pts[a + 2];
      const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
      nrm[a] += nx; nrm[a + 1] += ny; nrm[a + 2] += nz;
      nrm[b] += nx; nrm[b + 1] += ny; nrm[b + 2] += nz;
      nrm[c] += nx; nrm[c + 1] += ny; nrm[c + 2] += nz;
    }
    for (let i = 0; i < n * 3; i += 3) {
      const l = Math.hypot(nrm[i], nrm[i + 1], nrm[i + 2]) || 1;
      nrm[i] /= l; nrm[i + 1] /= l; nrm[i + 2] /= l;
    }
    const DM = vtk.Common.DataModel, Core = vtk.Common.Core, RC = vtk.Rendering.Core;
    const pd = DM.vtkPolyData.newInstance();
    pd.getPoints().setData(pts, 3);
    pd.getPolys().setData(cells);
    pd.getPointData().setNormals(Core.vtkDataArray.newInstance({ name: "Normals", numberOfComponents: 3, values: nrm }));
    const mapper = RC.vtkMapper.newInstance();
    mapper.setInputData(pd);
    const actor = RC.vtkActor.newInstance();
    actor.setMapper(mapper);
    const prop = actor.getProperty();
    prop.setColor(...hexToRgb(entry.colour));
    prop.setOpacity(entry.opacity);
    prop.setInterpolationToPhong();
    prop.setAmbient(0.12);
    prop.setDiffuse(0.85);
    prop.setSpecular(entry.kind === "bone" ? 0.25 : entry.kind === "nerve" ? 0.35 : 0.12);
    prop.setSpecularPower(entry.kind === "nerve" ? 30 : 18);
    actor.setVisibility(visible);
    actor.setPickable(visible && (!model.paint_mode || entry.id === skinId));
    const rec = { id: entry.id, actor, mapper, pd, entry, pts, tris };
    if (entry.id === skinId) {
      const base = hexToRgb(entry.colour).map((v) => Math.round(v * 255));
      const rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n * 3; i += 3) { rgb[i] = base[0]; rgb[i + 1] = base[1]; rgb[i + 2] = base[2]; }
      const scalars = Core.vtkDataArray.newInstance({ name: "paint", numberOfComponents: 3, values: rgb });
      pd.getPointData().setScalars(scalars);
      mapper.setScalarVisibility(true);
      mapper.setScalarModeToUsePointData();
      mapper.setColorModeToDirectScalars();
      S.skin = { scalars, rgb, base, pd, server: rgb.slice(), pts, nrm };
      prop.setBackfaceCulling(true);   // a see-through skin shows its near side only
    }
    return rec;
  }

  async function init() {
    S.timing.init = performance.now();
    const vtk = await loadVtk(model.vtk_url);
    if (S.disposed) return;
    S.timing.vtkLoaded = performance.now();
    const meta = JSON.parse(model.scene);
    const buf = await inflate(toArrayBuffer(model.geometry));
    if (S.disposed) return;
    S.timing.inflated = performance.now();
    S.vtk = vtk;
    S.meta = meta;
    S.skinId = meta.skin_id;
    const bg = hexToRgb(model.background);
    const grw = vtk.Rendering.Misc.vtkGenericRenderWindow.newInstance({ background: bg, listenWindowResize: false });
    grw.setContainer(gl);
    S.grw = grw;
    S.renderer = grw.getRenderer();
    S.renderWindow = grw.getRenderWindow();
    S.glwin = grw.getApiSpecificRenderWindow();
    S.interactor = grw.getInteractor();
    S.renderer.setTwoSidedLighting(true);
    const skinEntry = meta.actors.find((a) => a.id === meta.skin_id);
    const covered = !!skinEntry && !!skinEntry.visible && skinEntry.opacity >= 0.99;
    // Under a solid skin nothing else can be seen: the first frame draws the skin alone (Python's
    // state, sent once the page is ready, says what shows from then on). What shows at first is
    // built first and drawn at once; the rest is built after that frame, a few actors at a time,
    // before the page says it is ready (messages wait in S.queue).
    const shownFirst = (e) => !!e.visible && !(covered && e.id !== meta.skin_id);
    const add = (entry) => {
      const rec = buildActor(vtk, buf, entry, meta.skin_id, shownFirst(entry));
      S.actors.set(entry.id, rec);
      S.propToId.set(rec.actor, entry.id);
      S.renderer.addActor(rec.actor);
    };
    for (const entry of meta.actors) if (shownFirst(entry)) add(entry);
    S.renderer.getActiveCamera().onModified(onCameraModified);
    grw.resize();
    applyCamera(meta.views.reset);   // requests the first frame
    status.remove();
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));   // drawn before the rest
    if (S.disposed) return;
    let built = 0;
    for (const entry of meta.actors) {
      if (shownFirst(entry)) continue;
      add(entry);
      if (++built % 12 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (S.disposed) return;
      }
    }
    const sel = S.glwin.getSelector();
    sel.setCaptureZValues(true);
    sel.setFieldAssociation(vtk.Common.DataModel.vtkDataSet.FieldAssociations.FIELD_ASSOCIATION_CELLS);
    S.selector = sel;
    S.resizeObserver = new ResizeObserver(() => {
      if (S.disposed) return;
      grw.resize();
      S.srcDirty = true;
      root.classList.toggle("narrow", root.clientWidth < 600);
      requestRender();
      placeLabels();
    });
    S.resizeObserver.observe(root);
    if (isMain) try { addOrientationFigure(vtk, meta.views); } catch (e) { console.warn("orientation figure", e); }
    for (const name of ["anterior", "posterior", "left", "right", "posterior_oblique_left", "posterior_oblique_right"]) {
      const v = meta.views[name];
      if (!v) continue;
      const b = el("button", "", v.label);
      b.type = "button";
      b.addEventListener("click", () => applyCamera(v));
      presets.append(b);
    }
    S.built = true;
    S.timing.built = performance.now();
    linkCameras();
    root.dataset.state = "ready";
    for (const m of S.queue.splice(0)) handle(m);
    model.send_msg({ type: "ready" });
    requestRender();
  }

  // page coordinates (CSS pixels) of a world point, for tests and the bench
  S.project = (x, y, z) => {
    const [dx, dy] = S.glwin.worldToDisplay(x, y, z, S.renderer);
    const rect = gl.getBoundingClientRect();
    const [w, h] = S.glwin.getSize();
    return [rect.left + (dx * rect.width) / w, rect.top + ((h - dy) * rect.height) / h];
  };

  // ---- picking ---------------------------------------------------------------------------
  function displayXY(ev) {
    const rect = gl.getBoundingClientRect();
    const [w, h] = S.glwin.getSize();
    const x = Math.floor((ev.clientX - rect.left) * (w / rect.width));
    const y = Math.floor(h - 1 - (ev.clientY - rect.top) * (h / rect.height));
    return [Math.max(0, Math.min(w - 1, x)), Math.max(0, Math.min(h - 1, y))];
  }

  async function capture() {
    if (!S.srcDirty && S.src) return S.src;
    if (S.capturing) return S.capturing;
    S.capturing = (async () => {
      const [w, h] = S.glwin.getSize();
      S.srcDirty = false;
      const src = await S.selector.getSourceDataAsync(S.renderer, 0, 0, w - 1, h - 1);
      S.src = src || null;
      S.capturing = null;
      return S.src;
    })();
    return S.capturing;
  }

  function pickXY(x, y, onlySkin) {
    if (!S.src) return null;
    const nodes = S.src.generateSelection(x, y, x, y);
    if (!nodes || !nodes.length) return null;
    const p = nodes[0].getProperties();
    const id = S.propToId.get(p.prop);
    if (id === undefined) return null;
    if (onlySkin && id !== S.skinId) return null;
    const rec = S.actors.get(id);
    const cell = p.attributeID;
    let point = -1;
    const w = p.worldPosition;
    if (cell >= 0 && cell < rec.entry.ntris) {
      let best = Infinity;
      for (let k = 0; k < 3; k++) {
        const v = rec.tris[3 * cell + k];
        const dx = rec.pts[3 * v] - w[0], dy = rec.pts[3 * v + 1] - w[1], dz = rec.pts[3 * v + 2] - w[2];
        const d = dx * dx + dy * dy + dz * dz;
        if (d < best) { best = d; point = v; }
      }
    }
    return { structure: id, cell, point, world: w ? [w[0], w[1], w[2]] : null };
  }

  function showLabel(text, ev, ms) {
    label.textContent = text;
    const rect = root.getBoundingClientRect();
    if (ev) {
      label.style.left = `${ev.clientX - rect.left}px`;
      label.style.top = `${ev.clientY - rect.top}px`;
      label.style.transform = "translate(12px, -120%)";
    } else {
      label.style.left = "50%";
      label.style.top = "auto";
      label.style.bottom = "12px";
      label.style.transform = "translate(-50%, 0)";
    }
    if (ev) label.style.bottom = "auto";
    label.style.display = "block";
    clearTimeout(S.labelTimer);
    if (ms) S.labelTimer = setTimeout(() => { label.style.display = "none"; }, ms);
  }

  function nameOf(id) {
    const rec = S.actors.get(id);
    return rec ? rec.entry.name : id;
  }

  // ---- the dab the page draws itself, at once ----------------------------------------------
  // The skin vertices within the brush radius (straight-line, and facing the same way as the
  // vertex under the finger, so a brush never reaches across a fold to the other leg) take the
  // brush colour now; the server's colours, from its surface-distance brush, follow a round trip
  // later and win when the stroke is done.
  function isDrawn(v) {
    for (const set of S.drawn.values()) if (set.has(v)) return true;
    return false;
  }

  function drawDab(stroke, v) {
    const b = model.brush, sk = S.skin;
    if (!sk || !b || !b.rgb || !(b.radius > 0) || stroke.centres.has(v)) return;
    stroke.centres.add(v);
    let drawn = S.drawn.get(stroke.n);
    if (!drawn) S.drawn.set(stroke.n, (drawn = new Set()));
    const { pts, nrm, rgb } = sk;
    const r2 = b.radius * b.radius, [R, G, B] = b.rgb;
    const c = 3 * v, cx = pts[c], cy = pts[c + 1], cz = pts[c + 2], nx = nrm[c], ny = nrm[c + 1], nz = nrm[c + 2];
    let n = 0;
    for (let k = 0, i = 0; k < pts.length; k += 3, i++) {
      const dx = pts[k] - cx, dy = pts[k + 1] - cy, dz = pts[k + 2] - cz;
      if (dx * dx + dy * dy + dz * dz > r2 || nrm[k] * nx + nrm[k + 1] * ny + nrm[k + 2] * nz < 0) continue;
      drawn.add(i);
      if (rgb[k] === R && rgb[k + 1] === G && rgb[k + 2] === B) continue;
      rgb[k] = R; rgb[k + 1] = G; rgb[k + 2] = B;
      n++;
    }
    if (!n) return;
    sk.scalars.modified();
    sk.pd.modified();
    S.drawnDabs = (S.drawnDabs || 0) + 1;
    S.timing.dabDrawn = performance.now();
    S.skinPending = true;
    requestRender();
  }

  // the server has handled the stroke's end: its colours are the truth for what the page drew
  function undraw(n) {
    const drawn = S.drawn.get(n);
    if (!drawn || !S.skin) return;
    S.drawn.delete(n);
    const { rgb, server } = S.skin;
    for (const v of drawn) {
      if (isDrawn(v)) continue;
      const k = 3 * v;
      rgb[k] = server[k]; rgb[k + 1] = server[k + 1]; rgb[k + 2] = server[k + 2];
    }
    S.skin.scalars.modified();
    S.skin.pd.modified();
    requestRender();
  }

  // ---- pointer handling (capture phase: runs before vtk.js's interactor) -------------------
  function sendDabs(stroke, force) {
    if (!stroke.committed || stroke.cancelled) return;   // a finger's stroke waits a moment: a second finger means pinch, not paint
    const now = performance.now();
    if (!force && now - stroke.lastSent < DAB_INTERVAL_MS) {
      if (!stroke.timer) stroke.timer = setTimeout(() => { stroke.timer = null; sendDabs(stroke, true); }, DAB_INTERVAL_MS);
      return;
    }
    if (!stroke.points.size) return;
    stroke.lastSent = now;
    const points = Array.from(stroke.points);
    stroke.points.clear();
    const most = model.max_dab_points || 256;   // the server drops a longer message whole
    stroke.sent = true;
    for (let i = 0; i < points.length; i += most)
      model.send_msg({ type: "dab", stroke: stroke.n, points: points.slice(i, i + most) });
  }

  function strokeAt(stroke, x, y) {
    const hit = pickXY(x, y, true);
    stroke.hit = hit;   // the last sample is under the pointer: the brush ring goes there
    if (!hit || hit.point < 0) return;
    stroke.points.add(hit.point);
    if (stroke.committed) drawDab(stroke, hit.point);
  }

  function strokeTo(stroke, ev) {
    const [x, y] = displayXY(ev);
    const dx = x - stroke.x, dy = y - stroke.y;
    const dist = Math.hypot(dx, dy);
    const step = DAB_STEP_PX * (window.devicePixelRatio || 1);
    const n = Math.max(1, Math.ceil(dist / step));
    for (let i = 1; i <= n; i++) strokeAt(stroke, Math.round(stroke.x + (dx * i) / n), Math.round(stroke.y + (dy * i) / n));
    stroke.x = x; stroke.y = y;
    sendDabs(stroke, false);
  }

  async function startStroke(ev) {
    const stroke = { n: ++S.strokeCounter, points: new Set(), centres: new Set(), lastSent: 0, timer: null,
      pointerId: ev.pointerId, x: 0, y: 0, ready: null, pendingMoves: [],
      committed: ev.pointerType !== "touch", sent: false, commitTimer: 0 };
    S.stroke = stroke;
    if (!stroke.committed) stroke.commitTimer = setTimeout(() => commitStroke(stroke), TOUCH_COMMIT_MS);
    const [x, y] = displayXY(ev);
    stroke.x = x; stroke.y = y;
    stroke.ready = capture().then(() => {
      strokeAt(stroke, x, y);
      for (const m of stroke.pendingMoves.splice(0)) strokeTo(stroke, m);
      sendDabs(stroke, true);
    });
  }

  function commitStroke(stroke) {
    clearTimeout(stroke.commitTimer);
    if (stroke.committed || stroke.cancelled) return;
    stroke.committed = true;
    if (stroke.ready) stroke.ready.then(() => {
      for (const v of stroke.points) drawDab(stroke, v);
      sendDabs(stroke, true);
    });
  }

  // a second finger came down: the gesture is a pinch or a pan, so the stroke leaves no paint
  function cancelStroke() {
    const stroke = S.stroke;
    if (!stroke) return;
    S.stroke = null;
    stroke.cancelled = true;
    clearTimeout(stroke.commitTimer);
    clearTimeout(stroke.timer);
    stroke.points.clear();
    try { root.releasePointerCapture(stroke.pointerId); } catch (e) { /* ignore */ }
    if (stroke.sent) model.send_msg({ type: "stroke_cancel", stroke: stroke.n });   // undrawn at its stroke_done
    else undraw(stroke.n);
  }

  function endStroke() {
    const stroke = S.stroke;
    if (!stroke) return;
    S.stroke = null;
    commitStroke(stroke);   // a quick one-finger tap still paints
    stroke.ready.then(() => {
      clearTimeout(stroke.timer);
      sendDabs(stroke, true);
      model.send_msg({ type: "stroke_end", stroke: stroke.n });
    });
  }

  function onDown(ev) {
    if (!S.built) return;
    if (ev.target && ev.target.closest && ev.target.closest("button")) return;   // a button over the view, not paint
    S.timing.down = performance.now();
    S.pointers.add(ev.pointerId);
    clearTimeout(S.hoverTimer);
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    S.down = { x: ev.clientX, y: ev.clientY, t: performance.now(), id: ev.pointerId, moved: false };
    if (S.stroke && S.pointers.size > 1) cancelStroke();
    if (model.paint_mode && S.pointers.size === 1) {
      ev.stopPropagation();
      ev.preventDefault();
      try { root.setPointerCapture(ev.pointerId); } catch (e) { /* ignore */ }
      startStroke(ev);
    }
  }

  function onMove(ev) {
    if (!S.built) return;
    const stroke = S.stroke;
    if (stroke && ev.pointerId === stroke.pointerId) {
      ev.stopPropagation();
      ev.preventDefault();
      const moves = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
      for (const m of (moves.length ? moves : [ev])) {
        if (stroke.ready && stroke.pendingMoves && S.src && !S.capturing) strokeTo(stroke, m);
        else stroke.pendingMoves.push({ clientX: m.clientX, clientY: m.clientY });
      }
      placeRing(ev, stroke.hit);
      return;
    }
    if (model.paint_mode && (ev.pointerType === "mouse" || ev.pointerType === "pen") && ev.buttons === 0) ringAt(ev);
    if (S.down && Math.hypot(ev.clientX - S.down.x, ev.clientY - S.down.y) > CLICK_SLOP_PX) S.down.moved = true;
    if (ev.pointerType === "mouse" && ev.buttons === 0 && !model.paint_mode) {
      clearTimeout(S.hoverTimer);
      const cx = ev.clientX, cy = ev.clientY;
      S.hoverTimer = setTimeout(async () => {
        await capture();
        const r = gl.getBoundingClientRect();
        const hit = pickXY(...displayXY({ clientX: cx, clientY: cy }), false);
        if (hit) showLabel(nameOf(hit.structure), { clientX: cx, clientY: cy }, 0);
        else label.style.display = "none";
        void r;
      }, HOVER_DELAY_MS);
    }
  }

  async function onUp(ev) {
    if (!S.built) return;
    S.pointers.delete(ev.pointerId);
    const stroke = S.stroke;
    if (stroke && ev.pointerId === stroke.pointerId) {
      ev.stopPropagation();
      ev.preventDefault();
      endStroke();
      S.down = null;
      if (ev.pointerType === "touch") ring.style.display = "none";
      return;
    }
    const d = S.down;
    S.down = null;
    if (!d || d.id !== ev.pointerId || d.moved) return;
    if (Math.hypot(ev.clientX - d.x, ev.clientY - d.y) > CLICK_SLOP_PX) return;
    if (performance.now() - d.t > CLICK_MAX_MS) return;
    await capture();
    const hit = pickXY(...displayXY(ev), false);
    if (hit) {
      showLabel(nameOf(hit.structure), ev, 2500);
      model.send_msg({ type: "pick", structure: hit.structure, cell: hit.cell, point: hit.point });
    }
  }

  function onLeave() {
    clearTimeout(S.hoverTimer);
    if (!S.stroke) label.style.display = "none";
    ring.style.display = "none";
  }

  // The brush ring: a circle of the brush's radius on screen, at the depth of the skin under the
  // pointer, so a person sees where the paint will go before pressing (and around the finger).
  function placeRing(ev, hit) {
    const b = model.brush;
    if (!model.paint_mode || !b || !(b.radius > 0) || !S.skin || !hit || hit.point < 0) {
      ring.style.display = "none";
      return;
    }
    const k = 3 * hit.point, p = S.skin.pts;
    const up = S.renderer.getActiveCamera().getViewUp();
    const [x0, y0] = S.project(p[k], p[k + 1], p[k + 2]);
    const [x1, y1] = S.project(p[k] + b.radius * up[0], p[k + 1] + b.radius * up[1], p[k + 2] + b.radius * up[2]);
    const d = 2 * Math.hypot(x1 - x0, y1 - y0);
    const rect = root.getBoundingClientRect();
    Object.assign(ring.style, { display: "block", width: `${d}px`, height: `${d}px`,
      left: `${ev.clientX - rect.left}px`, top: `${ev.clientY - rect.top}px` });
  }

  // hovering: the skin under the pointer from the selection buffers (captured once per pose)
  function ringAt(ev) {
    capture().then(() => placeRing(ev, S.src && pickXY(...displayXY(ev), true)));
  }

  root.addEventListener("pointerdown", onDown, true);
  root.addEventListener("pointermove", onMove, true);
  root.addEventListener("pointerup", onUp, true);
  root.addEventListener("pointercancel", (ev) => { S.pointers.delete(ev.pointerId); if (S.stroke) endStroke(); }, true);
  root.addEventListener("pointerleave", onLeave);
  root.addEventListener("contextmenu", (ev) => ev.preventDefault());

  // Ctrl/Cmd+Z undoes a stroke, Ctrl/Cmd+Shift+Z or Ctrl+Y redoes it (not while typing)
  // presenter mode: the arrow keys and the space bar step through an explained path
  const STEP_KEYS = { ArrowRight: "next", " ": "next", PageDown: "next", ArrowLeft: "previous", PageUp: "previous" };
  const onKey = (ev) => {
    const t = ev.composedPath ? ev.composedPath()[0] : ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    if (!isMain) return;
    if (model.presenter && !ev.ctrlKey && !ev.metaKey && !ev.altKey && STEP_KEYS[ev.key]
        && !(t && (t.tagName === "BUTTON") && ev.key === " ")) {
      ev.preventDefault();
      model.send_msg({ type: "key", action: STEP_KEYS[ev.key] });
      return;
    }
    if (!(ev.ctrlKey || ev.metaKey)) return;
    const k = ev.key.toLowerCase();
    if (k === "z" || k === "y") {
      ev.preventDefault();
      model.send_msg({ type: "key", action: k === "y" || ev.shiftKey ? "redo" : "undo" });
    }
  };
  document.addEventListener("keydown", onKey);

  function dispose() {
    S.disposed = true;
    if (S.linkGroup) S.linkGroup.delete(S);
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("fullscreenchange", onFullscreen);
    window.removeEventListener("pagehide", onPageHide);
    clearTimeout(S.cameraTimer);
    if (S.resizeObserver) S.resizeObserver.disconnect();
    if (S.grw) {
      try { S.grw.delete(); } catch (e) { /* ignore */ }
    }
  }
  model.on("remove", dispose);

  init().catch((err) => {
    console.error("hipviz viewer", err);
    status.textContent = "The 3D view could not start: " + err.message;
    if (!status.isConnected) root.append(status);
    root.dataset.state = "error";
  });
  return root;
}
