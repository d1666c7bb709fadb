"""The camera a pain map was last looked at from, and its debounced saving.

A camera is the position, focal point and view-up vector of the 3D view (world coordinates in
metres, as the viewer reports them). It is kept per map beside the map's document in the store,
so a reload opens the map from where the person left it. Anything stored that does not read as a
sensible camera (malformed JSON, wrong shape, not finite, the eye on the focal point, a view-up
along the line of sight, absurdly far) is ignored, and the map opens at the default view.

Turning the body reports a camera many times a second while a finger moves; `CameraSaver` writes
only the newest one, once the view has been still for a moment (or at once when asked, e.g.
before another map opens).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: seconds the view must stay still before its camera is written
CAMERA_SAVE_DELAY_S = 0.6
#: no coordinate beyond this (metres) and no eye farther than this from the focal point
MAX_COORD_M = 1000.0
MAX_DISTANCE_M = 100.0
MIN_DISTANCE_M = 1e-4

Vec = tuple[float, float, float]


def _vec(value) -> Vec | None:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        return None
    out = []
    for x in value:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            return None
        x = float(x)
        if not math.isfinite(x) or abs(x) > MAX_COORD_M:
            return None
        out.append(x)
    return out[0], out[1], out[2]


def _sub(a: Vec, b: Vec) -> Vec:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def _norm(a: Vec) -> float:
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


@dataclass(frozen=True)
class Camera:
    position: Vec
    focal_point: Vec
    view_up: Vec

    def as_dict(self) -> dict:
        return {"position": list(self.position), "focal_point": list(self.focal_point), "view_up": list(self.view_up)}

    def to_json(self) -> str:
        return json.dumps({k: [round(x, 6) for x in v] for k, v in self.as_dict().items()}, separators=(",", ":"))


def parse_camera(value) -> Camera | None:
    """A Camera from a dict or its JSON text, or None when it is missing or not a sensible camera."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            return None
    if not isinstance(value, dict):
        return None
    pos, focal, up = (_vec(value.get(k)) for k in ("position", "focal_point", "view_up"))
    if pos is None or focal is None or up is None:
        return None
    d = _sub(pos, focal)
    dist, up_len = _norm(d), _norm(up)
    if not MIN_DISTANCE_M <= dist <= MAX_DISTANCE_M or up_len < 1e-6:
        return None
    # the view-up must not lie along the line of sight (the view would be undefined)
    cross = (d[1] * up[2] - d[2] * up[1], d[2] * up[0] - d[0] * up[2], d[0] * up[1] - d[1] * up[0])
    if _norm(cross) < 1e-3 * dist * up_len:
        return None
    return Camera(pos, focal, up)


class CameraSaver:
    """Debounced camera writes: `changed(map_id, camera)` keeps the newest camera and (re)arms a
    timer; when the view has been still for `delay` seconds, `write(map_id, camera)` runs once.
    `flush()` writes a pending camera at once (before another map opens, when the page goes).

    `schedule(delay, fn)` arms a timer and returns a handle; `cancel(handle)` disarms it. Without
    them (no server document, e.g. in scripts) nothing is written until `flush()`.
    """

    def __init__(self, write: Callable[[int, Camera], None], delay: float = CAMERA_SAVE_DELAY_S,
                 schedule: Callable[[float, Callable[[], None]], object] | None = None,
                 cancel: Callable[[object], None] | None = None):
        self._write = write
        self.delay = delay
        self._schedule = schedule
        self._cancel = cancel
        self._pending: tuple[int, Camera] | None = None
        self._timer = None
        self.writes = 0

    @property
    def pending(self) -> tuple[int, Camera] | None:
        return self._pending

    def changed(self, map_id: int, camera: Camera) -> None:
        if self._pending is not None and self._pending[0] != map_id:
            self.flush()          # another map's camera is waiting: it goes first
        self._pending = (map_id, camera)
        self._disarm()
        if self._schedule is not None:
            self._timer = self._schedule(self.delay, self._fire)

    def _disarm(self) -> None:
        if self._timer is not None and self._cancel is not None:
            try:
                self._cancel(self._timer)
            except ValueError:  # the timer already ran
                log.debug("camera timer already ran")
        self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        self._disarm()
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            self._write(*pending)
            self.writes += 1
        except Exception:  # a camera that could not be kept must never break the page
            log.exception("saving the camera of map %s failed", pending[0])

    def discard(self) -> None:
        self._disarm()
        self._pending = None
