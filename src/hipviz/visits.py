"""A person's maps across visits: which two maps to compare, which one came before a given map
(the PDF's "since last time"), painted area and worst intensity per map for the chart over time,
and the camera preset that shows the paint of two maps best.

Domain code: numpy only, no UI or rendering import. Maps are anything with an ``id`` and a
``created`` time (seconds since the epoch): a visit is dated by when its map was started, not by
its last edit, which may come days later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hipviz.painmap import SkinLabels

__all__ = ["MapRef", "VisitPoint", "visit_point", "in_visit_order", "previous_of", "default_pair", "facing_view"]


class MapRef(Protocol):
    id: int
    created: float


@dataclass(frozen=True)
class VisitPoint:
    """One map on the chart over time."""

    map_id: int
    title: str
    when: float          # when the map was started (seconds since the epoch)
    area_cm2: float      # painted skin area
    worst: float         # worst intensity painted (0-10)


def visit_point(map_id: int, title: str, when: float, intensity, labels: SkinLabels) -> VisitPoint:
    """Painted area and worst intensity of one map's per-vertex intensity (0 = unpainted)."""
    x = np.asarray(intensity, np.float64)
    if x.shape != (labels.vertex_count,):
        raise ValueError(f"expected one intensity per skin vertex ({labels.vertex_count}), got shape {x.shape}")
    return VisitPoint(int(map_id), str(title), float(when), float(labels.vertex_area_cm2[x > 0].sum()),
                      float(x.max(initial=0.0)))


def in_visit_order(maps: Iterable[MapRef]) -> list:
    """Maps from the first visit to the last (by start time; equal times by id)."""
    return sorted(maps, key=lambda m: (float(m.created), int(m.id)))


def previous_of(maps: Iterable[MapRef], map_id: int | None):
    """The map started just before `map_id` (the "last time" of a summary), or None."""
    ordered = in_visit_order(maps)
    ids = [int(m.id) for m in ordered]
    if map_id is None or int(map_id) not in ids:
        return None
    i = ids.index(int(map_id))
    return ordered[i - 1] if i > 0 else None


def default_pair(maps: Sequence[MapRef], current: int | None = None) -> tuple[int, int] | None:
    """(earlier, later) map ids to compare first: the open map and the one before it, or the last
    two visits when the open map is the first one (or none is open); None with fewer than two."""
    ordered = in_visit_order(maps)
    if len(ordered) < 2:
        return None
    prev = previous_of(ordered, current)
    if prev is not None:
        return int(prev.id), int(current)
    return int(ordered[-2].id), int(ordered[-1].id)


def facing_view(normals: np.ndarray, weights: np.ndarray, views: Mapping[str, Mapping], names: Sequence[str]) -> str | None:
    """Of the camera presets `names`, the one whose viewing direction faces the most weighted skin
    (weights: painted area per vertex, 0 where nothing is painted); None when nothing is painted.

    A preset is a mapping with ``position`` and ``focal_point``; a vertex faces it when its
    outward normal points towards the camera."""
    w = np.asarray(weights, np.float64)
    if not np.any(w > 0):
        return None
    best, score = None, -1.0
    for name in names:
        v = views.get(name)
        if v is None:
            continue
        d = np.asarray(v["position"], np.float64) - np.asarray(v["focal_point"], np.float64)
        n = np.linalg.norm(d)
        if n == 0:
            continue
        s = float(w @ np.clip(np.asarray(normals, np.float64) @ (d / n), 0.0, None))
        if s > score:
            best, score = name, s
    return best
