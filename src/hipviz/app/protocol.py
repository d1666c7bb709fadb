"""The messages the 3D view sends to Python, typed and bounded before anything acts on them.

Any page, or anything else that reaches the websocket, can send any JSON. Each message is parsed
against a strict schema (no unknown fields, integers that are integers, finite numbers, short
lists) and checked against what this session holds (a skin vertex that exists, a structure that
is in the scene), so the work one message can cause is bounded whatever it contains. A message
that breaks a rule is dropped whole with a `ProtocolError` naming the field; nothing of it is
applied, and the session and every other session go on.

A `RateLimiter` per page caps how many messages are acted on per second, so a flood from one
page cannot starve the others that share the process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError

from hipviz.app.camera import Camera, parse_camera


@dataclass(frozen=True)
class Limits:
    """Hard limits on what one browser message may carry (the page itself stays far below them:
    a dab message gathers the brush samples of 100 ms of movement, a few dozen at most)."""

    dab_points: int = 256          # skin vertices in one dab message
    stroke_id: int = 2**31 - 1     # stroke numbers count up from 1 in the page
    id_chars: int = 120            # a structure id
    messages_per_s: float = 120.0  # sustained rate acted on per page (the page sends at most ~10 dabs/s)
    burst: int = 240               # messages accepted at once after a quiet spell


LIMITS = Limits()

#: The messages Python sends to the 3D view, by type, with the fields each carries. The page's
#: handler (viewer/main.js) has one case per type; a test holds the two lists equal.
OUTBOUND: dict[str, frozenset[str]] = {
    "actors": frozenset({"changes"}),                     # {id: {visible, opacity, colour}}
    "skin": frozenset({"idx", "rgb"}),                    # uint32 vertex indices, uint8 RGB
    "skin_reset": frozenset(),
    "view": frozenset({"camera"}),
    "stroke_done": frozenset({"stroke"}),                 # the server's colours of this stroke are sent
    "synced": frozenset(),                                # the state is re-sent: report camera moves now
    "snapshot": frozenset({"filename"}),
    "banner": frozenset({"text"}),
    "path": frozenset({"pts", "segs", "radius"}),
    "path_frame": frozenset({"lit", "newest"}),
    "labels": frozenset({"items"}),
    "overlay": frozenset({"pattern", "territory", "slots"}),  # uint8 per vertex: weights, codes, slots
}


def check_outbound(msg: dict) -> dict:
    """A message for the page, as OUTBOUND describes it (a programming error otherwise)."""
    fields = OUTBOUND.get(msg.get("type"))
    if fields is None or set(msg) - {"type"} != fields:
        raise ValueError(f"not a viewer message: type {msg.get('type')!r} with fields {sorted(set(msg) - {'type'})}")
    return msg

_STROKE = Annotated[StrictInt, Field(ge=0, le=LIMITS.stroke_id)]
_INDEX = Annotated[StrictInt, Field(ge=-1, le=2**31 - 1)]
_FINITE = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e3, le=1e3)]
_VEC = tuple[_FINITE, _FINITE, _FINITE]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ready(_Msg):
    """The page has built (or rebuilt) its view and wants the current state."""
    type: Literal["ready"]


class Pick(_Msg):
    """A click on a structure of the 3D view."""
    type: Literal["pick"]
    structure: Annotated[StrictStr, Field(min_length=1, max_length=LIMITS.id_chars)]
    cell: _INDEX = -1
    point: _INDEX = -1


class Dab(_Msg):
    """Skin vertices under the brush during a paint stroke (stroke numbers come from the page)."""
    type: Literal["dab"]
    stroke: _STROKE
    points: Annotated[list[Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]], Field(min_length=1, max_length=LIMITS.dab_points)]

    def vertices(self) -> np.ndarray:
        return np.asarray(self.points, dtype=np.int64)


class StrokeEnd(_Msg):
    """The finger or button was lifted: the stroke is one undo step."""
    type: Literal["stroke_end"]
    stroke: _STROKE


class StrokeCancel(_Msg):
    """A second finger came down during a stroke: it was a pinch or a pan, so nothing of it stays."""
    type: Literal["stroke_cancel"]
    stroke: _STROKE


class Key(_Msg):
    """A keyboard shortcut pressed over the page."""
    type: Literal["key"]
    action: Literal["undo", "redo", "next", "previous"]


class CameraMsg(_Msg):
    """Where the view looks from, once it has been still for a moment."""
    type: Literal["camera"]
    position: _VEC
    focal_point: _VEC
    view_up: _VEC

    def camera(self) -> Camera | None:
        return parse_camera(self.model_dump())


Message = Union[Ready, Pick, Dab, StrokeEnd, StrokeCancel, Key, CameraMsg]
_ADAPTER: TypeAdapter = TypeAdapter(Annotated[Message, Field(discriminator="type")])
_TYPES = {"ready", "pick", "dab", "stroke_end", "stroke_cancel", "key", "camera"}


class ProtocolError(ValueError):
    """A browser message that breaks the protocol; its text names the field and the rule."""


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = list(first.get("loc", ()))
    if len(loc) > 1 and loc[0] in _TYPES:      # drop the union's tag: "points", not "dab.points"
        loc = loc[1:]
    where = ".".join(str(p) for p in loc) or "message"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def validate(adapter: TypeAdapter, data: object):
    """`data` as the adapter's message type, or ProtocolError naming the message and the field."""
    if not isinstance(data, dict):
        raise ProtocolError(f"a message must be a JSON object, not {type(data).__name__}")
    try:
        return adapter.validate_python(data)
    except ValidationError as e:
        kind = data.get("type")
        raise ProtocolError(f"{kind!r} message rejected: {_describe(e)}" if isinstance(kind, str) else _describe(e)) from None


def parse_message(data: object, *, n_skin_vertices: int, structures: Iterable[str] | Callable[[str], bool]) -> Message:
    """The typed message in `data`, or ProtocolError. Skin vertices must exist on this skin and a
    picked structure must be in the scene (`structures`: the ids, or a membership test)."""
    msg = validate(_ADAPTER, data)
    if isinstance(msg, Dab) and max(msg.points) >= n_skin_vertices:
        raise ProtocolError(f"'dab' message rejected: points: vertex {max(msg.points)} is not on this skin "
                            f"({n_skin_vertices} vertices)")
    if isinstance(msg, Pick):
        known = structures(msg.structure) if callable(structures) else msg.structure in set(structures)
        if not known:
            raise ProtocolError(f"'pick' message rejected: structure: {msg.structure[:40]!r} is not in the scene")
    return msg


class RateLimiter:
    """A token bucket: `allow()` is True while the page keeps within `rate` messages a second
    (with room for a burst); past that, messages are dropped until it slows down."""

    def __init__(self, rate: float = LIMITS.messages_per_s, burst: int = LIMITS.burst,
                 clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = float(rate), float(burst), clock
        self._tokens, self._last = float(burst), clock()
        self.dropped = 0

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.dropped += 1
        return False
