"""What the 3D view shows while a condition is explained or a structure is explored, free of any UI.

`Explainer.select(condition, side)` keeps the `hipviz.referral.Selection` and answers, for each
frame of the referral-path animation, the target state of every actor (visible, opacity,
colour) and whether the skin zone shows. Frame 0 shows only the faded body; frames 1..N light
the path steps one after another (the newest brightest); frame N+1 adds the pattern on the skin
and is the still version. The viewer sends only the actors whose state differs from what the
browser already has, so a frame costs a few hundred bytes.

`Explainer.explore(structure)` does the same for one structure in explore mode: the structure
lit, the rest faded, the pain it can refer on the skin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hipviz import referral

SKIN_ID = "skin"

#: Colours of the lit path: the newest step, the steps already lit, sources not on the path.
LIT_NEW = "#fff06a"
LIT = "#ffb000"
SOURCE = "#ff5a36"
SOURCE_BONE = "#ffc9a0"
EXPLORED = "#ffb000"
#: Opacity of the skin (see-through, so the path shows) and of what is faded.
SKIN_SEE_THROUGH = 0.42
FADED = 0.07
FADED_BONE = 0.2
WAITING = 0.3           # path steps not lit yet, drawn grey
WAITING_COLOUR = "#9aa3ad"


@dataclass(frozen=True)
class Frame:
    index: int           # 0..n_frames-1
    n_frames: int
    lit: frozenset       # atlas ids lit
    newest: frozenset    # atlas ids lit at this frame
    zone: bool           # the pattern shows on the skin
    caption: str
    step: int | None     # path step index lit at this frame (None: start or zone)


class Explainer:
    """Selection state of one session (which condition or structure is shown, which frame)."""

    def __init__(self, atlas, actors_meta: list[dict]):
        self.atlas = atlas
        self.meta = {a["id"]: a for a in actors_meta}
        self.selection: referral.Selection | None = None
        self.description: referral.StructureDescription | None = None
        self.structure_weights: np.ndarray | None = None
        self.frame_index = 0

    # ---- selecting ----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.selection is not None or self.description is not None

    def select(self, condition: str, side: str | None = None) -> referral.Selection:
        sel = referral.select(condition, side, self.atlas)
        missing = [i for i in sel.highlight if i not in self.meta]
        if missing:
            raise KeyError(f"structures not in the scene: {', '.join(sorted(missing))}")
        self.selection, self.description, self.structure_weights = sel, None, None
        self.frame_index = self.n_frames - 1      # the still version
        return sel

    def explore(self, structure_id: str) -> referral.StructureDescription:
        d = referral.describe(structure_id, self.atlas)
        self.description = d
        self.structure_weights = referral.structure_weights(structure_id, self.atlas)
        self.selection = None
        self.frame_index = 0
        return d

    def clear(self) -> None:
        self.selection = self.description = self.structure_weights = None
        self.frame_index = 0

    # ---- frames -------------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return len(self.selection.path.steps) + 2 if self.selection else 1

    def frame(self, k: int | None = None) -> Frame:
        k = self.frame_index if k is None else int(k)
        sel = self.selection
        if sel is None:
            ids = frozenset([self.description.atlas_id]) if self.description else frozenset()
            return Frame(0, 1, ids, ids, self.description is not None, "", None)
        steps = sel.path.steps
        n = len(steps)
        k = max(0, min(k, n + 1))
        frames = sel.path.frames()
        lit = frames[min(k, n) - 1] if k >= 1 else frozenset()
        if 1 <= k <= n:
            newest = frozenset(steps[k - 1].atlas_ids)
            caption = f"Step {k} of {n}: {steps[k - 1].caption}"
            step = k - 1
        elif k == 0:
            newest, step = frozenset(), None
            caption = f"How the pain of {sel.clinician_name} travels: press Play or Step"
        else:
            newest, step = frozenset(), None
            zone = [z.label.lower() for z in sel.path.main_zone()[:3]] or [sel.path.zone[0].label.lower()]
            caption = f"Felt in the {', '.join(zone)}" + (" and more" if len(sel.path.main_zone()) > 3 else "")
        return Frame(k, n + 2, lit, newest, k == n + 1, caption, step)

    def set_frame(self, k: int) -> Frame:
        self.frame_index = max(0, min(int(k), self.n_frames - 1))
        return self.frame()

    def step(self) -> Frame:
        """Advance one frame; after the still version, start again at the first step."""
        nxt = self.frame_index + 1
        return self.set_frame(min(1, self.n_frames - 1) if nxt >= self.n_frames else nxt)

    def step_back(self) -> Frame:
        """Go back one frame; from the first step, to the still version."""
        prev = self.frame_index - 1
        return self.set_frame(self.n_frames - 1 if prev < 1 else prev)

    # ---- what the actors show -------------------------------------------------------------------
    def actor_targets(self, frame: Frame | None = None, visible_layers: set[str] | None = None) -> dict[str, dict]:
        """Target visible/opacity/colour of every actor for a frame (only what the caller must set)."""
        f = frame or self.frame()
        out = {}
        if self.selection is not None:
            path_ids = set(self.selection.path.atlas_ids)
            sources = set(self.selection.sources)
        else:
            path_ids, sources = set(f.lit), set()
        for sid, a in self.meta.items():
            own = a["colour"]
            if sid == SKIN_ID:
                out[sid] = {"visible": True, "opacity": SKIN_SEE_THROUGH, "colour": own}
            elif sid in f.newest and self.selection is not None:
                out[sid] = {"visible": True, "opacity": 1.0, "colour": LIT_NEW}
            elif sid in f.lit:
                out[sid] = {"visible": True, "opacity": 1.0, "colour": LIT if self.selection is not None else EXPLORED}
            elif sid in sources:
                out[sid] = {"visible": True, "opacity": 1.0, "colour": SOURCE_BONE if a.get("kind") == "bone" else SOURCE}
            elif sid in path_ids:
                out[sid] = {"visible": True, "opacity": WAITING, "colour": WAITING_COLOUR}
            elif a.get("kind") == "bone":
                out[sid] = {"visible": True, "opacity": FADED_BONE, "colour": own}
            else:
                vis = bool(a.get("visible")) and (visible_layers is None or a.get("layer") in visible_layers)
                out[sid] = {"visible": vis, "opacity": FADED, "colour": own}
        return out

    def pattern_weights(self) -> np.ndarray | None:
        """Per-vertex weights of what shows on the skin at the current frame (None: nothing)."""
        f = self.frame()
        if not f.zone:
            return None
        if self.selection is not None:
            return self.selection.weights
        return self.structure_weights

    def view(self) -> str | None:
        """Camera preset for the current selection."""
        if self.selection is not None:
            return self.selection.view
        if self.description is not None:
            side = self.description.side
            seen = referral._SEEN_FROM_INDEX.get(self.description.base_id)
            if seen == "oblique" and side in ("left", "right"):
                return f"posterior_oblique_{side}"
            if seen in ("posterior", "anterior"):
                return seen
            return {"left": "left", "right": "right"}.get(side or "", "anterior")
        return None

    def path_lines(self) -> list[tuple[int, np.ndarray]]:
        """(step index, polyline float32 (n, 3)) of the path's centre lines, to draw as tubes."""
        if self.selection is None:
            return []
        out = []
        for g in referral.path_geometry(self.selection.path, self.atlas):
            for ln in g.lines:
                out.append((g.step, np.asarray(ln, np.float32)))
        return out


__all__ = ["Explainer", "Frame"]
