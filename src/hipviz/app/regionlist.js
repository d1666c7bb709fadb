// hipviz region list: every body area (with its side) as a native checkbox and a strength
// select, usable from the keyboard alone and read by a screen reader. Ticking an area paints
// all of it; unticking clears it. The ticks follow the painting too (`marked`).

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function render({ model }) {
  const T = model.texts || {};
  const root = el("div", "hv-rl");
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", T.list_title || "Body areas");
  const title = el("h3", "hv-rl-title", T.list_title || "Body areas");
  const help = el("p", "hv-rl-help", T.list_help || "");
  root.append(title, help);
  const controls = new Map();   // "region:side" -> {box, strength}
  let uid = 0;

  function send(key) {
    const c = controls.get(key);
    const [region, side] = key.split(":");
    model.send_msg({ type: "mark", region, side, intensity: c.box.checked ? parseInt(c.strength.value, 10) : 0 });
  }

  for (const g of model.groups) {
    const sec = el("section", "hv-rl-group");
    const h = el("h4", "hv-rl-gtitle", g.label);
    h.id = `hv-rl-g${uid++}`;
    sec.setAttribute("aria-labelledby", h.id);
    sec.append(h);
    for (const r of g.regions) {
      const fs = el("fieldset", "hv-rl-region");
      fs.append(el("legend", "", r.label));
      for (const side of r.sides) {
        const key = `${r.id}:${side}`;
        const row = el("div", "hv-rl-row");
        const id = `hv-rl-${uid++}`;
        const box = document.createElement("input");
        box.type = "checkbox";
        box.id = id;
        box.dataset.key = key;
        const lab = el("label", "hv-rl-side", (T.sides || {})[side] || side);
        lab.htmlFor = id;
        box.setAttribute("aria-label", `${r.label}, ${((T.sides || {})[side] || side).toLowerCase()}`);
        const strength = document.createElement("select");
        strength.id = `${id}-s`;
        strength.dataset.key = key;
        strength.setAttribute("aria-label", `${T.strength || "How strong"}: ${r.label}, ${((T.sides || {})[side] || side).toLowerCase()}`);
        for (let i = 1; i <= 10; i++) {
          const o = document.createElement("option");
          o.value = String(i); o.textContent = `${i}/10`;
          strength.append(o);
        }
        strength.value = String(model.default_strength || 6);
        box.addEventListener("change", () => send(key));
        strength.addEventListener("change", () => { box.checked = true; send(key); });
        row.append(box, lab, strength);
        fs.append(row);
        controls.set(key, { box, strength });
      }
      sec.append(fs);
    }
    root.append(sec);
  }

  function sync() {
    const m = model.marked || {};
    for (const [key, c] of controls) {
      const v = m[key];
      c.box.checked = v !== undefined && v > 0;
      // a strength the person is changing right now is theirs: a reply to an earlier tick leaves it
      const busy = c.strength.getRootNode().activeElement === c.strength;
      if (v !== undefined && v > 0 && !busy) c.strength.value = String(Math.min(10, Math.max(1, Math.round(v))));
    }
    root.dataset.marked = String(Object.keys(m).length);
  }
  sync();
  model.on("marked", sync);
  return root;
}
