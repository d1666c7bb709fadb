"""Skin colour layers, free of any UI: the user's paint, a referral pattern drawn as a hatched and
outlined zone, a textbook pattern fill, and labelled skin territories (dermatomes, cutaneous
nerves).

Layers, bottom to top: skin -> territory tint -> the user's paint (filled, with its soft edge) ->
pattern hatch and outline. The pattern never fills: its zone is diagonal stripes of a dark ink
whose strength follows the pattern weight, inside a solid border, so it reads on bare skin and
on top of any paint colour, and the paint stays visible between the stripes.

The stripes are planes across the body along (1, 1, 1): diagonal from the front, the back and
either side. Everything works on per-vertex uint8 RGB for the viewer's skin mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from hipviz.colours import hex_to_rgb

#: Ink of the pattern hatch and border: a dark indigo, far from skin tones and from the red,
#: orange and yellow paints; its stripes (not its hue) set it apart from the blue and grey ones.
PATTERN_INK = (22, 26, 92)
#: Period of the hatch stripes along the body diagonal (cm) and the share of it that is ink.
HATCH_PERIOD_CM = 3.2
HATCH_DUTY = 0.42
#: Textbook view: a weight-graded fill (no paint there to keep visible).
TEXTBOOK_FILL = (40, 70, 190)

#: Categorical colours for skin territories (dermatomes T12..S3, nerve territories).
TERRITORY_COLOURS = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7",
    "#86bcb6", "#d4a6c8", "#8cd17d",
)
TERRITORY_ALPHA = 0.62

_DIAG = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)


def _rgb(colour) -> np.ndarray:
    if isinstance(colour, str):
        return np.array(hex_to_rgb(colour), np.float32)
    return np.asarray(colour, np.float32)


def ring(mask: np.ndarray, graph: csr_matrix) -> np.ndarray:
    """Vertices of `mask` plus their neighbours on the skin's edge graph."""
    idx = np.flatnonzero(mask)
    out = mask.copy()
    if idx.size:
        out[graph[idx].indices] = True
    return out


@dataclass(frozen=True, eq=False)
class Pattern:
    """A referral pattern drawn on the skin: hatch where weight >= threshold, a border around it.

    ``alpha``: per vertex, how strongly the ink covers it (0 where it does not); ``idx``: the
    vertices the pattern touches (sorted)."""

    weights: np.ndarray
    idx: np.ndarray
    alpha: np.ndarray          # float32 per vertex in idx
    border: np.ndarray         # bool per vertex in idx

    def apply(self, idx: np.ndarray, rgb: np.ndarray) -> np.ndarray:
        """Composite the pattern over `rgb` (uint8, one row per vertex of `idx`)."""
        idx = np.asarray(idx, np.int64)
        pos = np.searchsorted(self.idx, idx)
        pos = np.minimum(pos, max(len(self.idx) - 1, 0))
        hit = (self.idx[pos] == idx) if len(self.idx) else np.zeros(len(idx), bool)
        if not hit.any():
            return rgb
        out = rgb.astype(np.float32)
        a = self.alpha[pos[hit]][:, None]
        out[hit] = out[hit] * (1 - a) + np.asarray(PATTERN_INK, np.float32) * a
        return np.rint(out).clip(0, 255).astype(np.uint8)


def hatch_pattern(points: np.ndarray, weights: np.ndarray, graph: csr_matrix, threshold: float = 0.3,
                  period_cm: float = HATCH_PERIOD_CM) -> Pattern:
    """The hatched, outlined zone of per-vertex pattern weights (0..1)."""
    w = np.asarray(weights, np.float32)
    zone = w >= threshold
    idx = np.flatnonzero(zone)
    if idx.size == 0:
        return Pattern(w, idx, np.zeros(0, np.float32), np.zeros(0, bool))
    # border: zone vertices next to a vertex outside the zone, thickened by one ring inwards
    border = ring(ring(~zone, graph) & zone, graph) & zone
    s = (np.asarray(points, np.float64)[idx] @ _DIAG) * 100.0 / period_cm
    stripe = (s - np.floor(s)) < HATCH_DUTY
    alpha = np.where(stripe, 0.45 + 0.45 * np.clip(w[idx], 0, 1), 0.0).astype(np.float32)
    b = border[idx]
    alpha[b] = 0.92
    return Pattern(w, idx, alpha, b)


def textbook_colours(base: np.ndarray, weights: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """A textbook pattern: skin filled with a blue whose strength follows the weight (all vertices)."""
    w = np.asarray(weights, np.float32)
    a = np.where(w >= threshold, 0.25 + 0.65 * np.clip(w, 0, 1), 0.0)[:, None]
    out = np.asarray(base, np.float32)[None, :] * (1 - a) + np.asarray(TEXTBOOK_FILL, np.float32) * a
    return np.rint(out).clip(0, 255).astype(np.uint8)


def territory_colours(base: np.ndarray, codes: np.ndarray, graph: csr_matrix) -> np.ndarray:
    """Skin tinted by territory code (-1: none), with darker lines where territories meet."""
    codes = np.asarray(codes, np.int64)
    n = len(codes)
    out = np.tile(np.asarray(base, np.float32), (n, 1))
    has = codes >= 0
    pal = np.stack([_rgb(c) for c in TERRITORY_COLOURS])
    out[has] = out[has] * (1 - TERRITORY_ALPHA) + pal[codes[has] % len(pal)] * TERRITORY_ALPHA
    # boundaries: a vertex with a neighbour of another code
    coo = graph.tocoo()
    diff = codes[coo.row] != codes[coo.col]
    edge = np.zeros(n, bool)
    edge[coo.row[diff]] = True
    edge &= has
    out[edge] *= 0.55
    return np.rint(out).clip(0, 255).astype(np.uint8)


class SkinLayers:
    """The skin's display colours from the paint (a PaintSession) and the optional layers."""

    def __init__(self, session, graph: csr_matrix):
        self.session = session
        self.graph = graph
        self.base = np.rint(session.base_rgb).astype(np.uint8)
        self.pattern: Pattern | None = None
        self.territory: np.ndarray | None = None   # uint8 RGB per vertex, or None
        self.comparison: np.ndarray | None = None  # uint8 RGB per vertex of two maps compared: shown instead of the paint

    @property
    def n(self) -> int:
        return self.session.n_vertices

    def paint_rgb(self) -> np.ndarray:
        """The paint display of the whole skin (skin colour where nothing is painted)."""
        out = np.tile(self.base, (self.n, 1))
        idx, rgb = self.session.display(self.session.painted_indices())
        if idx.size:
            out[idx] = rgb
        return out

    def full(self) -> np.ndarray:
        """Display colours of every skin vertex."""
        return self.compose(np.arange(self.n), self.paint_rgb())

    def compose(self, idx: np.ndarray, paint_rgb: np.ndarray) -> np.ndarray:
        """Layers over the paint display colours of some vertices."""
        idx = np.asarray(idx, np.int64)
        rgb = np.asarray(paint_rgb, np.uint8)
        if self.comparison is not None:
            return self.comparison[idx] if self.pattern is None else self.pattern.apply(idx, self.comparison[idx])
        if self.territory is not None:
            bare = np.all(rgb == self.base, axis=1)
            if bare.any():
                rgb = rgb.copy()
                rgb[bare] = self.territory[idx[bare]]
        if self.pattern is not None:
            rgb = self.pattern.apply(idx, rgb)
        return rgb

    def display(self, changed) -> tuple[np.ndarray, np.ndarray]:
        """Like PaintSession.display (the vertices to recolour after a paint change), layered."""
        idx, rgb = self.session.display(changed)
        return idx, self.compose(idx, rgb)


__all__ = ["PATTERN_INK", "Pattern", "SkinLayers", "hatch_pattern", "ring", "territory_colours", "textbook_colours"]
