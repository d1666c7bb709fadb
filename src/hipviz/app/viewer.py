"""The 3D viewer: a Panel JSComponent that drives vtk.js (the part of it the view uses).

Traffic, Python to browser:
- once per page: the scene index (JSON string) and the zlib-compressed geometry of the skin
  (binary); the geometry of everything inside it (`geometry_rest`) once an inner structure is
  first shown or the skin first turns see-through, so a first visit carries a fifth of the bytes;
- afterwards only messages with what changed: per-actor visibility/opacity/colour, sparse skin
  colour changes (vertex indices as uint32 bytes, RGB as uint8 bytes), a camera (a preset or a
  kept one), a snapshot request, `stroke_done` once a stroke's end (or cancel) was handled.
The page draws each dab itself the moment the finger moves (the `brush` parameter: radius and
colour), so painting never waits for the network; the server's skin colours, which follow the
surface-distance brush of `hipviz.app.session`, are the truth and overwrite it, and at
`stroke_done` the page puts back whatever it drew that the server did not confirm.
Browser to Python (messages, typed and bounded in `hipviz.app.protocol`): `ready` (the view was
(re)built: Python answers with the full dynamic state, so nothing is lost on a re-render, then
`synced`), `pick` (a click: structure id, cell id, closest point id), `dab` (paint mode: skin
points under the brush), `stroke_end`, `stroke_cancel` (a second finger came down: take the stroke back), `key` (undo, redo), `camera` (the view moved: position,
focal point, view up; sent once the view has been still for a moment, and only after `synced`,
so the default camera a new view starts with never overwrites a kept one).

vtk.js is loaded from the local server (`static/vtk-hipviz.js`, built by js/vtk from the vtk.js
release Panel bundles, with only the classes the view uses), never from a CDN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import param
from panel.io.state import set_curdoc, state

from hipviz.app.camera import Camera
from hipviz.app.esm_bundle import viewer_esm
from hipviz.app.overlay import Territories
from hipviz.app.plain_js import PlainJSComponent
from hipviz.app.protocol import (
    LIMITS, CameraMsg, Dab, Key, Message, Pick, ProtocolError, RateLimiter, Ready, StrokeCancel, StrokeEnd, check_outbound,
    parse_message,
)
from hipviz.app.scene import SKIN_ID, ScenePayload
from hipviz.app.static_files import STATIC_ROUTE, VTK_BUNDLE, static_version
from hipviz.colours import hex_to_rgb

log = logging.getLogger(__name__)


def vtk_js_url() -> str:
    """URL of the app's vtk.js bundle, relative to the page; its checksum in the query, so a
    browser never keeps an older bundle."""
    url = f"{STATIC_ROUTE}/{VTK_BUNDLE.name}?v={static_version(VTK_BUNDLE)}"
    rel = state.rel_path
    return f"{rel}/{url}" if rel else url


@dataclass
class ActorState:
    visible: bool
    opacity: float
    colour: str

    def as_dict(self) -> dict:
        return {"visible": self.visible, "opacity": self.opacity, "colour": self.colour}


class Viewer(PlainJSComponent):
    """The interactive 3D body. Use its methods; the parameters are its wire format."""

    scene = param.String(default="{}", doc="JSON index of the scene (actors, views), sent once")
    geometry = param.Bytes(default=None, doc="zlib-compressed packed geometry of the skin, sent once")
    geometry_rest = param.Bytes(default=None, doc="the same for every other structure, sent once one of them is first shown")
    vtk_url = param.String(default="")
    paint_mode = param.Boolean(default=False, doc="When on, a one-finger/left-button drag paints on the skin instead of rotating")
    background = param.String(default="#20242e")
    role = param.String(default="main", doc="'main' (the painting view) or another name (a linked view)")
    link = param.String(default="", doc="views with the same link share one camera")
    caption = param.String(default="", doc="a title shown in the view's corner")
    presenter = param.Boolean(default=False, doc="bigger labels and a camera preset bar in the view")
    brush = param.Dict(default={}, doc="the dab the page draws at once, before the server's colours confirm it: "
                       "{'radius': metres, 'rgb': [r, g, b]}; empty: the page draws nothing itself")
    max_dab_points = param.Integer(default=LIMITS.dab_points, constant=True,
                                   doc="the protocol's limit: the page splits a longer dab into several messages")

    _esm = viewer_esm()

    def __init__(self, payload: ScenePayload, **params):
        params.setdefault("sizing_mode", "stretch_both")
        params.setdefault("min_height", 420)
        super().__init__(scene=payload.meta_json, geometry=payload.blob, vtk_url=vtk_js_url(), **params)
        self.payload = payload
        self.actors: dict[str, ActorState] = {
            a["id"]: ActorState(a["visible"], a["opacity"], a["colour"]) for a in payload.meta["actors"]
        }
        self.names = {a["id"]: a["name"] for a in payload.meta["actors"]}
        skin = next((a for a in payload.meta["actors"] if a["id"] == SKIN_ID), None)
        self.skin_base = np.array(hex_to_rgb(skin["colour"] if skin else "#e8b796"), np.uint8)
        n = skin["nverts"] if skin else 0
        self.skin_rgb = np.tile(self.skin_base, (n, 1))
        self._pick_cbs: list[Callable[[Pick], None]] = []
        self._dab_cbs: list[Callable[[Dab], None]] = []
        self._stroke_end_cbs: list[Callable[[int], None]] = []
        self._stroke_cancel_cbs: list[Callable[[int], None]] = []
        self._ready_cbs: list[Callable[[], None]] = []
        self._key_cbs: list[Callable[[str], None]] = []
        self._camera_cbs: list[Callable[[Camera], None]] = []
        self._skin_cbs: list[Callable[[np.ndarray, np.ndarray], None]] = []
        self.ready_count = 0
        # what the browser must be told again after it rebuilds its view
        self._view: str | None = None          # the last preset asked for
        self.camera: dict = self._preset("reset")   # where the view looks from now (last known)
        self._camera_set = False   # a camera was asked for or reported (else the view keeps its own:
                                   # the default, or for a linked view the camera of its group)
        self._path: tuple[bytes, list, float] = (b"", [], 0.004)
        self._path_frame: tuple[list, list] = ([], [])
        self._labels: list[dict] = []
        self.pattern: np.ndarray | None = None           # referral pattern weights on the skin (0..1)
        self.territories: Territories | None = None      # skin territories shown on the skin
        self._banner = ""
        self.bytes_sent = 0   # payload bytes of delta messages (binary arrays + small JSON), for the bench
        self._rate = RateLimiter()
        self.rejected = 0     # browser messages dropped for breaking the protocol

    # ---- callbacks -------------------------------------------------------------------------
    def on_pick(self, cb: Callable[[Pick], None]) -> None:
        self._pick_cbs.append(cb)

    def on_dab(self, cb: Callable[[Dab], None]) -> None:
        self._dab_cbs.append(cb)

    def on_stroke_end(self, cb: Callable[[int], None]) -> None:
        self._stroke_end_cbs.append(cb)

    def on_stroke_cancel(self, cb: Callable[[int], None]) -> None:
        self._stroke_cancel_cbs.append(cb)

    def on_ready(self, cb: Callable[[], None]) -> None:
        self._ready_cbs.append(cb)

    def on_camera(self, cb: Callable[[Camera], None]) -> None:
        """The person moved the view (reported once it has been still for a moment)."""
        self._camera_cbs.append(cb)

    def on_skin(self, cb: Callable[[np.ndarray, np.ndarray], None]) -> None:
        """Skin colours that changed (vertex indices, uint8 RGB): other views of the skin follow."""
        self._skin_cbs.append(cb)

    def on_key(self, cb: Callable[[str], None]) -> None:
        """Keyboard shortcuts: cb('undo') or cb('redo')."""
        self._key_cbs.append(cb)

    # ---- Python -> browser -----------------------------------------------------------------
    def _send(self, msg: dict, nbytes: int = 0) -> None:
        self.bytes_sent += nbytes + 64
        self._send_msg(check_outbound(msg))

    def set_actor(self, sid: str, *, visible: bool | None = None, opacity: float | None = None,
                  colour: str | None = None) -> None:
        self.set_actors({sid: {k: v for k, v in (("visible", visible), ("opacity", opacity), ("colour", colour)) if v is not None}})

    def set_actors(self, changes: dict[str, dict]) -> None:
        """Change visibility/opacity/colour of some actors; only those changes are sent."""
        out = {}
        for sid, ch in changes.items():
            a = self.actors.get(sid)
            if a is None:
                continue
            new = ActorState(bool(ch.get("visible", a.visible)), float(ch.get("opacity", a.opacity)), str(ch.get("colour", a.colour)))
            if new != a:
                self.actors[sid] = new
                out[sid] = new.as_dict()
        if out:
            self._send({"type": "actors", "changes": out}, 40 * len(out))
            if self.geometry_rest is None and self._shows_inside():
                self.geometry_rest = self.payload.rest_blob      # once: part of the scene, not a delta

    def _shows_inside(self) -> bool:
        """Something under the skin can be seen: an inner structure is shown, or the skin is
        hidden or see-through."""
        skin = self.actors.get(SKIN_ID)
        if skin is not None and (not skin.visible or skin.opacity < 0.99):
            return any(a.visible for sid, a in self.actors.items() if sid != SKIN_ID)
        return False

    def set_skin_colours(self, idx: np.ndarray, rgb: np.ndarray) -> None:
        """Set the colour of some skin vertices (uint8 RGB); sends only those vertices."""
        idx = np.asarray(idx, np.uint32).ravel()
        if idx.size == 0:
            return
        rgb = np.asarray(rgb, np.uint8).reshape(-1, 3)
        changed = np.any(self.skin_rgb[idx] != rgb, axis=1)
        idx, rgb = idx[changed], rgb[changed]
        if idx.size == 0:
            return
        self.skin_rgb[idx] = rgb
        self._send_skin(idx, rgb)
        for cb in self._skin_cbs:
            cb(idx, rgb)

    def _send_skin(self, idx: np.ndarray, rgb: np.ndarray) -> None:
        a, b = idx.astype("<u4").tobytes(), np.ascontiguousarray(rgb, np.uint8).tobytes()
        self._send({"type": "skin", "idx": a, "rgb": b}, len(a) + len(b))

    def _preset(self, name: str) -> dict:
        v = self.payload.meta.get("views", {}).get(name)
        return {k: list(v[k]) for k in ("position", "focal_point", "view_up")} if v else {}

    def set_view(self, name: str) -> None:
        v = self.payload.meta["views"].get(name)
        if v is not None:
            self._view = name
            self.camera = self._preset(name)
            self._camera_set = True
            self._send({"type": "view", "camera": v})

    def set_camera(self, camera: Camera) -> None:
        """Look from a given camera (a kept one); the browser applies it now or when it is ready."""
        self.camera = camera.as_dict()
        self._camera_set = True
        self._send({"type": "view", "camera": self.camera})

    def snapshot(self, filename: str = "hipviz-view.png") -> None:
        """Ask the browser to save a PNG of the current view."""
        self._send({"type": "snapshot", "filename": filename})

    @property
    def banner_text(self) -> str:
        return self._banner

    def banner(self, text: str) -> None:
        """A caption at the bottom of the view (e.g. the path step being lit); '' hides it."""
        if text != self._banner:
            self._banner = text
            self._send({"type": "banner", "text": text}, len(text))

    def send_path(self, lines: list[tuple[int, np.ndarray]], radius: float = 0.004) -> None:
        """Polylines of a referral path, (step, (n, 3) points) each, drawn as tubes (hidden
        until `path_frame` lights their step); an empty list removes the path."""
        pts = np.concatenate([ln for _, ln in lines]).astype("<f4") if lines else np.zeros((0, 3), "<f4")
        segs, start = [], 0
        for step, ln in lines:
            segs.append([int(step), start, len(ln)])
            start += len(ln)
        b = pts.tobytes()
        self._path = (b, segs, radius)
        self._path_frame = ([], [])
        self._send({"type": "path", "pts": b, "segs": segs, "radius": radius}, len(b) + 12 * len(segs))

    def path_frame(self, lit: list[int], newest: list[int]) -> None:
        """Which path steps show their tube, and which of them is the newest (brightest)."""
        frame = (sorted(map(int, lit)), sorted(map(int, newest)))
        if frame != self._path_frame:
            self._path_frame = frame
            self._send({"type": "path_frame", "lit": frame[0], "newest": frame[1]})

    def set_labels(self, items: list[dict]) -> None:
        """Labels pinned to points of the body: dicts with text, xyz, n (outward normal), colour."""
        self._labels = items
        self._send({"type": "labels", "items": items}, 60 * len(items))

    def set_overlay(self, pattern: np.ndarray | None = None, territories: Territories | None = None) -> None:
        """The layers the page draws over the paint: a referral pattern (per-vertex weights 0..1)
        and skin territories; None removes one. Sends only when something changed."""
        n = len(self.skin_rgb)
        if pattern is not None:
            pattern = np.clip(np.nan_to_num(np.asarray(pattern, np.float32)), 0.0, 1.0)
            if pattern.shape != (n,):
                raise ValueError(f"a pattern needs one weight per skin vertex ({n}), got shape {pattern.shape}")
        if territories is not None and territories.codes.shape != (n,):
            raise ValueError(f"skin territories need one code per skin vertex ({n}), got shape {territories.codes.shape}")
        same_pattern = (pattern is None) == (self.pattern is None) and (pattern is None or np.array_equal(pattern, self.pattern))
        if same_pattern and territories is self.territories:
            return
        self.pattern, self.territories = pattern, territories
        self._send_overlay()

    def _send_overlay(self) -> None:
        w = None if self.pattern is None else np.rint(self.pattern * 255).astype(np.uint8).tobytes()
        codes, slots = (None, None) if self.territories is None else self.territories.wire()
        self._send({"type": "overlay", "pattern": w, "territory": codes, "slots": slots},
                   len(w or b"") + 2 * len(codes or b""))

    def resync(self) -> None:
        """Send the whole dynamic state (after the browser (re)built its view)."""
        self._send({"type": "actors", "changes": {k: a.as_dict() for k, a in self.actors.items()}}, 40 * len(self.actors))
        idx = np.flatnonzero(np.any(self.skin_rgb != self.skin_base, axis=1))
        self._send({"type": "skin_reset"})
        if idx.size:
            self._send_skin(idx, self.skin_rgb[idx])
        path = self._path
        if path[1]:
            self._send({"type": "path", "pts": path[0], "segs": path[1], "radius": path[2]}, len(path[0]))
            lit, newest = self._path_frame
            self._send({"type": "path_frame", "lit": lit, "newest": newest})
        if self._labels:
            self._send({"type": "labels", "items": self._labels})
        if self.pattern is not None or self.territories is not None:
            self._send_overlay()
        if self._banner:
            self._send({"type": "banner", "text": self._banner})
        if self._camera_set and self.camera:
            self._send({"type": "view", "camera": self.camera})
        self._send({"type": "synced"})

    # ---- browser -> Python -----------------------------------------------------------------
    def _register_events(self, *event_names: str, model, doc, comm) -> None:
        """Panel passes every message from the page through its busy-indicator bookkeeping,
        which costs the server more time than painting a dab (about 1.4 ms a message; the page
        sends 20 a second while a finger moves) and drives an indicator hipviz does not show. In
        a server session the view's messages go straight to `_handle_msg` instead (`_direct_msg`)."""
        direct = comm is None and "data_event" in event_names
        super()._register_events(*(e for e in event_names if not (direct and e == "data_event")),
                                 model=model, doc=doc, comm=comm)
        if direct:
            model.on_event("data_event", partial(self._direct_msg, doc))

    def _direct_msg(self, doc, event) -> None:
        if doc.session_context and (not state._unblocked(doc) or doc in state._change_callbacks):
            # changes from the page are still waiting (a slider moved): Panel's own path runs
            # this message after them, in order
            self._server_event(doc, event)
            return
        with set_curdoc(doc):
            for cb in self._msg__callbacks:
                cb(event)
            self._handle_msg(event.data)

    def _handle_msg(self, data) -> None:
        """Every browser message goes through the protocol's schema and limits first; one that
        breaks them, or comes faster than the page's rate allows, is dropped whole."""
        if not self._rate.allow():
            if self._rate.dropped in (1, 100, 10_000):
                log.warning("viewer: %d messages dropped over the rate limit", self._rate.dropped)
            return
        try:
            msg = parse_message(data, n_skin_vertices=len(self.skin_rgb), structures=self.actors.__contains__)
        except ProtocolError as e:
            self.rejected += 1
            log.warning("viewer message dropped: %s", e)
            return
        try:
            self._dispatch(msg)
        except Exception:  # a bad message must never kill the session
            log.exception("viewer message %r failed", msg.type)

    def _dispatch(self, msg: Message) -> None:
        if isinstance(msg, Ready):
            self.ready_count += 1
            self.resync()
            for cb in self._ready_cbs:
                cb()
        elif isinstance(msg, Pick):
            for cb in self._pick_cbs:
                cb(msg)
        elif isinstance(msg, Dab):
            for cb in self._dab_cbs:
                cb(msg)
        elif isinstance(msg, Key):
            for cb in self._key_cbs:
                cb(msg.action)
        elif isinstance(msg, CameraMsg):
            cam = msg.camera()
            if cam is None:
                return
            self.camera = cam.as_dict()
            self._camera_set = True
            for cb in self._camera_cbs:
                cb(cam)
        elif isinstance(msg, (StrokeEnd, StrokeCancel)):
            for cb in self._stroke_end_cbs if isinstance(msg, StrokeEnd) else self._stroke_cancel_cbs:
                cb(msg.stroke)
            # after every colour the stroke caused: the page puts back what it drew itself and
            # the server did not confirm (a dab over the rate limit, the brush's edge across a fold)
            self._send({"type": "stroke_done", "stroke": msg.stroke}, 0)
