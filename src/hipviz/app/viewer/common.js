// Helpers shared by the 3D view and the body chart.

// vtk.js, loaded once per page. The page template starts loading it with the page (a script
// marked data-hipviz-vtk, which records its state), so that it downloads and compiles while the
// document arrives; this waits for that script, or loads vtk.js itself where there is none.
export function loadVtk(url) {
  if (window.vtk && window.vtk.Rendering) return Promise.resolve(window.vtk);
  if (!window.__hipvizVtk) {
    window.__hipvizVtk = new Promise((resolve, reject) => {
      const done = () => (window.vtk ? resolve(window.vtk) : reject(new Error("vtk.js did not define window.vtk")));
      let s = document.querySelector("script[data-hipviz-vtk]");
      if (s && s.dataset.state === "loaded") return done();
      const fresh = !s || s.dataset.state === "error";
      if (fresh) {
        s = document.createElement("script");
        s.src = url;
        s.async = true;
      }
      s.addEventListener("load", done);
      s.addEventListener("error", () => reject(new Error("could not load " + url)));
      if (fresh) document.head.appendChild(s);
    });
  }
  return window.__hipvizVtk;
}

export async function inflate(buffer) {
  const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("deflate"));
  return await new Response(stream).arrayBuffer();
}

export function toArrayBuffer(v) {
  if (v instanceof ArrayBuffer) return v;
  if (ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
  if (v && v.buffer instanceof ArrayBuffer) return v.buffer;
  throw new Error("expected binary data");
}

// "#rrggbb" -> [r, g, b] in 0..255
export function hexToBytes(hex) {
  const h = hex.replace("#", "");
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

// "#rrggbb" -> [r, g, b] in 0..1 (vtk.js colours)
export function hexToRgb(hex) {
  return hexToBytes(hex).map((v) => v / 255);
}

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Sends a stroke's new points at most once per `o.interval` ms while it goes on. `o.take()`
 * empties and returns the points collected since the last message; `o.post(chunk)` sends one
 * message of at most `o.most` points (the server drops a longer one whole). Called too soon, it
 * calls `o.again()` once the interval is over instead. */
export function sendThrottled(stroke, force, o) {
  const now = performance.now();
  if (!force && now - stroke.lastSent < o.interval) {
    if (!stroke.timer) stroke.timer = setTimeout(() => { stroke.timer = null; o.again(); }, o.interval);
    return;
  }
  const points = o.take();
  if (!points.length) return;
  stroke.lastSent = now;
  stroke.sent = true;
  for (let i = 0; i < points.length; i += o.most) o.post(points.slice(i, i + o.most));
}
