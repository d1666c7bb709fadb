// The camera: presets, zoom and pan, views linked to one camera, and the camera reported to
// Python (which keeps it with the map) once the view has been still for a moment.

const CAMERA_STILL_MS = 300;  // report the camera once the view has been still this long
const MAX_ELEVATION_DEG = 55; // a drag never looks at the body from higher or lower than this (the
                              // skin is open at the top of the torso), nor rolls it off upright

export function installCamera(V) {
  const { S, model, isMain } = V;
  const requestRender = (...a) => V.requestRender(...a);
  const placeLabels = (...a) => V.placeLabels(...a);

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

  // while a hand turns the body: keep it upright and within MAX_ELEVATION_DEG of the horizon
  function keepUpright() {
    const cam = S.renderer.getActiveCamera();
    const p = cam.getPosition(), f = cam.getFocalPoint();
    const d = [p[0] - f[0], p[1] - f[1], p[2] - f[2]];
    const r = Math.hypot(...d), hr = Math.hypot(d[0], d[1]);
    if (!(r > 0) || !(hr > 1e-9 * r)) return;
    const lim = (MAX_ELEVATION_DEG * Math.PI) / 180;
    const el = Math.max(-lim, Math.min(lim, Math.atan2(d[2], hr)));
    const n = [(Math.cos(el) * d[0]) / hr, (Math.cos(el) * d[1]) / hr, Math.sin(el)];
    const up = [-Math.sin(el) * n[0] / Math.cos(el), -Math.sin(el) * n[1] / Math.cos(el), Math.cos(el)];
    S.clamping = true;
    cam.setPosition(f[0] + r * n[0], f[1] + r * n[1], f[2] + r * n[2]);
    cam.setViewUp(...up);
    S.clamping = false;
  }

  function onCameraModified() {
    if (S.down && !model.paint_mode && !S.clamping) keepUpright();
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

  return { linkCameras, copyCamera, cameraNow, reportCamera, onCameraModified, applyCamera, zoom, pan, onPageHide };
}
