"""The 2D body chart: front, back and side views of the labelled skin, and the way back from a
point on a view to the skin vertices under it.

A paper pain drawing is a flat outline; this one is made from the same skin mesh the 3D view
paints, so painting on it paints the same vertices. Each view projects the skin along its axis.
A vertex is visible in a view when it faces the viewer and lies no deeper than the nearest skin
around it (plus a tolerance): the back of the body never shows in the front view, nor the far
leg in a side view. The chart is a grid of cells; every cell inside the outline shows the
nearest visible vertex, found with the same k-d tree that maps a tap to a vertex, so what a
cell shows and what tapping it paints are one vertex.

Built once per skin (`BodyChart.build`) and shared by every session; nothing here knows a UI.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml
from scipy import ndimage
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class ChartSettings:
    cell_m: float
    depth_tolerance_m: float
    reach_m: float
    margin_m: float
    views: dict[str, dict]    # name -> {label, toward, up}


@cache
def chart_file() -> dict:
    """bodychart.yaml as read, once per process: the chart's geometry and the app's words for it."""
    return yaml.safe_load(resources.files("hipviz").joinpath("bodychart.yaml").read_text("utf-8"))


@cache
def chart_settings() -> ChartSettings:
    raw = chart_file()
    return ChartSettings(cell_m=raw["cell_cm"] / 100, depth_tolerance_m=raw["depth_tolerance_cm"] / 100,
                         reach_m=raw["reach_cm"] / 100, margin_m=raw["margin_cm"] / 100, views=raw["views"])


@dataclass(frozen=True, eq=False)
class ChartView:
    """One flat view: the grid of cells (row 0 at the top) and the vertices visible in it."""

    name: str
    label: str
    origin: np.ndarray          # (u, v) of the top-left corner of cell (0, 0), metres
    cell: float                 # cell size, metres
    shape: tuple[int, int]      # rows, columns
    cells: np.ndarray           # (rows, cols) int32: the vertex a cell shows, -1 outside the body
    shade: np.ndarray           # (rows, cols) uint8: how squarely the skin faces the viewer (0-255)
    visible: np.ndarray         # vertex indices visible in this view
    tree: cKDTree               # over the visible vertices' (u, v)
    reach: float
    right: np.ndarray           # the atlas directions of the chart's right and up
    up: np.ndarray

    def locate(self, xyz) -> np.ndarray:
        """Chart cell coordinates (col, row; floats) of atlas points, (n, 3) -> (n, 2)."""
        p = np.atleast_2d(np.asarray(xyz, np.float64))
        return np.column_stack([(p @ self.right - self.origin[0]) / self.cell, (self.origin[1] - p @ self.up) / self.cell])

    def to_plane(self, col: np.ndarray, row: np.ndarray) -> np.ndarray:
        """Chart cell coordinates (floats, cell units from the top-left corner) to (u, v) metres."""
        u = self.origin[0] + np.asarray(col, np.float64) * self.cell
        v = self.origin[1] - np.asarray(row, np.float64) * self.cell
        return np.column_stack([u, v])

    def vertices_at(self, col, row) -> np.ndarray:
        """The visible skin vertex nearest each chart point (points off the body give none)."""
        uv = self.to_plane(np.atleast_1d(col), np.atleast_1d(row))
        if uv.size == 0:
            return np.zeros(0, np.int64)
        d, i = self.tree.query(uv, k=1, distance_upper_bound=self.reach)
        ok = np.isfinite(d)
        return np.unique(self.visible[i[ok]]).astype(np.int64)

    def wire(self) -> dict:
        """What the browser needs to draw this view: sizes, and the cells as little-endian int32
        and uint8 bytes (packed by `BodyChart.wire_blob`)."""
        return {"name": self.name, "label": self.label, "rows": self.shape[0], "cols": self.shape[1],
                "cell_cm": self.cell * 100}


def _frame(view: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    toward = np.asarray(view["toward"], np.float64)
    up = np.asarray(view["up"], np.float64)
    toward /= np.linalg.norm(toward)
    up = up - toward * (up @ toward)
    up /= np.linalg.norm(up)
    right = np.cross(-toward, up)       # the viewer's right hand, looking along -toward
    return toward, up, right


def project_view(name: str, points: np.ndarray, normals: np.ndarray, members: np.ndarray,
                 settings: ChartSettings | None = None) -> ChartView:
    """One view of the skin vertices in `members` (indices)."""
    s = settings or chart_settings()
    spec = s.views[name]
    toward, up, right = _frame(spec)
    p = points[members]
    u, v, depth = p @ right, p @ up, -(p @ toward)       # smaller depth: nearer the viewer
    facing = normals[members] @ toward
    lo = np.array([u.min(), v.max()]) + np.array([-s.margin_m, s.margin_m])
    cols = int(np.ceil((u.max() - lo[0] + s.margin_m) / s.cell_m)) + 1
    rows = int(np.ceil((lo[1] - v.min() + s.margin_m) / s.cell_m)) + 1
    c = np.clip(((u - lo[0]) / s.cell_m).astype(np.int64), 0, cols - 1)
    r = np.clip(((lo[1] - v) / s.cell_m).astype(np.int64), 0, rows - 1)

    front = facing > 0.0
    zbuf = np.full((rows, cols), np.inf)
    np.minimum.at(zbuf, (r[front], c[front]), depth[front])
    # the nearest skin around each cell: a sparse patch of the far side never passes as near
    near = ndimage.minimum_filter(zbuf, size=5, mode="constant", cval=np.inf)
    vis = front & (depth <= near[r, c] + s.depth_tolerance_m)
    visible = members[vis]
    tree = cKDTree(np.column_stack([u[vis], v[vis]]))

    # the outline: cells holding a visible vertex, gaps between vertices closed
    inside = np.zeros((rows, cols), bool)
    inside[r[vis], c[vis]] = True
    inside = ndimage.binary_closing(inside, structure=np.ones((3, 3), bool), iterations=2)
    inside = ndimage.binary_fill_holes(inside)
    rr, cc = np.nonzero(inside)
    centres = np.column_stack([lo[0] + (cc + 0.5) * s.cell_m, lo[1] - (rr + 0.5) * s.cell_m])
    d, i = tree.query(centres, k=1, distance_upper_bound=s.reach_m)
    ok = np.isfinite(d)
    cells = np.full((rows, cols), -1, np.int32)
    cells[rr[ok], cc[ok]] = visible[i[ok]]
    shade = np.zeros((rows, cols), np.uint8)
    f = np.clip(facing[vis][i[ok]], 0, 1)
    shade[rr[ok], cc[ok]] = np.rint(255 * np.sqrt(f)).astype(np.uint8)
    return ChartView(name=name, label=spec["label"], origin=lo, cell=s.cell_m, shape=(rows, cols), cells=cells,
                     shade=shade, visible=visible, tree=tree, reach=s.reach_m, right=right, up=up)


@dataclass(frozen=True, eq=False)
class BodyChart:
    """All views of one skin."""

    views: dict[str, ChartView]
    n_vertices: int

    @classmethod
    def build(cls, points: np.ndarray, normals: np.ndarray, members: np.ndarray,
              settings: ChartSettings | None = None) -> BodyChart:
        """`members`: the skin vertices the chart shows (the labelled ones: the regions a person
        can paint; the arms hanging beside the hips would hide the side of the hip otherwise)."""
        s = settings or chart_settings()
        members = np.asarray(members, np.int64)
        views = {name: project_view(name, np.asarray(points, np.float64), np.asarray(normals, np.float64), members, s)
                 for name in s.views}
        return cls(views=views, n_vertices=len(points))

    def wire_meta(self) -> list[dict]:
        return [v.wire() for v in self.views.values()]

    def wire_blob(self) -> bytes:
        """Every view's cells (int32) then shades (uint8), in view order, zlib-compressed."""
        parts = []
        for v in self.views.values():
            parts.append(v.cells.astype("<i4").tobytes())
            parts.append(v.shade.tobytes())
        return zlib.compress(b"".join(parts), 6)


__all__ = ["BodyChart", "ChartSettings", "ChartView", "chart_file", "chart_settings", "project_view"]
