"""Two other ways to show where it hurts, beside the 3D body: the flat body chart (front, back,
sides) and the list of body areas for a keyboard or a screen reader. Both paint through the same
`PaintSession` as the 3D brush, and both show what any of the three painted.

`BodyViews` is what the app holds: a switch (3D body / Body chart / List) and the two components.
The chart's views are projected once per server process (on first use) and sent to a page only
when it first shows the chart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import panel as pn
import param

from hipviz.app.chart_protocol import ChartDab, Mark, parse_chart_message
from hipviz.app.esm_bundle import bodychart_esm
from hipviz.app.plain_js import PlainJSComponent
from hipviz.app.protocol import LIMITS, Dab, ProtocolError, RateLimiter, Ready, StrokeCancel, StrokeEnd
from hipviz.bodychart import BodyChart, chart_file
from hipviz.painmap import REGION_IDS, SIDE_CODES
from hipviz.vocabulary import vocabulary

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
_CSS = (_HERE / "bodychart.css").read_text("utf-8")
SWITCH_CSS = (_HERE / "view_switch.css").read_text("utf-8")
MODES = ("3d", "chart", "list")


_LOCK = threading.Lock()


def chart_for(ctx) -> tuple[BodyChart, bytes]:
    """The chart of this server's skin and its wire form, made on first use and kept on `ctx`."""
    with _LOCK:
        got = getattr(ctx, "_body_chart", None)
        if got is None:
            chart = BodyChart.build(ctx.skin[0], ctx.skin_normals, np.flatnonzero(ctx.labels.region >= 0))
            got = (chart, chart.wire_blob())
            ctx._body_chart = got
        return got


class _Bounded(PlainJSComponent):
    """Browser messages through the chart protocol and a rate limit, like the 3D view's."""

    _stylesheets: ClassVar[list[str]] = [_CSS]

    def __init__(self, **params):
        super().__init__(**params)
        self._rate = RateLimiter()
        self.rejected = 0
        self._cbs: list = []
        self._views: frozenset[str] = frozenset()

    def on_message(self, cb) -> None:
        self._cbs.append(cb)

    def _handle_msg(self, data) -> None:
        if not self._rate.allow():
            return
        try:
            msg = parse_chart_message(data, views=self._views)
        except ProtocolError as e:
            self.rejected += 1
            log.warning("%s message dropped: %s", type(self).__name__, e)
            return
        for cb in self._cbs:
            try:
                cb(msg)
            except Exception:  # a bad message must never kill the session
                log.exception("%s message %r failed", type(self).__name__, msg.type)


class ChartCanvas(_Bounded):
    """The flat views, drawn on canvases; the views' cells arrive once (`blob`)."""

    views_meta = param.List(default=[])
    blob = param.Bytes(default=None)
    n_vertices = param.Integer(default=0)
    base = param.String(default="#e8b796")
    shown = param.List(default=["front", "back"])
    texts = param.Dict(default={})
    max_points = param.Integer(default=LIMITS.dab_points, constant=True)

    _esm = bodychart_esm()

    def send_skin(self, idx: np.ndarray, rgb: np.ndarray) -> None:
        a = np.asarray(idx, "<u4").tobytes()
        b = np.ascontiguousarray(rgb, np.uint8).tobytes()
        self._send_msg({"type": "skin", "idx": a, "rgb": b})


class RegionList(_Bounded):
    """Native checkboxes and selects, one per body area and side."""

    groups = param.List(default=[])
    marked = param.Dict(default={}, doc="'region:side' -> intensity of the areas that count as painted")
    default_strength = param.Integer(default=6)
    texts = param.Dict(default={})

    _esm = "regionlist.js"


class BodyViews:
    """The switch between the 3D body, the chart and the list, wired to one app session."""

    def __init__(self, app):
        self.app = app
        raw = chart_file()           # read once per process, shared with the chart's geometry
        self.texts = raw["texts"]
        voc = vocabulary()
        self.switch = pn.widgets.RadioButtonGroup(
            label=self.texts["switch_label"], options={"3D body": "3d", "Body chart": "chart", "List": "list"}, value="3d",
            color="primary", variant="outline", sizing_mode="stretch_width", height=48, margin=(4, 6, 4, 6),
            stylesheets=[SWITCH_CSS], css_classes=["hv-switch"])
        skin_colour = app.ctx.skin_colour
        self.chart = ChartCanvas(n_vertices=app.session.n_vertices, base=skin_colour, texts=self.texts, visible=False,
                                 sizing_mode="stretch_both", margin=0)
        groups = [{"label": g["label"],
                   "regions": [{"id": r, "label": voc.regions[r], "sides": list(voc.region_sides(r))} for r in g["regions"]]}
                  for g in raw["list_groups"]]
        self.list = RegionList(groups=groups, texts=self.texts, visible=False, sizing_mode="stretch_both", margin=0)
        self._chart_ready = 0
        self._keys = np.asarray(app.session.labels.region, np.int64) * 3 + np.asarray(app.session.labels.side, np.int64)
        self.switch.param.watch(self._on_switch, "value")
        self.chart.on_message(self._on_chart)
        self.list.on_message(self._on_list)
        app.viewer.on_skin(self._mirror)

    def panels(self) -> list:
        return [self.chart, self.list]

    # ---- showing ---------------------------------------------------------------------------
    def _on_switch(self, event=None) -> None:
        mode = self.switch.value
        if mode == "chart" and self.chart.blob is None:
            chart, blob = chart_for(self.app.ctx)
            self.chart._views = frozenset(chart.views)
            with pn.io.hold():
                self.chart.views_meta = chart.wire_meta()
                self.chart.blob = blob
        if mode == "list":
            self.refresh()
        # the 3D views are hidden, not removed: they keep their scene and camera for coming back
        getattr(self.app, "view_area", self.app.viewer).visible = mode == "3d"
        self.chart.visible = mode == "chart"
        self.list.visible = mode == "list"

    # ---- the chart -----------------------------------------------------------------------
    def _mirror(self, idx: np.ndarray, rgb: np.ndarray) -> None:
        if self._chart_ready:
            self.chart.send_skin(idx, rgb)

    def _on_chart(self, msg) -> None:
        app = self.app
        if isinstance(msg, Ready):
            self._chart_ready += 1
            self.chart._send_msg({"type": "skin_reset"})
            rgb = app.viewer.skin_rgb
            idx = np.flatnonzero(np.any(rgb != app.viewer.skin_base, axis=1))
            if idx.size:
                self.chart.send_skin(idx, rgb[idx])
        elif isinstance(msg, ChartDab):
            chart, _ = chart_for(app.ctx)
            verts = chart.views[msg.view].vertices_at(*msg.cols_rows())
            if verts.size:
                app._on_dab(Dab(type="dab", stroke=msg.stroke, points=verts.tolist()), key=self._key(msg.stroke))
        elif isinstance(msg, StrokeEnd):
            app._on_stroke_end(msg.stroke)
        elif isinstance(msg, StrokeCancel):
            idx = app.session.cancel_stroke(key=self._key(msg.stroke))
            if idx.size:
                app._apply_change(idx)

    def _key(self, stroke: int) -> tuple:
        return ("chart", self._chart_ready, stroke)

    # ---- the list ------------------------------------------------------------------------
    def _on_list(self, msg) -> None:
        if not isinstance(msg, Mark):
            return
        code = REGION_IDS.index(msg.region) * 3 + SIDE_CODES[msg.side]
        idx = np.flatnonzero(self._keys == code)
        changed = self.app.session.set_paint(idx, float(msg.intensity), label="region")
        self.app._apply_change(changed)
        self.refresh()

    def refresh(self) -> None:
        """The list's ticks from the paint: an area counts as painted as the ranking counts it."""
        if not self.list.visible and self.switch.value != "list":
            return
        regions = [r for r in self.app.state.map.ranked_map().regions if r.intensity > 0]
        marked = {f"{r.region}:{r.side}": round(float(r.intensity), 1) for r in regions}
        if marked != self.list.marked:
            self.list.marked = marked

__all__ = ["BodyViews", "ChartCanvas", "RegionList", "chart_for", "MODES"]
