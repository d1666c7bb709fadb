// Picking with vtk.js's hardware selector: the buffers are captured once per camera pose and
// reused for every pick until the camera or the scene changes; the name label.

export function installPick(V) {
  const { S, root, gl, label } = V;

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

  // what lies under a page point (CSS pixels): structure, cell, nearest vertex and world position;
  // for tests and the bench
  S.pickAt = async (clientX, clientY, onlySkin = false) => {
    await capture();
    const [x, y] = displayXY({ clientX, clientY });
    return pickXY(x, y, onlySkin);
  };

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

  return { displayXY, capture, pickXY, showLabel, nameOf };
}
