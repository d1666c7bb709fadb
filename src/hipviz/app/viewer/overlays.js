// The explained path (tubes along the nerve or muscle centre lines, lit step by step) and the
// labels of skin territories, kept on the body as the camera moves.

import { el, toArrayBuffer } from "./common.js";

export function installOverlays(V) {
  const { S, root, gl, tlabels } = V;
  const requestRender = (...a) => V.requestRender(...a);

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

  return { clearPath, buildPath, pathFrame, setLabels, placeLabels };
}
