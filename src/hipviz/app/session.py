"""Paint session state, free of any UI: the brush, strokes with undo/redo, the questionnaire,
and their conversion to the pain map document and the ranking.

The brush covers the skin vertices within its radius of the brush centre, measured along the
surface. The distance is approximated in two steps:

1. shortest paths on the skin's edge graph (Dijkstra from the centre vertices, stopped early by
   scipy.sparse.csgraph at `GRAPH_REACH` x radius), which visits only the vertices near the brush
   and never reaches across a gap (the other leg, the other buttock) because it walks along
   the surface;
2. among those, the straight-line distance to the nearest centre must be within the radius.

Edge paths run up to 10-30 % longer than true geodesics (how much depends on the direction
relative to the triangulation), which would give ragged, direction-dependent brush edges;
the straight-line distance has no such bias, and over a brush of a few centimetres on skin whose
radius of curvature is 5 cm or more it is within 1-2 % of the geodesic (chord against arc). Where
two surfaces fold together (the buttock crease), step 1 bounds the overreach to `GRAPH_REACH` x r
along the surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from hipviz import ddx
from hipviz.colours import hex_to_rgb
from hipviz.painmap import (
    QUALITY_IDS,
    REGION_IDS,
    SIDE_CODES,
    PainMap,
    PainMapError,
    SkinLabels,
    VertexPaint,
)
from hipviz.vocabulary import vocabulary

#: How far (x radius) the edge-graph search may walk: covers the longest edge-path stretch.
GRAPH_REACH = 1.5

#: Colour per pain quality, chosen to stay distinct from each other and from skin tones.
QUALITY_COLOURS: dict[str, str] = {
    "aching": "#d62728",
    "deep_ache": "#7b1113",
    "sharp": "#ff7f0e",
    "throbbing": "#e7298a",
    "burning": "#ffc400",
    "electric": "#1f5fd6",
    "shooting": "#7b3fbf",
    "pins_and_needles": "#00a6a6",
    "numbness": "#5f6b73",
    "stiffness": "#2e8b2e",
    "cramping": "#8c564b",
}
NO_QUALITY_COLOUR = "#c2185b"     # paint whose feel was not said: a pain red, apart from "aching"

BRUSH_RADIUS_CM = (0.5, 15.0)


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array(hex_to_rgb(hex_colour), np.float32)


_QUALITY_RGB = np.stack([_rgb(QUALITY_COLOURS[q]) for q in QUALITY_IDS] + [_rgb(NO_QUALITY_COLOUR)])


def edge_graph(points: np.ndarray, triangles: np.ndarray) -> csr_matrix:
    """Symmetric sparse graph of the mesh edges weighted by their length (metres)."""
    tri = np.asarray(triangles, np.int64)
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    e = np.sort(e, axis=1)
    e = np.unique(e, axis=0)
    p = np.asarray(points, np.float64)
    w = np.linalg.norm(p[e[:, 0]] - p[e[:, 1]], axis=1)
    w = np.maximum(w, 1e-9)  # zero-length edges would vanish from the sparse matrix
    n = len(p)
    g = coo_matrix((np.concatenate([w, w]), (np.concatenate([e[:, 0], e[:, 1]]), np.concatenate([e[:, 1], e[:, 0]]))), shape=(n, n))
    return g.tocsr()


AGE_FLAG = "age_over_50"   # the red-flag id that follows a stated age


@dataclass
class Answers:
    """The questionnaire: ids from the vocabulary."""
    qualities: list[str] = field(default_factory=list)
    aggravators: list[str] = field(default_factory=list)
    relievers: list[str] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    negative_findings: list[str] = field(default_factory=list)
    age: int | None = None
    sex: str | None = None

    def to_dict(self) -> dict:
        out = {k: list(getattr(self, k)) for k in ("qualities", "aggravators", "relievers", "red_flags", "findings", "negative_findings")}
        if self.age is not None:
            out["age"] = int(self.age)
        if self.sex is not None:
            out["sex"] = self.sex
        return out


@dataclass
class Brush:
    radius_cm: float = 3.0
    intensity: float = 6.0
    quality: str | None = None       # "not sure" until the person picks one: never an answer they did not give
    eraser: bool = False


@dataclass
class _Stroke:
    """One undo step: the vertices it touched with their values before and after."""
    key: object
    idx: list = field(default_factory=list)             # chunks of vertex indices (first touch only)
    old_i: list = field(default_factory=list)
    old_q: list = field(default_factory=list)
    seen: np.ndarray | None = None                     # bool mask of touched vertices
    new_i: np.ndarray | None = None
    new_q: np.ndarray | None = None
    label: str = "stroke"

    def indices(self) -> np.ndarray:
        return np.concatenate(self.idx) if self.idx else np.zeros(0, np.int64)


class PaintSession:
    """The state of one pain map being painted and answered."""

    def __init__(self, points: np.ndarray, triangles: np.ndarray, labels: SkinLabels,
                 base_colour: str = "#e8b796", graph: csr_matrix | None = None):
        self.points = np.asarray(points, np.float64)
        self.labels = labels
        n = len(self.points)
        if labels.vertex_count != n:
            raise ValueError(f"skin labels have {labels.vertex_count} vertices, the skin mesh {n}")
        self.graph = (graph if graph is not None else edge_graph(self.points, triangles)).tocsr()
        self.intensity = np.zeros(n, np.float32)
        self.quality = np.full(n, -1, np.int8)
        self.brush = Brush()
        self.answers = Answers()
        self.extra_regions: list = []     # region entries of an imported region-level map that do not map to paint
        self.base_rgb = _rgb(base_colour)
        self._undo: list[_Stroke] = []
        self._redo: list[_Stroke] = []
        self._current: _Stroke | None = None
        self.revision = 0                 # bumps on every change (for autosave)

    # ---- brush ---------------------------------------------------------------------------
    @property
    def n_vertices(self) -> int:
        return len(self.intensity)

    def brush_radius_m(self) -> float:
        return float(np.clip(self.brush.radius_cm, *BRUSH_RADIUS_CM)) / 100.0

    def brush_vertices(self, centres) -> np.ndarray:
        """Skin vertices within the brush radius (along the surface) of any centre vertex."""
        centres = np.unique(np.asarray(centres, np.int64))
        centres = centres[(centres >= 0) & (centres < self.n_vertices)]
        if centres.size == 0:
            return np.zeros(0, np.int64)
        r = self.brush_radius_m()
        # the edge graph holds both directions of every edge: as a directed graph it gives the
        # same distances, without scipy transposing the whole graph on every call
        d = dijkstra(self.graph, directed=True, indices=centres, limit=r * GRAPH_REACH, min_only=True)
        cand = np.flatnonzero(np.isfinite(d))
        if cand.size == 0:
            return cand
        # straight-line distance to the nearest centre: a k-d tree keeps this O(n log m), where a
        # candidates-by-centres distance matrix grows with the product of the two
        d, _ = cKDTree(self.points[centres]).query(self.points[cand], k=1, distance_upper_bound=r * (1 + 1e-9))
        return cand[d <= r]

    def begin_stroke(self, key: object = None, label: str = "stroke") -> None:
        if self._current is not None:
            self.end_stroke()
        self._current = _Stroke(key=key, label=label)

    def _touch(self, idx: np.ndarray) -> None:
        s = self._current
        if s.seen is None:
            s.seen = np.zeros(self.n_vertices, bool)
        new = idx[~s.seen[idx]]
        if new.size:
            s.seen[new] = True
            s.idx.append(new)
            s.old_i.append(self.intensity[new].copy())
            s.old_q.append(self.quality[new].copy())

    def _brush_value(self, intensity: float | None = None) -> tuple[np.float32, np.int8]:
        """The intensity and quality index the brush leaves (0 and -1 for the eraser); with
        `intensity`, that intensity in the brush's quality."""
        if intensity is None and self.brush.eraser:
            return np.float32(0), np.int8(-1)
        val = np.float32(np.clip(self.brush.intensity if intensity is None else intensity, 0, 10))
        q = np.int8(QUALITY_IDS.index(self.brush.quality) if self.brush.quality in QUALITY_IDS and val > 0 else -1)
        return val, q

    def dab(self, centres, key: object = None) -> np.ndarray:
        """Paint (or erase) around the centre vertices; returns the vertices whose value changed.

        Dabs with the same key belong to one stroke (one undo step); a new key starts a new one.
        """
        if self._current is None or (key is not None and self._current.key != key):
            self.begin_stroke(key)
        idx = self.brush_vertices(centres)
        if idx.size == 0:
            return idx
        val, q = self._brush_value()
        changed = idx[(self.intensity[idx] != val) | (self.quality[idx] != q)]
        if changed.size:
            self._touch(changed)
            self.intensity[changed] = val
            self.quality[changed] = q
            self.revision += 1
        return changed

    def set_paint(self, idx, intensity: float, label: str = "region") -> np.ndarray:
        """Give the vertices `idx` one intensity (with the brush's quality; 0 clears them) as one
        undo step: a whole region ticked or unticked in the region list. Returns those that
        changed."""
        self.end_stroke()
        idx = np.asarray(idx, np.int64)
        val, q = self._brush_value(intensity)
        changed = idx[(self.intensity[idx] != val) | (self.quality[idx] != q)]
        if changed.size:
            self.begin_stroke(key=(label, self.revision), label=label)
            self._touch(changed)
            self.intensity[changed] = val
            self.quality[changed] = q
            self.revision += 1
            self.end_stroke()
        return changed

    def end_stroke(self) -> bool:
        """Close the current stroke; returns whether it changed anything (then it can be undone)."""
        s, self._current = self._current, None
        if s is None or not s.idx:
            return False
        idx = s.indices()
        s.new_i, s.new_q = self.intensity[idx].copy(), self.quality[idx].copy()
        s.seen = None
        self._undo.append(s)
        self._redo.clear()
        return True

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def cancel_stroke(self, key: object = None) -> np.ndarray:
        """Take back the open stroke as if it never happened (a second finger came down: the
        gesture was a pinch or a pan, not paint); returns the vertices restored. With `key`,
        only a stroke with that key is cancelled."""
        s = self._current
        if s is None or (key is not None and s.key != key):
            return np.zeros(0, np.int64)
        self._current = None
        idx = s.indices()
        if idx.size:
            self.intensity[idx] = np.concatenate(s.old_i)
            self.quality[idx] = np.concatenate(s.old_q)
            self.revision += 1
        return idx

    def undo(self) -> np.ndarray:
        self.end_stroke()
        if not self._undo:
            return np.zeros(0, np.int64)
        s = self._undo.pop()
        idx = s.indices()
        # restore in reverse chunk order is unnecessary: each vertex is recorded once per stroke
        self.intensity[idx] = np.concatenate(s.old_i)
        self.quality[idx] = np.concatenate(s.old_q)
        self._redo.append(s)
        self.revision += 1
        return idx

    def redo(self) -> np.ndarray:
        self.end_stroke()
        if not self._redo:
            return np.zeros(0, np.int64)
        s = self._redo.pop()
        idx = s.indices()
        self.intensity[idx] = s.new_i
        self.quality[idx] = s.new_q
        self._undo.append(s)
        self.revision += 1
        return idx

    def clear(self) -> np.ndarray:
        """Erase all paint as one undoable step."""
        self.end_stroke()
        idx = np.flatnonzero(self.intensity > 0)
        if idx.size == 0:
            return idx
        self.begin_stroke(key=("clear", self.revision), label="clear")
        self._touch(idx)
        self.intensity[idx] = 0
        self.quality[idx] = -1
        self.revision += 1
        self.end_stroke()
        return idx

    # ---- colours ---------------------------------------------------------------------------
    def colours(self, idx=None) -> np.ndarray:
        """uint8 RGB of the given skin vertices (all when idx is None): skin blended with the
        quality colour, more opaque for stronger pain."""
        i = np.arange(self.n_vertices) if idx is None else np.asarray(idx, np.int64)
        return self._blend(self.intensity[i], self.quality[i])

    def _blend(self, intensity: np.ndarray, quality: np.ndarray) -> np.ndarray:
        q = np.asarray(quality).astype(np.int64)
        q = np.where(q < 0, len(QUALITY_IDS), q)
        alpha = np.where(intensity > 0, 0.5 + 0.05 * intensity, 0.0)[:, None]
        rgb = self.base_rgb * (1 - alpha) + _QUALITY_RGB[q] * alpha
        return np.rint(rgb).clip(0, 255).astype(np.uint8)

    def brush_rgb(self) -> tuple[int, int, int]:
        """The colour a dab of the current brush gives a vertex (the skin colour for the eraser):
        the page shows it under the finger at once, before the server's colours confirm it."""
        val, q = self._brush_value()
        return tuple(int(c) for c in self._blend(np.array([val], np.float32), np.array([q], np.int8))[0])

    def display(self, changed) -> tuple[np.ndarray, np.ndarray]:
        """Vertices to recolour after `changed` vertices changed, and their display colours.

        Unpainted vertices next to paint get a faint tint of their strongest painted neighbour,
        which softens the brush edge that would otherwise follow the triangle edges. Display only:
        the pain map holds just the painted vertices."""
        changed = np.unique(np.asarray(changed, np.int64))
        if changed.size == 0:
            return changed, np.zeros((0, 3), np.uint8)
        idx = np.union1d(changed, self._neighbours(changed)[0])
        rgb = self.colours(idx)
        edge = idx[self.intensity[idx] == 0]
        if edge.size:
            nbs, counts = self._neighbours(edge)
            rows = np.repeat(np.arange(edge.size), counts)
            x = self.intensity[nbs]
            best = np.full(edge.size, -1.0, np.float32)
            np.maximum.at(best, rows, x)
            # each edge vertex's strongest neighbour (the first of equals, in the graph's order)
            top = np.flatnonzero(x == best[rows])
            has, first = np.unique(rows[top], return_index=True)
            nb = nbs[top[first]]
            near = self.intensity[nb] > 0
            if near.any():
                e, n = edge[has[near]], nb[near]
                q = self.quality[n].astype(np.int64)
                q = np.where(q < 0, len(QUALITY_IDS), q)
                alpha = (0.2 + 0.02 * self.intensity[n])[:, None]
                tint = self.base_rgb * (1 - alpha) + _QUALITY_RGB[q] * alpha
                rgb[np.searchsorted(idx, e)] = np.rint(tint).clip(0, 255).astype(np.uint8)
        return idx, rgb

    def _neighbours(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The edge-graph neighbours of each of `rows` (concatenated) and how many each has; read
        straight from the CSR arrays (scipy's row indexing costs more than the work here)."""
        indptr, indices = self.graph.indptr, self.graph.indices
        starts = indptr[rows]
        counts = indptr[rows + 1] - starts
        at = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
        return indices[at].astype(np.int64, copy=False), counts

    def painted_indices(self) -> np.ndarray:
        return np.flatnonzero(self.intensity > 0)

    # ---- the pain map ------------------------------------------------------------------------
    def vertex_paint(self) -> VertexPaint:
        return VertexPaint(self.labels.checksum, self.intensity, self.quality)

    def painmap(self, with_vertex_paint: bool = True) -> PainMap:
        """The pain map document of the current state (validated)."""
        base = {"format": "hipviz-painmap", "version": 1, **self.answers.to_dict()}
        if self.extra_regions:
            base["regions"] = [{"region": r.region, "side": r.side, "intensity": r.intensity} for r in self.extra_regions]
        pm = PainMap.from_dict(base)
        if with_vertex_paint and np.any(self.intensity > 0):
            pm = pm.with_vertex_paint(self.vertex_paint(), self.labels)
        elif np.any(self.intensity > 0):
            vp = self.vertex_paint()
            pm = pm.merged(vp.to_regions(self.labels), vp.qualities_present())
        return pm

    def rank(self) -> ddx.Result:
        return ddx.rank(self.painmap(with_vertex_paint=False))

    def summary(self) -> dict:
        """Painted area (cm²) in total and per region/side touched, for the live display."""
        vp = self.vertex_paint()
        per = vp.painted_area_cm2(self.labels)
        counted = {(r.region, r.side): r.intensity for r in vp.to_regions(self.labels)}
        regions = sorted(
            ({"region": k[0], "side": k[1], "area_cm2": a, "intensity": counted.get(k), "counts": k in counted}
             for k, a in per.items()),
            key=lambda d: -d["area_cm2"],
        )
        total = vp.total_painted_area_cm2(self.labels)
        # paint on skin outside the mapped regions (an arm or a hand lying beside the hip in a side
        # view): part of the total, in no region, and not used by the ranking
        return {"total_cm2": total, "regions": regions, "outside_cm2": max(0.0, total - sum(per.values()))}

    def load(self, pm: PainMap) -> np.ndarray:
        """Replace the state with a pain map document; returns the vertices to recolour (all).

        Vertex paint is used when present (it must belong to this skin); otherwise the document's
        regions are painted over the whole of each region so that they show on the body."""
        old = self.intensity > 0
        self._undo.clear()
        self._redo.clear()
        self._current = None
        self.intensity[:] = 0
        self.quality[:] = -1
        self.extra_regions = []
        if pm.vertex_paint is not None:
            vp = VertexPaint.from_sparse(pm.vertex_paint, self.labels)
            self.intensity[:] = vp.intensity
            self.quality[:] = vp.quality
            painted = {(r.region, r.side) for r in vp.to_regions(self.labels)}
            self.extra_regions = [r for r in pm.regions if (r.region, r.side) not in painted and r.intensity > 0]
        else:
            q = QUALITY_IDS.index(pm.qualities[0]) if pm.qualities else -1
            key = self.labels.region.astype(np.int64) * 3 + self.labels.side
            for r in pm.regions:
                mask = key == REGION_IDS.index(r.region) * 3 + SIDE_CODES[r.side]
                mask &= self.labels.region >= 0
                if not mask.any():
                    self.extra_regions.append(r)
                    continue
                if r.intensity > 0:
                    self.intensity[mask] = r.intensity
                    self.quality[mask] = q
        self.answers = Answers(
            qualities=list(pm.qualities), aggravators=list(pm.aggravators), relievers=list(pm.relievers),
            red_flags=list(pm.red_flags), findings=list(pm.findings), negative_findings=list(pm.negative_findings),
            age=pm.age, sex=pm.sex,
        )
        self.revision += 1
        return np.flatnonzero(old | (self.intensity > 0))

    def merge(self, pm: PainMap) -> np.ndarray:
        """Fold in a version of this map saved elsewhere (another tab), losing no stroke of
        either: per vertex the stronger paint is kept (with its quality), the questionnaire
        lists are joined, and age and sex kept here unless only the other one has them. One
        undoable step; returns the vertices whose paint changed."""
        self.end_stroke()
        other = np.zeros(self.n_vertices, np.float32), np.full(self.n_vertices, -1, np.int8)
        extra = [r for r in pm.regions if r.intensity > 0]
        if pm.vertex_paint is not None:
            vp = VertexPaint.from_sparse(pm.vertex_paint, self.labels)
            other = vp.intensity, vp.quality
            painted = {(r.region, r.side) for r in vp.to_regions(self.labels)}
            extra = [r for r in extra if (r.region, r.side) not in painted]
        idx = np.flatnonzero(other[0] > self.intensity)
        if idx.size:
            self.begin_stroke(key=("merge", self.revision), label="merge")
            self._touch(idx)
            self.intensity[idx] = other[0][idx]
            self.quality[idx] = other[1][idx]
            self.end_stroke()
        mine = self.answers
        joined = {k: list(dict.fromkeys(list(getattr(mine, k)) + list(getattr(pm, k))))
                  for k in ("qualities", "aggravators", "relievers", "red_flags", "findings", "negative_findings")}
        joined["negative_findings"] = [f for f in joined["negative_findings"] if f not in joined["findings"]]
        self.answers = Answers(**joined, age=mine.age if mine.age is not None else pm.age,
                               sex=mine.sex if mine.sex is not None else pm.sex)
        have = {(r.region, r.side) for r in self.extra_regions}
        self.extra_regions += [r for r in extra if (r.region, r.side) not in have]
        self.revision += 1
        return idx

    def set_answers(self, **changes) -> None:
        """Change answers; validated before anything is kept (a bad answer changes nothing).
        A stated age decides the "aged over 50" answer, so the two can never disagree."""
        new = replace(self.answers, **changes)
        if new.age is not None:
            flags = [f for f in new.red_flags if f != AGE_FLAG]
            if new.age >= 50:            # as the triage rules read it (50 or more)
                flags.append(AGE_FLAG)
            order = list(vocabulary().red_flags)
            new = replace(new, red_flags=sorted(flags, key=lambda f: order.index(f) if f in order else len(order)))
        PainMap.from_dict({"format": "hipviz-painmap", "version": 1, **new.to_dict()})  # validate
        self.answers = new
        self.revision += 1

    def is_blank(self) -> bool:
        """Nothing painted and nothing answered (such a map is not worth storing)."""
        return not np.any(self.intensity > 0) and not self.extra_regions and self.answers == Answers()

    def painted_qualities(self) -> list[str]:
        """Qualities painted with the brush (they count as answers too)."""
        return self.vertex_paint().qualities_present()

    def shown_qualities(self) -> list[str]:
        """The qualities ticked in the questionnaire: answered or painted, in vocabulary order."""
        have = set(self.answers.qualities) | set(self.painted_qualities())
        return [q for q in QUALITY_IDS if q in have]


def region_label(region: str, side: str) -> str:
    label = vocabulary().regions.get(region, region)
    return label if side == "midline" else f"{label}, {side}"


__all__ = ["QUALITY_COLOURS", "Answers", "Brush", "PainMapError", "PaintSession", "edge_graph", "region_label"]
