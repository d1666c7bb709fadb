"""Small Panel components of the app: a clickable list (ranked candidates, search results)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import param

from hipviz.app.plain_js import PlainJSComponent

CLICKLIST_CSS = """
.hv-list { list-style: none; margin: 0; padding: 0; font-family: system-ui, sans-serif; }
.hv-list li { margin: 0 0 8px; }
.hv-item { display: block; width: 100%; text-align: left; background: #fff; border: 1px solid #d7dce4; border-radius: 8px;
  padding: 8px 10px; cursor: pointer; font: inherit; color: #1f2a38; box-shadow: 0 1px 2px #0001; }
.hv-item:hover { border-color: #1f4e79; background: #f5f8fd; }
.hv-item:focus-visible { outline: 3px solid #f0a500; outline-offset: 1px; }
.hv-item.selected { border: 2px solid #1f4e79; background: #e8f0fb; }
.hv-head { display: flex; align-items: center; gap: 8px; font-size: 16px; }
.hv-rank { display: inline-flex; width: 24px; height: 24px; border-radius: 12px; background: #1f2a38; color: #fff;
  align-items: center; justify-content: center; font-size: 13px; flex: none; }
.hv-title { flex: 1; font-weight: 600; }
.hv-side { font-weight: 400; color: #556; }
.hv-pct { font-variant-numeric: tabular-nums; color: #334; }
.hv-bar { height: 6px; background: #e6e8ee; border-radius: 3px; margin: 6px 0 4px; overflow: hidden; }
.hv-bar > div { height: 100%; background: #c0392b; }
.hv-sub { font-size: 13.5px; color: #556; line-height: 1.35; margin-top: 2px; }
.hv-go { font-size: 13px; color: #1f4e79; font-weight: 600; margin-top: 4px; }
.hv-empty { color: #667; font-size: 15px; }
:host(.presenter) .hv-head { font-size: 22px; }
:host(.presenter) .hv-sub { font-size: 17px; }
"""


class ClickList(PlainJSComponent):
    """A list of items the user can click (or tap, or press Enter on); Python gets the item id.

    ``items``: dicts with ``id``, ``title`` and optionally ``sub`` (a second line), ``pct``
    (a score bar), ``side``, ``rank`` and ``go`` (a call to action)."""

    items = param.List(default=[])
    selected = param.String(default="")
    item_class = param.String(default="", doc="extra CSS class of each item (e.g. hv-cand)")
    data_key = param.String(default="id", doc="name of the data- attribute carrying the item id")
    empty = param.String(default="")

    _stylesheets: ClassVar[list[str]] = [CLICKLIST_CSS]

    _esm = """
    export function render({ model, el }) {
      const ol = document.createElement("ol");
      ol.className = "hv-list";
      function draw() {
        ol.innerHTML = "";
        if (!model.items.length && model.empty) {
          const p = document.createElement("p"); p.className = "hv-empty"; p.textContent = model.empty; ol.append(p); return;
        }
        for (const it of model.items) {
          const li = document.createElement("li");
          const b = document.createElement("button");
          b.type = "button";
          b.className = "hv-item " + (model.item_class || "") + (it.id === model.selected ? " selected" : "");
          b.dataset[model.data_key] = it.id;
          b.setAttribute("aria-pressed", it.id === model.selected ? "true" : "false");
          const head = document.createElement("div"); head.className = "hv-head";
          if (it.rank !== undefined && it.rank !== null) {
            const r = document.createElement("span"); r.className = "hv-rank"; r.textContent = it.rank; head.append(r);
          }
          const t = document.createElement("span"); t.className = "hv-title hv-name"; t.textContent = it.title;
          if (it.side) { const s = document.createElement("span"); s.className = "hv-side"; s.textContent = " (" + it.side + ")"; t.append(s); }
          head.append(t);
          if (it.pct !== undefined && it.pct !== null) {
            const p = document.createElement("span"); p.className = "hv-pct"; p.textContent = Math.round(it.pct) + "%"; head.append(p);
          }
          b.append(head);
          if (it.pct !== undefined && it.pct !== null) {
            const bar = document.createElement("div"); bar.className = "hv-bar";
            const fill = document.createElement("div"); fill.style.width = Math.max(it.pct, 1) + "%"; bar.append(fill); b.append(bar);
          }
          if (it.sub) { const s = document.createElement("div"); s.className = "hv-sub hv-why"; s.textContent = it.sub; b.append(s); }
          if (it.go) { const g = document.createElement("div"); g.className = "hv-go"; g.textContent = it.go; b.append(g); }
          b.addEventListener("click", () => model.send_msg({ type: "click", id: it.id }));
          li.append(b);
          ol.append(li);
        }
      }
      draw();
      model.on("items", draw);
      model.on("selected", draw);
      return ol;
    }
    """

    def __init__(self, **params):
        super().__init__(**params)
        self._click_cbs: list[Callable[[str], None]] = []

    def on_click(self, cb: Callable[[str], None]) -> None:
        self._click_cbs.append(cb)

    def click(self, item_id: str) -> None:
        """What a click in the browser does (also for tests)."""
        if not any(it.get("id") == item_id for it in self.items):
            return
        for cb in self._click_cbs:
            cb(item_id)

    def _handle_msg(self, data) -> None:
        if isinstance(data, dict) and data.get("type") == "click":
            self.click(str(data.get("id")))
