// The skin's layers drawn per pixel: the paint, skin territories (dermatomes, skin nerves) with
// their borders, and a referral pattern's hatch and outline.
//
// Python sends per-vertex fields: the paint colours (the "skin" message), territory codes and
// pattern weights (the "overlay" message). The page smooths each field a little over the mesh
// and hands it to the fragment shader as a vertex attribute; the shader draws a boundary where
// the field, interpolated across the triangle, crosses its threshold. Boundaries therefore run
// smoothly through triangles, where colours per vertex would follow the mesh's edges in steps.
// The stripes of the hatch are planes across the body, computed from each pixel's position.

import { toArrayBuffer } from "./common.js";

const SLOTS = 4;   // territory patches that meet get different slots (Python assigns them, see overlay.py)

function glslVec3(hex) {
  const h = hex.replace("#", "");
  const c = [0, 2, 4].map((i) => (parseInt(h.slice(i, i + 2), 16) / 255).toFixed(4));
  return `vec3(${c.join(", ")})`;
}

const f = (x) => Number(x).toFixed(5);

// The shader code the mapper's templates receive (vtk.js ShaderReplacements, applied before
// vtk.js's own: each keeps its tag and adds our lines after it, so vtk.js still fills the tag in
// and our lines run after its code).
function replacements(style) {
  const pat = style.pattern, ter = style.territory;
  const palette = ter.colours.map((c, i) => `  if (c == ${i}) return ${glslVec3(c)};`).join("\n");
  const vsDec = `//VTK::Normal::Dec
attribute vec4 hvpaintMC;
attribute vec4 hvslotMC;
attribute vec4 hvcodeMC;
attribute float hvpatMC;
varying vec4 hvPaint;
varying vec4 hvSlot;
varying vec4 hvCode;
varying float hvPat;
varying vec3 hvPos;`;
  const vsImpl = `//VTK::Normal::Impl
  hvPaint = hvpaintMC; hvSlot = hvslotMC; hvCode = hvcodeMC; hvPat = hvpatMC; hvPos = vertexMC.xyz;`;
  const fsDec = `//VTK::Normal::Dec
varying vec4 hvPaint;
varying vec4 hvSlot;
varying vec4 hvCode;
varying float hvPat;
varying vec3 hvPos;
vec3 hvPalette(int c) {
${palette}
  return vec3(0.5);
}
// coverage (0..1) of a pixel by the region where d > 0, d changing by fw per pixel
float hvCover(float d, float fw) { return clamp(0.5 + d / max(fw, 1e-6), 0.0, 1.0); }`;
  const fsImpl = `//VTK::Color::Impl
  {
    vec3 hvc = diffuseColor;
    // skin territories: the slot with the largest share here; a border where two shares meet
    float hvIn = hvSlot.x + hvSlot.y + hvSlot.z + hvSlot.w;
    if (hvIn > 0.002) {
      float s[4];
      s[0] = hvSlot.x; s[1] = hvSlot.y; s[2] = hvSlot.z; s[3] = hvSlot.w;
      float c[4];
      c[0] = hvCode.x; c[1] = hvCode.y; c[2] = hvCode.z; c[3] = hvCode.w;
      int k = 0;
      float m1 = s[0];
      for (int i = 1; i < 4; i++) if (s[i] > m1) { m1 = s[i]; k = i; }
      float m2 = max(0.0, 1.0 - hvIn);
      for (int i = 0; i < 4; i++) if (i != k) m2 = max(m2, s[i]);
      if (m1 >= 1.0 - hvIn) {
        hvc = mix(hvc, hvPalette(int(c[k] / max(m1, 1e-4) + 0.5)), ${f(ter.alpha)});
      }
      float g = abs(m1 - max(m2, 1.0 - hvIn));
      float line = 1.0 - hvCover(g - ${f(ter.border_px / 2)} * fwidth(g), fwidth(g));
      hvc *= mix(1.0, ${f(ter.border_shade)}, line);
    }
    // the paint: colours averaged over the painted corners only, edge where half is painted
    if (hvPaint.a > 0.002) {
      float a = hvCover(hvPaint.a - 0.5, fwidth(hvPaint.a));
      hvc = mix(hvc, hvPaint.rgb / hvPaint.a, a);
    }
    // a referral pattern: diagonal stripes inside its zone, a solid line along its edge
    if (hvPat > 0.002) {
      float fw = max(fwidth(hvPat), 1e-5);
      float inside = hvCover(hvPat - ${f(pat.threshold)}, fw);
      if (inside > 0.0) {
        float t = dot(hvPos, vec3(0.57735027)) * ${f(100 / pat.period_cm)};
        float ph = fract(t);
        float ts = fwidth(t);
        float d = ph < ${f(pat.duty)} ? min(ph, ${f(pat.duty)} - ph) : -min(ph - ${f(pat.duty)}, 1.0 - ph);
        float ink = hvCover(d, ts) * (${f(pat.stripe_alpha)} + ${f(pat.stripe_weight_alpha)} * clamp(hvPat, 0.0, 1.0));
        float edge = hvCover(${f(pat.border_px)} - (hvPat - ${f(pat.threshold)}) / fw, 1.0);
        ink = max(ink, ${f(pat.border_alpha)} * edge);
        hvc = mix(hvc, ${glslVec3(pat.ink)}, ink * inside);
      }
    }
    diffuseColor = hvc;
    ambientColor = hvc;
  }`;
  return [
    { shaderType: "Vertex", originalValue: "//VTK::Normal::Dec", replacementValue: vsDec, replaceFirst: true, replaceAll: false },
    { shaderType: "Vertex", originalValue: "//VTK::Normal::Impl", replacementValue: vsImpl, replaceFirst: true, replaceAll: false },
    { shaderType: "Fragment", originalValue: "//VTK::Normal::Dec", replacementValue: fsDec, replaceFirst: true, replaceAll: false },
    { shaderType: "Fragment", originalValue: "//VTK::Color::Impl", replacementValue: fsImpl, replaceFirst: true, replaceAll: false },
  ];
}

export function installSkinShade(V) {
  const { S, root } = V;
  S.paintChanged = (changed) => paintChanged(changed);   // handle for tests

  // For each vertex, the corners it shares a triangle with (the other two corners of every
  // triangle it is in), as offsets `start` into `nb`; built once per skin.
  function corners(tris, n) {
    const start = new Uint32Array(n + 1);
    for (let k = 0; k < tris.length; k++) start[tris[k] + 1] += 2;
    for (let v = 0; v < n; v++) start[v + 1] += start[v];
    const nb = new Uint32Array(start[n]), at = start.slice(0, n);
    for (let t = 0; t < tris.length; t += 3) {
      const a = tris[t], b = tris[t + 1], c = tris[t + 2];
      nb[at[a]++] = b; nb[at[a]++] = c; nb[at[b]++] = a; nb[at[b]++] = c; nb[at[c]++] = a; nb[at[c]++] = b;
    }
    return { start, nb };
  }

  // One vertex of one averaging pass: half its own value, half the mean of its corners.
  function smoothAt(src, dst, comps, v) {
    const { start, nb } = S.skin.ring, a = start[v], b = start[v + 1];
    for (let j = 0; j < comps; j++) {
      const own = src[v * comps + j];
      if (b === a) { dst[v * comps + j] = own; continue; }
      let sum = 0;
      for (let i = a; i < b; i++) sum += src[nb[i] * comps + j];
      dst[v * comps + j] = 0.5 * own + 0.5 * sum / (b - a);
    }
  }

  // A field averaged with its neighbours on the mesh `iters` times.
  function smooth(field, comps, n, iters) {
    let cur = field;
    for (let it = 0; it < iters; it++) {
      const next = new Float32Array(cur.length);
      for (let v = 0; v < n; v++) smoothAt(cur, next, comps, v);
      cur = next;
    }
    return cur;
  }

  function attribute(vtk, pd, name, comps, n) {
    const arr = vtk.Common.Core.vtkDataArray.newInstance({ name, numberOfComponents: comps, values: new Float32Array(n * comps) });
    pd.getPointData().addArray(arr);
    return arr;
  }

  // Called once for the skin actor: the attributes and the shader code.
  function shadeSkin(vtk, rec, style) {
    const n = rec.entry.nverts;
    const sk = S.skin;
    sk.style = style;
    sk.tris = rec.tris;
    sk.ring = corners(rec.tris, n);
    sk.attr = {
      paint: attribute(vtk, rec.pd, "hvpaint", 4, n),
      slot: attribute(vtk, rec.pd, "hvslot", 4, n),
      code: attribute(vtk, rec.pd, "hvcode", 4, n),
      pat: attribute(vtk, rec.pd, "hvpat", 1, n),
    };
    rec.mapper.setScalarVisibility(false);
    rec.mapper.setCustomShaderAttributes(["hvpaint", "hvslot", "hvcode", "hvpat"]);
    const vsp = rec.mapper.getViewSpecificProperties();
    vsp.OpenGL = Object.assign({}, vsp.OpenGL, { ShaderReplacements: replacements(style) });
    paintChanged();
  }

  // The paint colours (S.skin.rgb) changed, at the vertices `changed` (all of them when not
  // given): premultiplied colour and coverage, smoothed. With at most one smoothing pass, a
  // change moves only the changed vertices and their corners, so a dab recomputes those alone.
  function paintChanged(changed) {
    const sk = S.skin;
    if (!sk || !sk.attr) return;
    const { rgb, base } = sk, n = rgb.length / 3, passes = sk.style.smoothing.paint;
    const rawAt = (raw, v) => {
      const k = 3 * v, painted = rgb[k] !== base[0] || rgb[k + 1] !== base[1] || rgb[k + 2] !== base[2];
      raw[4 * v] = painted ? rgb[k] / 255 : 0; raw[4 * v + 1] = painted ? rgb[k + 1] / 255 : 0;
      raw[4 * v + 2] = painted ? rgb[k + 2] / 255 : 0; raw[4 * v + 3] = painted ? 1 : 0;
    };
    if (!changed || !sk.paintRaw || passes > 1 || changed.length > n / 4) {
      sk.paintRaw = new Float32Array(n * 4);
      for (let v = 0; v < n; v++) rawAt(sk.paintRaw, v);
      sk.attr.paint.setData(smooth(sk.paintRaw, 4, n, passes), 4);
      sk.paintUpdated = n;
    } else {
      const raw = sk.paintRaw, out = sk.attr.paint.getData(), { start, nb } = sk.ring;
      const near = new Set();
      for (const v of changed) {
        rawAt(raw, v);
        near.add(v);
        for (let i = start[v]; i < start[v + 1]; i++) near.add(nb[i]);
      }
      if (passes === 1) for (const v of near) smoothAt(raw, out, 4, v);
      sk.attr.paint.modified();
      sk.paintUpdated = near.size;     // vertices recomputed (for tests)
    }
    sk.pd.modified();
  }

  // Territory codes (uint8, 255 for none) and slots per vertex, and pattern weights (uint8 0..255).
  function setOverlay(msg) {
    const sk = S.skin;
    if (!sk || !sk.attr) return;
    const n = sk.rgb.length / 3, st = sk.style;
    const slot = new Float32Array(n * SLOTS), code = new Float32Array(n * SLOTS);
    if (msg.territory) {
      const codes = new Uint8Array(toArrayBuffer(msg.territory)), slots = new Uint8Array(toArrayBuffer(msg.slots));
      const ncol = st.territory.colours.length;
      for (let v = 0; v < n; v++) {
        const c = codes[v], k = slots[v];
        if (c === 255 || k >= SLOTS) continue;
        slot[SLOTS * v + k] = 1;
        code[SLOTS * v + k] = c % ncol;
      }
    }
    sk.attr.slot.setData(smooth(slot, SLOTS, n, st.smoothing.territory), SLOTS);
    sk.attr.code.setData(smooth(code, SLOTS, n, st.smoothing.territory), SLOTS);
    const pat = new Float32Array(n);
    if (msg.pattern) {
      const w = new Uint8Array(toArrayBuffer(msg.pattern));
      for (let v = 0; v < n; v++) pat[v] = w[v] / 255;
    }
    sk.attr.pat.setData(smooth(pat, 1, n, st.smoothing.pattern), 1);
    root.dataset.overlay = `${msg.territory ? "territory" : ""}${msg.pattern ? " pattern" : ""}`.trim() || "none";
    sk.pd.modified();
    V.requestRender();
  }

  return { shadeSkin, paintChanged, setOverlay };
}
