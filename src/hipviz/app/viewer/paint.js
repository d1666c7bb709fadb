// Painting: the page draws each dab at once, sends the dabs of each interval to Python, and puts
// back what Python did not confirm once the stroke is done; a finger waits a moment (a second
// finger means a pinch, not paint); the brush ring shows where paint will go.

import { sendThrottled } from "./common.js";

const DAB_INTERVAL_MS = 100;  // at most one dab message per interval while painting (the page draws
                              // each dab at once; the message only carries it to the server)
const DAB_STEP_PX = 4;        // sample the stroke path every few (CSS) pixels
const TOUCH_COMMIT_MS = 120;  // a finger paints once no second finger has joined it for this long

export function installPaint(V) {
  const { S, model, root, ring } = V;
  const requestRender = (...a) => V.requestRender(...a);
  const capture = (...a) => V.capture(...a);
  const displayXY = (...a) => V.displayXY(...a);
  const pickXY = (...a) => V.pickXY(...a);

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
    const changed = [];
    for (let k = 0, i = 0; k < pts.length; k += 3, i++) {
      const dx = pts[k] - cx, dy = pts[k + 1] - cy, dz = pts[k + 2] - cz;
      if (dx * dx + dy * dy + dz * dz > r2 || nrm[k] * nx + nrm[k + 1] * ny + nrm[k + 2] * nz < 0) continue;
      drawn.add(i);
      if (rgb[k] === R && rgb[k + 1] === G && rgb[k + 2] === B) continue;
      rgb[k] = R; rgb[k + 1] = G; rgb[k + 2] = B;
      changed.push(i);
    }
    if (!changed.length) return;
    V.paintChanged(changed);
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
    const changed = [];
    for (const v of drawn) {
      if (isDrawn(v)) continue;
      const k = 3 * v;
      rgb[k] = server[k]; rgb[k + 1] = server[k + 1]; rgb[k + 2] = server[k + 2];
      changed.push(v);
    }
    V.paintChanged(changed);
    requestRender();
  }

  // ---- pointer handling (capture phase: runs before vtk.js's interactor) -------------------
  function sendDabs(stroke, force) {
    if (!stroke.committed || stroke.cancelled) return;   // a finger's stroke waits a moment: a second finger means pinch, not paint
    sendThrottled(stroke, force, {
      interval: DAB_INTERVAL_MS, most: model.max_dab_points || 256, again: () => sendDabs(stroke, true),
      take: () => { const p = Array.from(stroke.points); stroke.points.clear(); return p; },
      post: (points) => model.send_msg({ type: "dab", stroke: stroke.n, points }),
    });
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

  return { isDrawn, drawDab, undraw, sendDabs, strokeAt, strokeTo, startStroke, commitStroke, cancelStroke, endStroke, placeRing, ringAt };
}
