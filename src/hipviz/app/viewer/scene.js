// Building the scene from the compressed geometry: one actor per structure (quantised points,
// high-water coded triangles, normals computed here), the skin first, the orientation cube.
// The geometry comes in two parts: the skin with the page, everything inside it
// (model.geometry_rest) once Python first shows something under the skin; changes to actors
// not built yet wait in S.pending.

import { loadVtk, inflate, toArrayBuffer, hexToBytes, hexToRgb, el } from "./common.js";

export function installScene(V) {
  const { S, model, root, gl, status, presets, isMain } = V;
  const requestRender = (...a) => V.requestRender(...a);
  const handle = (...a) => V.handle(...a);
  const applyCamera = (...a) => V.applyCamera(...a);
  const linkCameras = (...a) => V.linkCameras(...a);
  const onCameraModified = (...a) => V.onCameraModified(...a);
  const placeLabels = (...a) => V.placeLabels(...a);

  // the orientation cube's look; its face order is vtk.js's cube-map order
  const CUBE_STYLE = { resolution: 128, face: "#dfe6f0", ink: "#1f2a38", edge: 0.06, textShare: 0.3 };
  const CUBE_FACES = ["XPlus", "XMinus", "YPlus", "YMinus", "ZPlus", "ZMinus"];

  /** One face of the orientation cube as vtkImageData, drawn once on a canvas read back on the
   * CPU. vtk.js's own annotated cube draws its faces 18 times and reads each back from the GPU,
   * about 70 ms a face in software WebGL. */
  function cubeFace(vtk, text) {
    const st = CUBE_STYLE, n = st.resolution, canvas = document.createElement("canvas");
    canvas.width = canvas.height = n;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = st.face;
    ctx.fillRect(0, 0, n, n);
    ctx.strokeStyle = st.ink;
    ctx.lineWidth = st.edge * n;
    ctx.strokeRect(0, 0, n, n);
    ctx.translate(0, n);
    ctx.scale(1, -1);                        // image rows run bottom-up in vtkImageData
    ctx.fillStyle = st.ink;
    ctx.font = `bold ${Math.round(st.textShare * n)}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, n / 2, n / 2);
    return vtk.Common.Core.vtkImageHelper.canvasToImageData(canvas);
  }

  // a small cube in the corner that turns with the body and names its sides
  function addOrientationFigure(vtk, views) {
    const Widget = vtk.Interaction.Widgets.vtkOrientationMarkerWidget;
    if (!Widget || !views.anterior || !views.left) return;
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
    const source = vtk.Filters.Sources.vtkCubeSource.newInstance({ generate3DTextureCoordinates: true });
    const mapper = vtk.Rendering.Core.vtkMapper.newInstance();
    mapper.setInputConnection(source.getOutputPort());
    const texture = vtk.Rendering.Core.vtkTexture.newInstance({ interpolate: true });
    CUBE_FACES.forEach((face, i) => texture.setInputData(cubeFace(vtk, names[face] || ""), i));
    const cube = vtk.Rendering.Core.vtkActor.newInstance();
    cube.setMapper(mapper);
    cube.addTexture(texture);
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
      const base = hexToBytes(entry.colour);
      const rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n * 3; i += 3) { rgb[i] = base[0]; rgb[i + 1] = base[1]; rgb[i + 2] = base[2]; }
      S.skin = { rgb, base, pd, server: rgb.slice(), pts, nrm };
      V.shadeSkin(vtk, rec, S.meta.overlay);   // the paint and the overlays, drawn per pixel
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
    S.parts = { first: await inflate(toArrayBuffer(model.geometry)) };
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
    const add = (entry) => addActor(entry, shownFirst(entry));
    const here = (e) => !!S.parts[e.part || "first"];
    for (const entry of meta.actors) if (here(entry) && shownFirst(entry)) add(entry);
    S.renderer.getActiveCamera().onModified(onCameraModified);
    grw.resize();
    applyCamera(meta.views.reset);   // requests the first frame
    status.remove();
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));   // drawn before the rest
    if (S.disposed) return;
    let built = 0;
    for (const entry of meta.actors) {
      if (!here(entry) || shownFirst(entry)) continue;
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
    S.resizeObserver.observe(gl);      // the picture shrinks beside the paint-mode strip
    if (isMain) try { addOrientationFigure(vtk, meta.views); } catch (e) { console.warn("orientation figure", e); }
    for (const name of meta.presets || []) {
      const v = meta.views[name];
      if (!v) continue;
      const b = el("button", "", v.label);
      b.type = "button";
      b.addEventListener("click", () => applyCamera(v));
      presets.append(b);
    }
    S.built = true;
    S.timing.built = performance.now();
    model.on("geometry_rest", buildRest);
    buildRest();
    linkCameras();
    root.dataset.state = "ready";
    for (const m of S.queue.splice(0)) handle(m);
    model.send_msg({ type: "ready" });
    requestRender();
  }

  function addActor(entry, visible) {
    const rec = buildActor(S.vtk, S.parts[entry.part || "first"], entry, S.meta.skin_id, visible);
    S.actors.set(entry.id, rec);
    S.propToId.set(rec.actor, entry.id);
    S.renderer.addActor(rec.actor);
    return rec;
  }

  // an actor's visibility, opacity or colour from Python; kept for later if it is not built yet
  function setActor(id, ch) {
    const a = S.actors.get(id);
    if (!a) {
      S.pending.set(id, Object.assign(S.pending.get(id) || {}, ch));
      return;
    }
    const prop = a.actor.getProperty();
    if (ch.visible !== undefined) a.actor.setVisibility(!!ch.visible);
    if (ch.opacity !== undefined) prop.setOpacity(ch.opacity);
    if (ch.colour !== undefined) {
      prop.setColor(...hexToRgb(ch.colour));
      if (a.id === S.skinId && S.skin) {
        S.skin.base = hexToBytes(ch.colour);
        V.paintChanged();
      }
    }
  }

  // everything inside the skin, once Python sends it: built hidden, a few actors at a time, then
  // given the state Python asked for meanwhile
  async function buildRest() {
    if (!S.built || S.parts.rest || S.restLoading || !model.geometry_rest) return;
    S.restLoading = true;
    const buf = await inflate(toArrayBuffer(model.geometry_rest));
    if (S.disposed) return;
    S.parts.rest = buf;
    let built = 0;
    for (const entry of S.meta.actors) {
      if (S.actors.has(entry.id) || (entry.part || "first") !== "rest") continue;
      addActor(entry, false);
      if (++built % 12 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (S.disposed) return;
      }
    }
    for (const [id, ch] of S.pending) setActor(id, ch);
    S.pending.clear();
    S.restLoading = false;
    S.timing.restBuilt = performance.now();
    root.dataset.rest = "built";
    V.updatePickable();
    requestRender();
  }

  // page coordinates (CSS pixels) of a world point, for tests and the bench
  S.project = (x, y, z) => {
    const [dx, dy] = S.glwin.worldToDisplay(x, y, z, S.renderer);
    const rect = gl.getBoundingClientRect();
    const [w, h] = S.glwin.getSize();
    return [rect.left + (dx * rect.width) / w, rect.top + ((h - dy) * rect.height) / h];
  };

  return { addOrientationFigure, snapshot, buildActor, init, setActor };
}
