"""Skin colour layers, free of any UI: the user's paint (or two maps compared), a textbook pattern
fill, and the per-vertex fields of the layers the page draws per pixel over them (a referral
pattern's hatch and outline, skin territories with their borders).

The page draws the paint and those layers in its fragment shader (viewer/skinshade.js), from
fields it smooths over the mesh, so their boundaries run smoothly across triangles; their look
is in overlay.yaml. Python keeps what they are: paint colours per vertex (uint8 RGB), pattern
weights (0..1) and territory codes with a slot for each code (territories that meet get
different slots, so the shader can tell them apart from four numbers per vertex).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from hipviz.colours import hex_to_rgb

_STYLE_FILE = Path(__file__).with_name("overlay.yaml")
#: Slots the shader tells territories apart by (one vec4 attribute).
SLOTS = 4
#: Territory code of a vertex outside every territory, as sent to the page.
NO_TERRITORY = 255


@cache
def overlay_style() -> dict:
    """The look of the page's skin layers (overlay.yaml), as the scene sends it to the page."""
    style = yaml.safe_load(_STYLE_FILE.read_text(encoding="utf-8"))
    for colour in [style["pattern"]["ink"], style["textbook"]["fill"], *style["territory"]["colours"]]:
        hex_to_rgb(colour)                       # a bad colour fails here, not in the shader
    return style


def pattern_ink() -> tuple[int, int, int]:
    return hex_to_rgb(overlay_style()["pattern"]["ink"])


def pattern_zone(weights: np.ndarray) -> np.ndarray:
    """Vertices inside a referral pattern's drawn zone (weight at least the threshold)."""
    return np.asarray(weights, np.float32) >= overlay_style()["pattern"]["threshold"]


def territory_colour(code: int) -> str:
    colours = overlay_style()["territory"]["colours"]
    return colours[code % len(colours)]


@dataclass(frozen=True, eq=False)
class Territories:
    """Skin territory codes per vertex (-1: none) and the shader slot of each vertex."""

    codes: np.ndarray
    slots: np.ndarray        # uint8 per vertex: the slot of its territory patch (0 where none)

    @classmethod
    def of(cls, codes: np.ndarray, graph: csr_matrix) -> Territories:
        codes = np.asarray(codes, np.int64)
        if codes.max(initial=0) >= NO_TERRITORY:
            raise ValueError(f"at most {NO_TERRITORY} skin territories can be drawn")
        return cls(codes, territory_slots(codes, graph))

    def wire(self) -> tuple[bytes, bytes]:
        """uint8 codes per vertex (NO_TERRITORY where there is none) and uint8 slots per vertex."""
        c = np.where(self.codes >= 0, self.codes, NO_TERRITORY).astype(np.uint8)
        return c.tobytes(), self.slots.astype(np.uint8).tobytes()


def territory_slots(codes: np.ndarray, graph: csr_matrix) -> np.ndarray:
    """A slot (0..SLOTS-1) per vertex such that territory patches that meet differ.

    A patch is a connected piece of one territory (a dermatome on the left and on the right are
    two patches). Patches on a body surface form a planar map, so four slots always suffice; a
    small backtracking search finds an assignment."""
    codes = np.asarray(codes, np.int64)
    coo = graph.tocoo()
    same = (codes[coo.row] == codes[coo.col]) & (codes[coo.row] >= 0)
    n = len(codes)
    within = csr_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=(n, n))
    _, patch = connected_components(within, directed=False)
    has = codes >= 0
    used, numbered = np.unique(patch[has], return_inverse=True)
    p = np.full(n, -1)
    p[has] = numbered
    a, b = p[coo.row], p[coo.col]
    meet = (a != b) & (a >= 0) & (b >= 0)
    nbrs: list[set[int]] = [set() for _ in range(len(used))]
    for x, y in zip(a[meet].tolist(), b[meet].tolist()):
        nbrs[x].add(y)
        nbrs[y].add(x)
    order = sorted(range(len(used)), key=lambda c: -len(nbrs[c]))
    slot = [-1] * len(used)

    def place(i: int) -> bool:
        if i == len(order):
            return True
        c = order[i]
        taken = {slot[o] for o in nbrs[c]}
        for s in range(SLOTS):
            if s not in taken:
                slot[c] = s
                if place(i + 1):
                    return True
        slot[c] = -1
        return False

    if not place(0):
        raise ValueError(f"skin territories cannot be told apart with {SLOTS} slots")
    out = np.zeros(n, np.uint8)
    out[p >= 0] = np.asarray(slot, np.uint8)[p[p >= 0]]
    return out


def textbook_colours(base: np.ndarray, weights: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """A textbook pattern: skin filled with a blue whose strength follows the weight (all vertices)."""
    w = np.asarray(weights, np.float32)
    a = np.where(w >= threshold, 0.25 + 0.65 * np.clip(w, 0, 1), 0.0)[:, None]
    fill = np.asarray(hex_to_rgb(overlay_style()["textbook"]["fill"]), np.float32)
    out = np.asarray(base, np.float32)[None, :] * (1 - a) + fill * a
    return np.rint(out).clip(0, 255).astype(np.uint8)


class SkinLayers:
    """The skin's paint colours from the paint (a PaintSession), or two maps compared instead."""

    def __init__(self, session):
        self.session = session
        self.base = np.rint(session.base_rgb).astype(np.uint8)
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
        return self.comparison.copy() if self.comparison is not None else self.paint_rgb()

    def display(self, changed) -> tuple[np.ndarray, np.ndarray]:
        """Like PaintSession.display (the vertices to recolour after a paint change)."""
        idx, rgb = self.session.display(changed)
        if self.comparison is not None:
            return idx, self.comparison[np.asarray(idx, np.int64)]
        return idx, rgb


__all__ = ["NO_TERRITORY", "SLOTS", "SkinLayers", "Territories", "overlay_style", "pattern_ink", "pattern_zone",
           "territory_colour", "territory_slots", "textbook_colours"]
