// hipviz 3D viewer: drives vtk.js (the app's own bundle of the classes it uses, from the local server).
// Geometry arrives once (zlib-compressed binary); afterwards only deltas arrive as messages.
//
// The page is built from the modules of this folder (hipviz.app.viewer bundles them in this
// order: common, overlays, skinshade, camera, scene, pick, paint, main). Each module's install(V) gets the
// view V (the model, the state S, the page's elements and the other modules' functions) and
// returns its own functions, which main adds to V. CSS comes from viewer.css.

import { el } from "./common.js";
import { installOverlays } from "./overlays.js";
import { installCamera } from "./camera.js";
import { installScene } from "./scene.js";
import { installPick } from "./pick.js";
import { installPaint } from "./paint.js";
import { installSkinShade } from "./skinshade.js";
import { CSS } from "./viewer.css";

const CLICK_SLOP_PX = 5;      // press and release within this distance is a click, not a drag
const CLICK_MAX_MS = 700;
const HOVER_DELAY_MS = 180;

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
    skin: null,                 // {rgb, base, server, pts, nrm, attr, style, tris}
    drawn: new Map(),           // stroke number -> skin vertices the page drew itself, until stroke_done
    pending: new Map(),         // id -> actor changes from Python for actors not built yet
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

  // the view the modules share; each adds its functions to it
  const V = { model, S, root, gl, label, status, ring, tlabels, presets, isMain };
  V.requestRender = () => requestRender();
  V.handle = (msg) => handle(msg);
  for (const install of [installOverlays, installSkinShade, installCamera, installScene, installPick, installPaint]) Object.assign(V, install(V));
  const { buildPath, pathFrame, setLabels, applyCamera, zoom, pan, onPageHide, init, snapshot, capture,
          displayXY, pickXY, showLabel, nameOf, isDrawn, undraw, startStroke, strokeTo, endStroke, cancelStroke,
          placeRing, ringAt, paintChanged, setOverlay, setActor } = V;

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
  V.updatePickable = () => updatePickable();
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
        for (const [id, ch] of Object.entries(msg.changes)) setActor(id, ch);
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
        paintChanged(idx);
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
        paintChanged();
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
      case "overlay":
        setOverlay(msg);
        break;
    }
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

