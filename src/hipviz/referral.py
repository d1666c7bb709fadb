"""Referral paths: which structures a condition lights, the path from the source to the skin, the
pattern overlay on the skin, the camera that shows it best, and explore-mode descriptions.

Everything here is plain data and numpy (no UI or rendering imports), so the web app, the PDF
report and the tests share one answer. The main entry points:

* `select(condition_id, side)` -> `Selection`: highlight set, `ReferralPath`, pattern weights
  per skin vertex, suggested camera view. `Selection.overlap(paint)` -> `Overlap` in cm².
* `referral_path(condition_id, side)` -> `ReferralPath`: ordered `PathStep`s (atlas ids, name,
  role, segments), the skin zone, and `frames()` for a step-by-step animation;
  `path_geometry(path)` -> per step its 3D anchor and centre lines, oriented along the path.
* `pattern_weights(condition_id, side)` -> float32 per skin vertex (0..1).
* `overlap(weights, painted)` -> `Overlap`: painted, pattern and shared area and shares.
* `describe(structure_id)` -> `StructureDescription` for explore mode; `structure_weights`.
* `search_structures(text)`, `search_conditions(text)`, `skin_territories(kind)`.

Sides: ``side`` is "left", "right" or None (both sides / midline); "both", "either" and "midline"
(what a ranked candidate may carry) are read as None. A condition whose pattern applies to one
side ("same_side") shows that side's regions plus the midline ones; with side None, or for a
"both_sides"/"midline" pattern, both sides are shown.

Every atlas id returned exists in the loaded atlas; unknown condition or structure ids raise
KeyError, a bad side raises ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from hipviz.atlas.catalog import catalog
from hipviz.painmap import REGION_IDS, SIDE_CODES, PainMap, VertexPaint
from hipviz.vocabulary import vocabulary

__all__ = [
    "PATTERN_THRESHOLD",
    "PathStep",
    "ZoneRegion",
    "ReferralPath",
    "StepGeometry",
    "Overlap",
    "Selection",
    "ReferredPain",
    "StructureDescription",
    "Territories",
    "normalise_side",
    "select",
    "highlight_set",
    "referral_path",
    "path_geometry",
    "pattern_weights",
    "painted_intensity",
    "overlap",
    "suggest_view",
    "describe",
    "structure_weights",
    "search_structures",
    "search_conditions",
    "skin_territories",
]

#: Pattern area counts skin where the pattern weight reaches this (P(pain there | condition)).
PATTERN_THRESHOLD = 0.3

_SIDE_ALIASES = {None: None, "left": "left", "right": "right", "both": None, "either": None, "midline": None}

MECHANISM_LABELS = {
    "nerve_root": "nerve root",
    "peripheral_nerve": "peripheral nerve",
    "muscle": "muscle",
    "tendon": "tendon",
    "joint": "joint",
    "bone": "bone",
    "visceral": "internal organ",
    "systemic": "whole-body illness",
}
#: Mechanisms where pain travels along a nerve (lit from the spine or entrapment site outwards).
NERVE_MECHANISMS = ("nerve_root", "peripheral_nerve")
BASIS_LABELS = {
    "study": "from patient studies",
    "clinical_consensus": "clinical consensus",
    "expert_opinion": "expert-derived map, not validated",
}
_CUTANEOUS = {"lateral_femoral_cutaneous_nerve", "superior_cluneal_nerves"}
_CONTEXT_BONES = {"femur", "hip_bone"}

# Where each structure is best seen from: "posterior", "oblique" (posterior oblique of its side)
# or "anterior". Structures not listed (the femur and hip bone, seen from everywhere) do not vote.
_SEEN_FROM = {
    "posterior": (
        "vertebra_l1", "vertebra_l2", "vertebra_l3", "vertebra_l4", "vertebra_l5", "sacrum", "cauda_equina",
        "facet_joint_l4_l5", "facet_joint_l5_s1", "sacroiliac_joint", "superior_cluneal_nerves",
        "nerve_root_l2", "nerve_root_l3", "nerve_root_l4", "nerve_root_l5", "nerve_root_s1",
    ),
    "oblique": (
        "gluteus_maximus", "gluteus_medius", "gluteus_minimus", "piriformis", "quadratus_femoris", "hamstrings",
        "sciatic_nerve", "superior_gluteal_nerve", "trochanteric_bursa", "subgluteus_medius_bursa",
    ),
    "anterior": ("hip_joint", "femoral_nerve", "obturator_nerve", "lateral_femoral_cutaneous_nerve", "abdominal_aorta"),
}
_SEEN_FROM_INDEX = {b: where for where, ids in _SEEN_FROM.items() for b in ids}


def _atlas(atlas=None):
    if atlas is not None:
        return atlas
    from hipviz.atlas.meshes import load_atlas

    return load_atlas()


def _entry(condition_id: str):
    from hipviz.knowledge.loader import knowledge

    k = knowledge()
    try:
        return k[condition_id]
    except (KeyError, TypeError):
        raise KeyError(f"unknown condition {condition_id!r}; known: {', '.join(k)}") from None


def normalise_side(side: str | None) -> str | None:
    """'left'/'right', or None for both sides or the midline ('both', 'either', 'midline' -> None)."""
    if not (side is None or isinstance(side, str)) or side not in _SIDE_ALIASES:
        raise ValueError(f"side must be 'left', 'right' or None (both sides/midline), not {side!r}")
    return _SIDE_ALIASES[side]


def _resolve(base_id: str, side: str | None, atlas) -> tuple[str, ...]:
    """Atlas ids of a base id on a side (both sides when side is None and it is sided)."""
    cat = catalog()
    s = cat.structures.get(base_id)
    if s is None:
        raise KeyError(f"unknown structure {base_id!r}")
    ids = tuple(cat.resolve(base_id, sd) for sd in ((side,) if side else ("left", "right"))) if s.sided else (base_id,)
    for i in ids:
        if i not in atlas.manifest:
            raise KeyError(f"structure {i!r} is in the catalog but not in the built atlas; rebuild the atlas")
    return tuple(dict.fromkeys(ids))


def _segments_text(segs) -> str:
    segs = list(segs)
    return ", ".join(segs) if len(segs) <= 3 else f"{segs[0]}-{segs[-1]}"


# --------------------------------------------------------------------------------------------
# Referral path
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathStep:
    """One structure on the way from the source to the skin, lit as one animation step.

    ``atlas_ids``: one id, or the left and right ids when both sides are shown;
    ``role``: what it is on this path ("spinal segment", "nerve root leaving its foramen",
    "nerve", "cutaneous nerve", "muscle", "tendon", "bursa", "joint", "bone", ...);
    ``segments``: the structure's own spinal segments; ``carries``: those it shares with the
    condition's path (what it carries here).
    """

    index: int
    atlas_ids: tuple[str, ...]
    base_id: str
    name: str
    kind: str
    role: str
    segments: tuple[str, ...]
    carries: tuple[str, ...]
    innervation: str | None = None

    @property
    def atlas_id(self) -> str:
        """The step's atlas id (the first when both sides are shown)."""
        return self.atlas_ids[0]

    @property
    def caption(self) -> str:
        segs = self.carries or self.segments
        return f"{self.name}: {self.role}" + (f" ({_segments_text(segs)})" if segs else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "atlas_id": self.atlas_id, "atlas_ids": list(self.atlas_ids), "base_id": self.base_id,
            "name": self.name, "kind": self.kind, "role": self.role, "segments": list(self.segments),
            "carries": list(self.carries), "innervation": self.innervation, "caption": self.caption,
        }


@dataclass(frozen=True)
class ZoneRegion:
    region: str
    label: str
    sides: tuple[str, ...]  # left/right (one or both) or ("midline",)
    weight: float  # P(pain there | condition) from the referral pattern

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "label": self.label, "sides": list(self.sides), "weight": self.weight}


@dataclass(frozen=True)
class ReferralPath:
    """How a condition's pain reaches the skin, as steps to light in order, and the skin zone.

    For nerve mechanisms the steps run from the spine (or the entrapment site) along the nerve;
    for muscle, tendon, joint and bone they run from the structure to the nerve and spinal
    segment that supply it (the segmental innervation that explains where the pain is felt).
    """

    condition: str
    side: str | None
    mechanism: str
    mechanism_label: str
    segments: tuple[str, ...]
    steps: tuple[PathStep, ...]
    zone: tuple[ZoneRegion, ...]  # strongest first
    side_rule: str
    pattern_basis: str
    pattern_basis_label: str
    why: str  # one sentence: the structure/nerve, its segments and the zone
    explanation: dict[str, str]  # {"patient": ..., "clinician": ...} from the knowledge file

    @property
    def atlas_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for s in self.steps for i in s.atlas_ids))

    @property
    def nerve_mediated(self) -> bool:
        return self.mechanism in NERVE_MECHANISMS

    def main_zone(self, threshold: float = PATTERN_THRESHOLD) -> tuple[ZoneRegion, ...]:
        return tuple(z for z in self.zone if z.weight >= threshold)

    def frames(self) -> list[frozenset[str]]:
        """Atlas ids lit at each animation frame: step 1, steps 1-2, ..., all steps (then show
        the skin zone with the pattern overlay). The last frame is the still version."""
        out, lit = [], []
        for s in self.steps:
            lit += s.atlas_ids
            out.append(frozenset(lit))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition, "side": self.side, "mechanism": self.mechanism,
            "mechanism_label": self.mechanism_label, "segments": list(self.segments),
            "steps": [s.to_dict() for s in self.steps], "zone": [z.to_dict() for z in self.zone],
            "side_rule": self.side_rule, "pattern_basis": self.pattern_basis,
            "pattern_basis_label": self.pattern_basis_label, "why": self.why, "explanation": dict(self.explanation),
        }


def _role(base_id: str, kind: str, mechanism: str, supplies: bool = False) -> str:
    if base_id.startswith("vertebra_") or (base_id == "sacrum" and mechanism == "nerve_root"):
        return "spinal segment"
    if base_id.startswith("nerve_root_"):
        return "nerve root leaving its foramen" if mechanism == "nerve_root" else "nerve root of its segment"
    if base_id == "cauda_equina":
        return "nerve roots in the spinal canal"
    if kind == "nerve":
        if base_id in _CUTANEOUS:
            return "cutaneous nerve"
        return "nerve supplying it" if supplies and mechanism not in NERVE_MECHANISMS else "nerve"
    if kind == "muscle":
        if mechanism == "tendon":
            return "muscle and its tendon"
        if mechanism == "peripheral_nerve":
            return "muscle at the entrapment site"
        return "muscle"
    return {"bursa": "bursa", "joint": "joint", "bone": "bone", "vessel": "blood vessel"}.get(kind, kind)


def _zone(entry, side: str | None) -> tuple[ZoneRegion, ...]:
    v = vocabulary()
    p = entry.pattern
    both = side is None or p.side_rule != "same_side"
    out = []
    for region, w in sorted(p.regions.items(), key=lambda kv: (-kv[1], REGION_IDS.index(kv[0]))):
        sides = (("left", "right") if both else (side,)) if region in v.sided_regions else ("midline",)
        out.append(ZoneRegion(region, v.regions[region], sides, float(w)))
    return tuple(out)


def _lower(label: str) -> str:
    return label[0].lower() + label[1:] if label[:1].isupper() and label[1:2].islower() else label


def _why(entry, steps: tuple[PathStep, ...], zone: tuple[ZoneRegion, ...]) -> str:
    c = entry.condition
    mech = c.referral_path.mechanism
    segs = _segments_text(c.referral_path.segments)
    main = [_lower(z.label) for z in zone if z.weight >= PATTERN_THRESHOLD][:4] or [_lower(zone[0].label)]
    where = ", ".join(main)
    if mech in NERVE_MECHANISMS:
        nerves = [_lower(s.name) for s in steps if s.kind == "nerve"]
        start = f" from the {_lower(steps[0].name)}" if steps[0].kind != "nerve" else ""
        via = ", ".join(nerves[:-1]) + " and the " + nerves[-1] if len(nerves) > 1 else nerves[0] if nerves else ""
        return f"Pain follows the nerve: {segs} fibres run{start} through the {via} to the {where}."
    src = next((s for s in steps if s.kind != "nerve"), steps[0])
    info = catalog().structures[src.base_id]
    nerve = next((s for s in steps if s.kind == "nerve"), None)
    if info.innervation:
        head = f"{src.name} is supplied by the {info.innervation} ({_segments_text(info.segments) or segs})"
    elif nerve is not None:
        rest = [_lower(s.name) for s in steps if s is not src]
        chain = ", ".join(rest[:-1]) + " and the " + rest[-1] if len(rest) > 1 else rest[0]
        head = f"The path from the {_lower(src.name)} runs through the {chain} ({segs})"
    else:
        return f"Pain from the {_lower(src.name)} travels with segments {segs} and is felt where they reach: the {where}."
    return f"{head}; pain is felt where those segments reach: the {where}."


def _supplies(nerve_name: str, source_base: str | None) -> bool:
    """Whether the catalog names this nerve in the source structure's innervation."""
    if source_base is None:
        return False
    inn = (catalog().structures[source_base].innervation or "").lower()
    key = nerve_name.lower().replace(" nerves", "").replace(" nerve", "")
    return bool(inn) and key in inn


@cache
def _referral_path(condition_id: str, side: str | None, atlas_key: int) -> ReferralPath:
    atlas = _ATLASES[atlas_key]
    e = _entry(condition_id)
    c = e.condition
    rp = c.referral_path
    cat = catalog().structures
    path_segs = set(rp.segments)
    steps = []
    source = next((b for b in rp.steps if cat[b].kind != "nerve"), None)
    for i, base in enumerate(rp.steps):
        s = cat[base]
        ids = _resolve(base, side, atlas)
        role = _role(base, s.kind, rp.mechanism, _supplies(s.name, source))
        steps.append(PathStep(
            index=i, atlas_ids=ids, base_id=base, name=s.name, kind=s.kind, role=role,
            segments=tuple(s.segments), carries=tuple(x for x in s.segments if x in path_segs), innervation=s.innervation,
        ))
    steps = tuple(steps)
    zone = _zone(e, side)
    return ReferralPath(
        condition=condition_id, side=side, mechanism=rp.mechanism, mechanism_label=MECHANISM_LABELS[rp.mechanism],
        segments=tuple(rp.segments), steps=steps, zone=zone, side_rule=e.pattern.side_rule,
        pattern_basis=e.pattern.basis, pattern_basis_label=BASIS_LABELS[e.pattern.basis],
        why=_why(e, steps, zone),
        explanation={"patient": rp.explanation.patient, "clinician": rp.explanation.clinician},
    )


# Atlases seen by the cached functions, keyed by id(); kept alive so the key stays unique.
_ATLASES: dict[int, Any] = {}


def _key(atlas) -> int:
    atlas = _atlas(atlas)
    _ATLASES.setdefault(id(atlas), atlas)
    return id(atlas)


@dataclass(frozen=True, eq=False)
class StepGeometry:
    """Where a path step is in 3D (atlas frame, metres), to draw the path as lines or a moving dot.

    ``anchor``: the structure's centre; ``lines``: its centre lines (nerves, muscles) oriented
    along the path, each starting near where the previous step ended."""

    step: int
    atlas_id: str
    side: str | None
    anchor: np.ndarray
    lines: tuple[np.ndarray, ...]


def _centre(atlas, aid: str) -> np.ndarray:
    v, _ = atlas.arrays(aid)
    return v.astype(np.float64).mean(axis=0)


def _lines(atlas, aid: str) -> list[np.ndarray]:
    out = []
    for k, pts in atlas.paths.items():
        if k == aid or (k.startswith(aid + "_") and k[len(aid) + 1:].isdigit()):
            pts = np.asarray(pts, np.float64)
            if len(pts) >= 2:
                out.append(pts)
    return out


def path_geometry(path: ReferralPath, atlas=None) -> list[StepGeometry]:
    """3D geometry of a referral path: per step and side, its anchor and oriented centre lines."""
    a = _atlas(atlas)
    sides = [path.side] if path.side else ["left", "right"]
    out: list[StepGeometry] = []
    for sd in sides:
        chain = []
        for st in path.steps:
            aid = next((i for i in st.atlas_ids if i.endswith(f"_{sd}")), st.atlas_ids[0])
            chain.append((st.index, aid))
        anchors = [_centre(a, aid) for _, aid in chain]
        prev_end = None
        for k, (idx, aid) in enumerate(chain):
            lines = _lines(a, aid)
            oriented = []
            for ln in lines:
                if prev_end is not None:
                    flip = np.linalg.norm(ln[-1] - prev_end) < np.linalg.norm(ln[0] - prev_end)
                elif k + 1 < len(anchors):
                    nxt = anchors[k + 1]
                    flip = np.linalg.norm(ln[0] - nxt) < np.linalg.norm(ln[-1] - nxt)
                else:
                    flip = False
                oriented.append((ln[::-1] if flip else ln).astype(np.float32))
            sid = aid if aid.endswith(("_left", "_right")) else None
            out.append(StepGeometry(idx, aid, sd if sid else None, anchors[k].astype(np.float32), tuple(oriented)))
            prev_end = oriented[0][-1].astype(np.float64) if oriented else anchors[k]
    if not path.side:  # a midline step appears once
        seen, uniq = set(), []
        for g in out:
            if g.atlas_id not in seen:
                seen.add(g.atlas_id)
                uniq.append(g)
        out = sorted(uniq, key=lambda g: (g.step, g.atlas_id))
    return out


def referral_path(condition_id: str, side: str | None = None, atlas=None) -> ReferralPath:
    """The referral path of a condition on a side (None: both sides / midline)."""
    _entry(condition_id)
    return _referral_path(condition_id, normalise_side(side), _key(atlas))


def highlight_set(condition_id: str, side: str | None = None, atlas=None) -> frozenset[str]:
    """Atlas ids to highlight: the condition's source structures and the structures on its path."""
    e = _entry(condition_id)
    side = normalise_side(side)
    a = _atlas(atlas)
    ids = [i for b in e.condition.source_structures for i in _resolve(b, side, a)]
    ids += referral_path(condition_id, side, a).atlas_ids
    return frozenset(ids)


# --------------------------------------------------------------------------------------------
# Pattern overlay and overlap
# --------------------------------------------------------------------------------------------


@cache
def _pattern_weights(condition_id: str, side: str | None, atlas_key: int) -> np.ndarray:
    atlas = _ATLASES[atlas_key]
    e = _entry(condition_id)
    lab = atlas.skin_label_arrays
    region = np.asarray(lab["region"])
    vside = np.asarray(lab["side"])
    lut = np.zeros(len(REGION_IDS) + 1, np.float32)  # index -1 (no region) -> last slot, 0
    for r, w in e.pattern.regions.items():
        lut[REGION_IDS.index(r)] = w
    w = lut[region]
    if side is not None and e.pattern.side_rule == "same_side":
        other = SIDE_CODES["right" if side == "left" else "left"]
        w = np.where(vside == other, np.float32(0), w)
    w = np.clip(w, 0, 1).astype(np.float32)
    w.setflags(write=False)
    return w


def pattern_weights(condition_id: str, side: str | None = None, atlas=None) -> np.ndarray:
    """Per skin vertex, the condition's pattern weight P(pain there | condition), float32 0..1.

    Same-side patterns on a given side: that side's regions plus the midline; otherwise both.
    The array is read-only (shared between callers)."""
    _entry(condition_id)
    return _pattern_weights(condition_id, normalise_side(side), _key(atlas))


def painted_intensity(painmap: PainMap, atlas=None) -> np.ndarray:
    """Painted intensity (0-10) per skin vertex, float32: the vertex paint where the map has it;
    region entries without vertex paint in them colour their whole (region, side)."""
    a = _atlas(atlas)
    labels = a.skin_labels()
    out = np.zeros(labels.vertex_count, np.float32)
    covered: set[tuple[int, int]] = set()
    paint = painmap.paint(labels)
    if paint is not None:
        out = paint.intensity.astype(np.float32).copy()
        sel = (out > 0) & (labels.region >= 0)
        covered = set(zip(labels.region[sel].tolist(), labels.side[sel].tolist()))
    for r in painmap.regions:
        if r.intensity <= 0:
            continue
        key = (REGION_IDS.index(r.region), SIDE_CODES[r.side])
        if key in covered:
            continue
        m = (labels.region == key[0]) & (labels.side == key[1])
        out[m] = np.maximum(out[m], np.float32(r.intensity))
    return out


@dataclass(frozen=True)
class Overlap:
    """Painted area, pattern area (weight >= threshold) and their overlap, in cm², with shares."""

    painted_cm2: float
    pattern_cm2: float
    overlap_cm2: float
    threshold: float = PATTERN_THRESHOLD

    @property
    def share_of_painted(self) -> float:
        """Fraction (0..1) of the painted area that lies in the pattern."""
        return self.overlap_cm2 / self.painted_cm2 if self.painted_cm2 > 0 else 0.0

    @property
    def share_of_pattern(self) -> float:
        """Fraction (0..1) of the pattern area that is painted."""
        return self.overlap_cm2 / self.pattern_cm2 if self.pattern_cm2 > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "painted_cm2": round(self.painted_cm2, 1), "pattern_cm2": round(self.pattern_cm2, 1),
            "overlap_cm2": round(self.overlap_cm2, 1), "share_of_painted": round(self.share_of_painted, 4),
            "share_of_pattern": round(self.share_of_pattern, 4), "threshold": self.threshold,
        }

    def text(self) -> str:
        return (f"{self.overlap_cm2:.0f} cm² shared: {100 * self.share_of_painted:.0f}% of the painted area "
                f"({self.painted_cm2:.0f} cm²), {100 * self.share_of_pattern:.0f}% of the pattern ({self.pattern_cm2:.0f} cm²)")


def _painted_mask(painted, atlas) -> np.ndarray:
    n = atlas.info("skin").vertices
    if isinstance(painted, PainMap):
        m = painted_intensity(painted, atlas) > 0
    elif isinstance(painted, VertexPaint):
        painted.check(atlas.skin_labels())
        m = painted.intensity > 0
    else:
        arr = np.asarray(painted)
        if arr.shape != (n,):
            raise ValueError(f"painted: expected one value per skin vertex ({n}), got shape {arr.shape}")
        m = arr > 0 if arr.dtype != bool else arr
    return m


def overlap(weights: np.ndarray, painted, atlas=None, threshold: float = PATTERN_THRESHOLD) -> Overlap:
    """Overlap between a pattern (per-vertex weights) and the painted skin.

    ``painted``: a PainMap (vertex paint, else its regions), a VertexPaint, or one value per skin
    vertex (bool mask or intensity; > 0 is painted). Areas are the skin vertex areas in cm²."""
    a = _atlas(atlas)
    area = a.skin_vertex_area_cm2
    w = np.asarray(weights)
    if w.shape != area.shape:
        raise ValueError(f"weights: expected one value per skin vertex ({area.shape[0]}), got shape {w.shape}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    m = _painted_mask(painted, a)
    pat = w >= threshold
    return Overlap(float(area[m].sum()), float(area[pat].sum()), float(area[m & pat].sum()), threshold)


# --------------------------------------------------------------------------------------------
# Camera
# --------------------------------------------------------------------------------------------


@cache
def _skin_normals(atlas_key: int) -> np.ndarray:
    return np.asarray(_ATLASES[atlas_key].trimesh("skin").vertex_normals, np.float64)


def _view_directions() -> dict[str, np.ndarray]:
    from importlib import resources

    import yaml

    # The presets are data (render/views.yaml); read them without importing the render package.
    raw = yaml.safe_load(resources.files("hipviz").joinpath("render", "views.yaml").read_text("utf-8"))
    out = {}
    for name, v in raw["views"].items():
        d = np.asarray(v["direction"], float)
        out[name] = d / np.linalg.norm(d)
    return out


def suggest_view(condition_id: str, side: str | None = None, atlas=None) -> tuple[str, str]:
    """(view preset name, reason): the camera preset that best shows the highlighted structures
    and the skin zone.

    Each view scores the share of the pattern's skin (weighted by pattern weight and area) that
    faces it, plus the votes of the highlighted structures: spine, roots and sacroiliac joint
    are seen from behind; gluteal muscles, bursae, piriformis, hamstrings and the sciatic
    nerve from behind at an angle on their side; hip joint, femoral, obturator and lateral
    femoral cutaneous nerves and the aorta from the front. Source structures count twice.
    """
    e = _entry(condition_id)
    side = normalise_side(side)
    a = _atlas(atlas)
    dirs = _view_directions()
    oblique = {s: f"posterior_oblique_{s}" for s in ("left", "right")}
    votes: dict[str, float] = {}
    for weight, bases in ((2.0, e.condition.source_structures), (1.0, e.condition.referral_path.steps)):
        for b in bases:
            where = _SEEN_FROM_INDEX.get(b)
            if where is None:
                continue
            sided = catalog().structures[b].sided
            if where == "oblique":
                targets = [oblique[side]] if (side and sided) else (list(oblique.values()) if sided else ["posterior"])
            else:
                targets = [where]
            for t in targets:
                votes[t] = votes.get(t, 0.0) + weight / len(targets)
    total_votes = sum(votes.values()) or 1.0
    w = pattern_weights(condition_id, side, a).astype(np.float64) * a.skin_vertex_area_cm2
    normals = _skin_normals(_key(a))
    facing = {k: float((w * np.clip(normals @ d, 0, None)).sum() / max(w.sum(), 1e-12)) for k, d in dirs.items()}
    scores = {}
    for k, d in dirs.items():
        # a structure's vote also counts, reduced, for views close to the one it names
        s = sum(v * max(0.0, float(d @ dirs[t])) for t, v in votes.items()) / total_votes
        scores[k] = facing[k] + s
    if side is not None and e.pattern.side_rule == "same_side":  # never look from the other side
        other = "left" if side == "right" else "right"
        for k in (oblique[other], other):
            scores.pop(k, None)
    best = max(scores, key=lambda k: (scores[k], -list(dirs).index(k)))
    top = max(votes, key=votes.get) if votes else None
    reason = (f"shows the skin zone ({100 * facing[best]:.0f}% facing the camera)"
              + (f" and the {'structures seen from this side' if top == best else 'highlighted structures'}" if votes else ""))
    return best, reason


# --------------------------------------------------------------------------------------------
# Selection: everything for one condition on one side
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Selection:
    """What selecting a condition shows: highlight set, path, pattern overlay and camera view."""

    condition: str
    side: str | None
    name: str
    clinician_name: str
    urgency: str
    sources: tuple[str, ...]  # atlas ids of the source structures
    highlight: frozenset[str]  # sources + path structures
    path: ReferralPath
    weights: np.ndarray = field(repr=False)  # float32 per skin vertex, 0..1, read-only
    pattern_cm2: float
    view: str
    view_reason: str
    _atlas: Any = field(default=None, repr=False)

    def overlap(self, painted, threshold: float = PATTERN_THRESHOLD) -> Overlap:
        """Overlap of this pattern with the painted skin (PainMap, VertexPaint or per-vertex array)."""
        return overlap(self.weights, painted, self._atlas, threshold)

    def pattern_mask(self, threshold: float = PATTERN_THRESHOLD) -> np.ndarray:
        return self.weights >= threshold

    def outline(self, threshold: float = PATTERN_THRESHOLD) -> np.ndarray:
        """Bool per skin vertex: pattern vertices with a neighbour outside it (the zone's border,
        to draw the pattern as an outline that stays distinct from the user's filled paint)."""
        return zone_outline(self.weights >= threshold, self._atlas)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (weights left out: send them as a binary array)."""
        return {
            "condition": self.condition, "side": self.side, "name": self.name, "clinician_name": self.clinician_name,
            "urgency": self.urgency, "sources": list(self.sources), "highlight": sorted(self.highlight),
            "path": self.path.to_dict(), "pattern_cm2": round(self.pattern_cm2, 1), "view": self.view,
            "view_reason": self.view_reason,
        }


def zone_outline(mask: np.ndarray, atlas=None) -> np.ndarray:
    """Vertices of a skin mask that share a triangle with a vertex outside it."""
    a = _atlas(atlas)
    _, f = a.arrays("skin")
    mask = np.asarray(mask, bool)
    inside = mask[f]
    mixed = inside.any(1) & ~inside.all(1)
    out = np.zeros_like(mask)
    out[f[mixed].ravel()] = True
    return out & mask


def select(condition_id: str, side: str | None = None, atlas=None) -> Selection:
    """Everything the viewer needs when a condition is selected on a side (None: both/midline)."""
    e = _entry(condition_id)
    side = normalise_side(side)
    a = _atlas(atlas)
    sources = tuple(dict.fromkeys(i for b in e.condition.source_structures for i in _resolve(b, side, a)))
    path = referral_path(condition_id, side, a)
    w = pattern_weights(condition_id, side, a)
    view, why = suggest_view(condition_id, side, a)
    return Selection(
        condition=condition_id, side=side, name=e.condition.names.patient, clinician_name=e.condition.names.clinician,
        urgency=e.condition.urgency, sources=sources, highlight=frozenset(sources) | frozenset(path.atlas_ids), path=path,
        weights=w, pattern_cm2=float(a.skin_vertex_area_cm2[w >= PATTERN_THRESHOLD].sum()), view=view, view_reason=why,
        _atlas=a,
    )


# --------------------------------------------------------------------------------------------
# Explore mode
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferredPain:
    """A condition that involves a structure: as its source, or on its referral path."""

    condition: str
    name: str
    clinician_name: str
    role: str  # "source" or "on the path"
    zone: tuple[ZoneRegion, ...]
    side_rule: str
    pattern_basis: str
    pattern_basis_label: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition, "name": self.name, "clinician_name": self.clinician_name, "role": self.role,
            "zone": [z.to_dict() for z in self.zone], "side_rule": self.side_rule,
            "pattern_basis": self.pattern_basis, "pattern_basis_label": self.pattern_basis_label,
        }


@dataclass(frozen=True)
class StructureDescription:
    atlas_id: str
    base_id: str
    name: str
    kind: str
    side: str | None
    what: str
    origin: str | None
    insertion: str | None
    action: str | None
    innervation: str | None
    segments: tuple[str, ...]
    layer: str
    conditions: tuple[ReferredPain, ...]  # sources first, then those with it on their path

    @property
    def sources_of(self) -> tuple[str, ...]:
        return tuple(c.condition for c in self.conditions if c.role == "source")

    def to_dict(self) -> dict[str, Any]:
        return {
            "atlas_id": self.atlas_id, "base_id": self.base_id, "name": self.name, "kind": self.kind, "side": self.side,
            "what": self.what, "origin": self.origin, "insertion": self.insertion, "action": self.action,
            "innervation": self.innervation, "segments": list(self.segments), "layer": self.layer,
            "conditions": [c.to_dict() for c in self.conditions],
        }

    def text(self) -> str:
        """A short plain-text description (for a tooltip or a side panel)."""
        lines = [self.name + (f" ({self.side})" if self.side else ""), self.what]
        for label, v in (("Origin", self.origin), ("Insertion", self.insertion), ("Action", self.action),
                         ("Innervation", self.innervation)):
            if v:
                lines.append(f"{label}: {v}")
        if self.segments:
            lines.append(f"Segments: {', '.join(self.segments)}")
        src = [c for c in self.conditions if c.role == "source"]
        if src:
            lines.append("Can cause: " + "; ".join(
                f"{c.clinician_name} (felt in {', '.join(_lower(z.label) for z in c.zone if z.weight >= PATTERN_THRESHOLD) or _lower(c.zone[0].label)})"
                for c in src))
        on = [c.clinician_name for c in self.conditions if c.role != "source"]
        if on:
            lines.append("On the pain path of: " + "; ".join(on))
        return "\n".join(lines)


def _split_structure(structure_id: str, atlas) -> tuple[Any, str | None, str]:
    """(catalog structure, side, atlas id or base id) of an atlas id, or of a base id."""
    cat = catalog()
    if not isinstance(structure_id, str):
        raise KeyError(f"unknown structure {structure_id!r}")
    if structure_id in atlas.manifest:
        s, side = cat.split(structure_id)
        return s, side, structure_id
    if structure_id in cat.structures:
        s = cat.structures[structure_id]
        _resolve(structure_id, None, atlas)
        return s, None, structure_id
    raise KeyError(f"unknown structure {structure_id!r}; use an atlas id such as 'gluteus_medius_left' or a base id")


def describe(structure_id: str, atlas=None) -> StructureDescription:
    """Explore mode: what a structure is, its attachments, action, innervation and segments, and
    the conditions that list it as a source or on their referral path (with their patterns).

    ``structure_id``: an atlas id ("piriformis_right") or a base id ("piriformis": both sides)."""
    from hipviz.knowledge.loader import knowledge

    a = _atlas(atlas)
    s, side, sid = _split_structure(structure_id, a)
    refs = []
    for role in ("source", "on the path"):
        for cid, e in knowledge().items():
            c = e.condition
            listed = s.base_id in c.source_structures if role == "source" else (
                s.base_id in c.referral_path.steps and s.base_id not in c.source_structures)
            if listed:
                refs.append(ReferredPain(
                    cid, c.names.patient, c.names.clinician, role, _zone(e, side), e.pattern.side_rule,
                    e.pattern.basis, BASIS_LABELS[e.pattern.basis],
                ))
    return StructureDescription(
        atlas_id=sid, base_id=s.base_id, name=s.name, kind=s.kind, side=side, what=s.what, origin=s.origin,
        insertion=s.insertion, action=s.action, innervation=s.innervation, segments=tuple(s.segments), layer=s.layer,
        conditions=tuple(refs),
    )


def structure_weights(structure_id: str, atlas=None) -> np.ndarray:
    """The pain a structure can refer, on the skin: per skin vertex the highest pattern weight of
    the conditions that list it as a source (on its side), float32 0..1; zeros if none."""
    a = _atlas(atlas)
    d = describe(structure_id, a)
    out = np.zeros(a.info("skin").vertices, np.float32)
    for c in d.conditions:
        if c.role == "source":
            out = np.maximum(out, pattern_weights(c.condition, d.side, a))
    return out


def search_structures(text: str, atlas=None) -> list[str]:
    """Atlas ids whose name, id or description contains every word of `text` (case-insensitive);
    name matches first."""
    a = _atlas(atlas)
    words = [w for w in str(text).lower().split() if w]
    hits = []
    for aid, info in a.manifest.items():
        s, side = catalog().split(aid)
        name = f"{info.name} {side or ''} {aid}".lower()
        body = f"{name} {s.what} {s.innervation or ''} {' '.join(s.segments)}".lower()
        if words and all(w in body for w in words):
            hits.append((0 if all(w in name for w in words) else 1, aid))
    return [aid for _, aid in sorted(hits, key=lambda t: (t[0], list(a.manifest).index(t[1])))]


def search_conditions(text: str) -> list[str]:
    """Condition ids whose names or id contain every word of `text` (case-insensitive)."""
    from hipviz.knowledge.loader import knowledge

    words = [w for w in str(text).lower().split() if w]
    out = []
    for cid, e in knowledge().items():
        hay = f"{cid.replace('_', ' ')} {e.condition.names.patient} {e.condition.names.clinician}".lower()
        if all(w in hay for w in words):
            out.append(cid)
    return out


# --------------------------------------------------------------------------------------------
# Dermatomes and cutaneous nerve territories
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Territories:
    """A labelled skin overlay: a code per skin vertex (-1 = none), the label of each code, and
    label anchors (a skin vertex near the middle of each label's patch, per side)."""

    kind: str
    codes: np.ndarray  # int8 per skin vertex
    names: tuple[str, ...]
    anchors: tuple[tuple[str, str, int, tuple[float, float, float]], ...]  # (name, side, vertex, xyz)
    variable: np.ndarray | None  # bool per vertex where the boundary is uncertain (dermatomes)
    source: str


def skin_territories(kind: str = "dermatome", atlas=None) -> Territories:
    """Dermatomes (kind 'dermatome') or cutaneous nerve territories ('nerve') on the skin."""
    a = _atlas(atlas)
    lab = a.skin_label_arrays
    meta = a.raw["skin_labels"]
    if kind == "dermatome":
        codes = np.asarray(lab["dermatome"], np.int8)
        names = tuple(meta["dermatomes"])
        variable = np.asarray(lab["dermatome_variable"]).astype(bool)
        source = meta.get("dermatome_source", "")
    elif kind == "nerve":
        raw = np.asarray(lab["nerve"], np.int8)
        names_all = list(meta["nerve_territories"])
        none = names_all.index("none") if "none" in names_all else -1
        codes = np.where(raw == none, -1, raw).astype(np.int8)
        names = tuple(n.replace("_", " ") for n in names_all)
        variable = None
        source = ""
    else:
        raise ValueError(f"kind must be 'dermatome' or 'nerve', not {kind!r}")
    v, _ = a.arrays("skin")
    anchors = []
    for code, name in enumerate(names):
        for sd, sc in (("left", 1), ("right", 2), ("midline", 0)):
            idx = np.flatnonzero((codes == code) & (np.asarray(lab["side"]) == sc))
            if idx.size < 10:
                continue
            c = v[idx].mean(0)
            j = int(idx[np.argmin(np.linalg.norm(v[idx] - c, axis=1))])
            anchors.append((name, sd, j, tuple(float(x) for x in v[j])))
    codes.setflags(write=False)
    return Territories(kind, codes, names, tuple(anchors), variable, source)
