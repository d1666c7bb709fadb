"""The messages the body chart and the region list send to Python, typed and bounded like the
3D view's (`hipviz.app.protocol`): a strict schema first, then a check against what this
session holds (a view that exists, a region with that side). A message that breaks a rule is
dropped whole with a `ProtocolError`."""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, StrictInt, StrictStr, TypeAdapter

from hipviz.app.protocol import LIMITS, ProtocolError, Ready, StrokeCancel, StrokeEnd, _Msg, validate
from hipviz.vocabulary import vocabulary

_STROKE = Annotated[StrictInt, Field(ge=0, le=LIMITS.stroke_id)]
_CELL = Annotated[float, Field(strict=False, allow_inf_nan=False, ge=-1e4, le=1e4)]


class ChartDab(_Msg):
    """Points of a stroke on one view of the chart, in chart cells from its top-left corner."""
    type: Literal["chart_dab"]
    stroke: _STROKE
    view: Annotated[StrictStr, Field(min_length=1, max_length=16)]
    points: Annotated[list[tuple[_CELL, _CELL]], Field(min_length=1, max_length=LIMITS.dab_points)]

    def cols_rows(self) -> tuple[np.ndarray, np.ndarray]:
        a = np.asarray(self.points, np.float64).reshape(-1, 2)
        return a[:, 0], a[:, 1]


class Mark(_Msg):
    """A region (with side) of the list ticked with an intensity, or cleared (0)."""
    type: Literal["mark"]
    region: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    side: Literal["left", "right", "midline"]
    intensity: Annotated[StrictInt, Field(ge=0, le=10)]


ChartMessage = Union[Ready, ChartDab, StrokeEnd, StrokeCancel, Mark]
_ADAPTER: TypeAdapter = TypeAdapter(Annotated[ChartMessage, Field(discriminator="type")])


def parse_chart_message(data: object, *, views: frozenset[str] | set[str]) -> ChartMessage:
    """The typed message in `data`, or ProtocolError naming the field."""
    msg = validate(_ADAPTER, data)
    if isinstance(msg, ChartDab) and msg.view not in views:
        raise ProtocolError(f"'chart_dab' message rejected: view: {msg.view!r} is not a view of the chart")
    if isinstance(msg, Mark):
        voc = vocabulary()
        if msg.region not in voc.regions:
            raise ProtocolError(f"'mark' message rejected: region: {msg.region[:40]!r} is not a body region")
        if msg.side not in voc.region_sides(msg.region):
            raise ProtocolError(f"'mark' message rejected: side: {msg.region} has no {msg.side!r} side")
    return msg


__all__ = ["ChartDab", "ChartMessage", "Mark", "ProtocolError", "parse_chart_message"]
