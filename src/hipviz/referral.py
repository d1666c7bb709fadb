"""Referral paths: which structures a condition lights, the path from the source to the skin, the
pattern overlay on the skin, the camera that shows it best, and explore-mode descriptions.

Everything here is plain data and numpy (no UI or rendering imports), so the web app, the PDF
report and the tests share one answer. The main entry points:

* `select(condition_id, side)` -> `Selection`: highlight set, `ReferralPath`, pattern weights
  per skin vertex, suggested camera view. `Selection.overlap(paint)` -> `Overlap` in cm².
* `referral_path(condition_id, side)` -> `ReferralPath`: its kind (local, somatic referred,
  radicular, nerve entrapment or vascular; `PATH_KINDS`), ordered `PathStep`s (atlas ids, name,
  role, segments), the skin zone, and `frames()` for a step-by-step animation;
  `path_geometry(path)` -> per step its 3D anchor and centre lines, oriented along the path.
* `pattern_weights(condition_id, side)` -> float32 per skin vertex (0..1).
* `overlap(weights, painted)` -> `Overlap`: painted, pattern and shared area and shares.
* `describe(structure_id)` -> `StructureDescription` for explore mode; `structure_weights`.
* `search_structures(text)`, `search_conditions(text)` (names and everyday words such as
  "tendonitis"; `search_conditions_matches` also says which word matched), `skin_territories(kind)`.

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
    "painted_intensity_on",
    "overlap",
    "suggest_view",
    "describe",
    "structure_weights",
    "search_structures",
    "search_conditions",
    "search_conditions_matches",
    "skin_territories",
    "PATH_KINDS",
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
    "vascular": "blood vessel",
    "systemic": "whole-body illness",
}
#: Mechanisms where pain travels along a nerve (lit from the spine or entrapment site outwards).
NERVE_MECHANISMS = ("nerve_root", "peripheral_nerve")
#: The kinds of path (how pain reaches where it is felt, DESIGN.md section 5), each with a label
#: and a one-line explanation in both registers. The card and the path view say which it is.
PATH_KINDS: dict[str, dict[str, str]] = {
    "local": {
        "label": "Local pain",
        "patient": "Felt where the sore structure is: the pain does not travel along a nerve.",
        "clinician": "Local nociceptive pain, felt over the structure that generates it; no nerve root is involved.",
    },
    "somatic_referred": {
        "label": "Somatic referred pain",
        "patient": ("Felt away from where the problem is, because the sore part shares its nerve supply "
                    "with the skin and muscles where you feel it. It is not a trapped nerve: no numbness, "
                    "no weakness."),
        "clinician": ("Somatic referred pain: nociception from a deep structure (joint, muscle) is felt in areas "
                      "that share its segmental supply, by convergence in the dorsal horn; not radicular, "
                      "not dermatomal, no neurological deficit."),
    },
    "radicular": {
        "label": "Radicular (nerve root) pain",
        "patient": ("A nerve root is irritated where it leaves the spine, and the pain shoots along that nerve "
                    "into the leg; numbness, pins and needles or weakness can come with it."),
        "clinician": ("Radicular pain: ectopic discharge from an irritated or compressed nerve root or dorsal "
                      "root ganglion, felt along the nerve; deficits follow the root's dermatome and myotome."),
    },
    "nerve_entrapment": {
        "label": "Trapped nerve (away from the spine)",
        "patient": ("A nerve is squeezed on its way through the hip or pelvis, so pain, burning or numbness is "
                    "felt in the patch of skin that nerve supplies. The spine is not the cause."),
        "clinician": ("Entrapment neuropathy of a peripheral nerve: neuropathic symptoms in that nerve's "
                      "territory, distal to the entrapment site; the root is not involved."),
    },
    "vascular": {
        "label": "Pain from a blood vessel",
        "patient": ("The pain comes from the blood supply: a narrowed artery starves the muscles of blood when "
                    "they work, or a swollen artery stretches its wall. Nerves and joints are not the cause."),
        "clinician": ("Vascular pain: exertional muscle ischaemia distal to an arterial stenosis, or visceral pain "
                      "from an expanding aneurysm referred to the back, flank or groin."),
    },
}
#: Kinds whose path travels along a nerve.
NERVE_KINDS = ("radicular", "nerve_entrapment")
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

    ``kind`` says how the pain travels (DESIGN.md section 5, `PATH_KINDS`): a **local** path
    lights only the structures that hurt (tendon, bursa, muscle, joint, bone); a **somatic
    referred** path lights the source and the nerve that supplies it (shared segmental supply,
    never a nerve root); a **radicular** path runs from the spine through the nerve root (or the
    cauda equina) along the nerve; a **nerve_entrapment** path runs along a peripheral nerve from
    its trap; a **vascular** path follows the blood supply. Only radicular paths pass a nerve
    root (`passes_root`); the knowledge loader enforces it.
    """

    condition: str
    side: str | None
    mechanism: str
    mechanism_label: str
    kind: str  # local, somatic_referred, radicular, nerve_entrapment or vascular (`PATH_KINDS`)
    kind_label: str
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
        """Pain travels along a nerve (radicular or entrapment), lit from the spine or trap outwards."""
        return self.kind in NERVE_KINDS

    @property
    def passes_root(self) -> bool:
        """Whether a nerve root (or the cauda equina) is on the path: only radicular paths do."""
        from hipviz.knowledge.loader import is_root_structure

        return any(is_root_structure(s.base_id) for s in self.steps)

    @property
    def kind_explanation(self) -> dict[str, str]:
        """What this kind of path means, in both registers."""
        k = PATH_KINDS[self.kind]
        return {"patient": k["patient"], "clinician": k["clinician"]}

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
            "mechanism_label": self.mechanism_label, "kind": self.kind, "kind_label": self.kind_label,
            "kind_explanation": self.kind_explanation, "segments": list(self.segments),
            "steps": [s.to_dict() for s in self.steps], "zone": [z.to_dict() for z in self.zone],
            "side_rule": self.side_rule, "pattern_basis": self.pattern_basis,
            "pattern_basis_label": self.pattern_basis_label, "why": self.why, "explanation": dict(self.explanation),
        }


def _role(base_id: str, kind: str, mechanism: str, supplies: bool = False, path_kind: str = "") -> str:
    radicular = path_kind == "radicular"
    if radicular and (base_id.startswith("vertebra_") or base_id == "sacrum"):
        return "spinal segment"
    if base_id.startswith("nerve_root_"):
        return "nerve root leaving its foramen"
    if base_id == "cauda_equina":
        return "nerve roots in the spinal canal"
    if kind == "nerve":
        if base_id in _CUTANEOUS:
            return "cutaneous nerve"
        return "nerve supplying it" if supplies and path_kind not in NERVE_KINDS else "nerve"
    if kind == "muscle":
        if mechanism == "tendon":
            return "muscle and its tendon"
        if path_kind == "nerve_entrapment":
            return "muscle at the entrapment site"
        if path_kind == "vascular":
            return "muscle short of blood"
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


def _join_names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and the " + names[-1] if len(names) > 1 else names[0]


#: Regions over the spine: pain there is felt at the spine, never carried there along a leg nerve.
AXIAL_REGIONS = frozenset({"low_back_central", "low_back_paraspinal"})


def _why(entry, steps: tuple[PathStep, ...], zone: tuple[ZoneRegion, ...]) -> str:
    c = entry.condition
    kind = c.referral_path.path_kind
    segs = _segments_text(c.referral_path.segments)
    main = [_lower(z.label) for z in zone if z.weight >= PATTERN_THRESHOLD][:4] or [_lower(zone[0].label)]
    where = ", ".join(main)
    if kind == "local":
        names = list(dict.fromkeys(_lower(s.name) for s in steps))
        return (f"Local pain: it comes from the {_join_names(names)} and is felt where "
                f"{'they are' if len(names) > 1 else 'it is'}, not along a nerve: the {where}.")
    if kind == "vascular":
        vessel = next((s for s in steps if s.kind == "vessel"), steps[0])
        rest = [_lower(s.name) for s in steps if s is not vessel]
        if not rest:
            return (f"Pain from a blood vessel, not from a nerve or a joint: it comes from the {_lower(vessel.name)} "
                    f"and is felt in the {where}.")
        return (f"Pain from the blood supply, not from a nerve or a joint: the path follows the blood from the "
                f"{_lower(vessel.name)} to the {_join_names(rest)}; it is felt in the {where}.")
    if kind in NERVE_KINDS:
        nerves = [_lower(s.name) for s in steps if s.kind == "nerve"]
        if not nerves:  # a root the atlas does not draw: the path lights the vertebrae of its foramen
            bones = [s.name for s in steps if s.kind == "bone"]
            between = " and ".join(bones) if bones else "vertebrae"
            return (f"Pain follows the nerve: {segs} fibres leave the spine between the {between} (this root and "
                    f"its nerves are not drawn in the atlas) and reach the {where}.")
        start = f" from the {_lower(steps[0].name)}" if steps[0].kind != "nerve" else ""
        via = ", ".join(nerves[:-1]) + " and the " + nerves[-1] if len(nerves) > 1 else nerves[0] if nerves else ""
        # the nerve reaches the buttock and leg; back pain in the same pattern comes from the spine
        # itself (disc, joints), not along the nerve
        limb = [z for z in zone if z.region not in AXIAL_REGIONS]
        axial = len(limb) < len(zone)
        reach = [_lower(z.label) for z in limb if z.weight >= PATTERN_THRESHOLD][:4] or [_lower(z.label) for z in limb[:1]]
        if not reach:
            return f"Pain follows the nerve: {segs} fibres run{start} through the {via} to the {where}."
        return (f"Pain follows the nerve: {segs} fibres run{start} through the {via}, and the pain is felt along "
                f"their course and in their territory: the {', '.join(reach)}"
                + (". Pain in the low back comes from the spine itself, not along the nerve." if axial else "."))
    # somatic referred: shared segmental supply, not a trapped nerve
    src = next((s for s in steps if s.kind != "nerve"), steps[0])
    info = catalog().structures[src.base_id]
    nerves = [_lower(s.name) for s in steps if s.kind == "nerve"]
    if info.innervation:
        head = f"{src.name} is supplied by the {info.innervation} ({_segments_text(info.segments) or segs})"
    elif nerves:
        head = f"{src.name} is supplied through the {_join_names(nerves)} ({segs})"
    else:
        head = f"{src.name} is supplied by segments {segs}"
    return (f"Somatic referred pain: the {_lower(head)}; "
            f"its pain is felt where those segments also supply, not along a trapped nerve: the {where}.")


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
        role = _role(base, s.kind, rp.mechanism, _supplies(s.name, source), rp.path_kind)
        steps.append(PathStep(
            index=i, atlas_ids=ids, base_id=base, name=s.name, kind=s.kind, role=role,
            segments=tuple(s.segments), carries=tuple(x for x in s.segments if x in path_segs), innervation=s.innervation,
        ))
    steps = tuple(steps)
    zone = _zone(e, side)
    return ReferralPath(
        condition=condition_id, side=side, mechanism=rp.mechanism, mechanism_label=MECHANISM_LABELS[rp.mechanism],
        kind=rp.path_kind, kind_label=PATH_KINDS[rp.path_kind]["label"], segments=tuple(rp.segments), steps=steps, zone=zone, side_rule=e.pattern.side_rule,
        pattern_basis=e.pattern.basis, pattern_basis_label=BASIS_LABELS[e.pattern.basis],
        why=(rp.why.strip() if rp.why else _why(e, steps, zone)),
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
    return painted_intensity_on(painmap, _atlas(atlas).skin_labels())


def painted_intensity_on(painmap: PainMap, labels) -> np.ndarray:
    """`painted_intensity` on given skin labels (callers that hold the labels already)."""
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


@cache
def _view_directions() -> dict[str, np.ndarray]:
    from importlib import resources

    import yaml

    # The presets are data (render/views.yaml); read them without importing the render package.
    # Close-ups (they name their own layers) show one hip's anatomy and are never suggested.
    raw = yaml.safe_load(resources.files("hipviz").joinpath("render", "views.yaml").read_text("utf-8"))
    out = {}
    for name, v in raw["views"].items():
        if "layers" in v:
            continue
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
    if d.side:  # a structure on one side refers to its own side (and the midline), even for a
        # condition that can affect both sides (axial spondyloarthritis and the sacroiliac joints)
        other = SIDE_CODES["right" if d.side == "left" else "left"]
        out = np.where(np.asarray(a.skin_label_arrays["side"]) == other, np.float32(0), out).astype(np.float32)
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


#: Words left out of a condition search ("bursitis of the hip" finds what "hip bursitis" finds).
_STOPWORDS = frozenset({"a", "an", "the", "of", "in", "on", "my", "and", "or", "to", "with", "at"})


def _words(text: str) -> list[str]:
    return [w for w in str(text).lower().replace("-", " ").replace("/", " ").split() if w and w not in _STOPWORDS]


def search_conditions_matches(text: str) -> list[tuple[str, str | None]]:
    """(condition id, everyday word or None) for conditions whose names, id or everyday words
    ("tendonitis", "sciatica", "slipped disc", ...) contain every word of `text`
    (case-insensitive; little words such as "of" and "the" are ignored). Conditions matched by
    their own names come first; the word is given when only an everyday word matched."""
    from hipviz.knowledge.loader import knowledge

    words = _words(text)
    by_name, by_word = [], []
    for cid, e in knowledge().items():
        c = e.condition
        hay = " ".join([cid.replace("_", " "), c.names.patient, c.names.clinician]).lower().replace("-", " ")
        if all(w in hay for w in words):
            by_name.append((cid, None))
            continue
        for ew in c.everyday_words:
            if all(w in ew.word.lower().replace("-", " ") for w in words):
                by_word.append((cid, ew.word))
                break
    return by_name + by_word


def search_conditions(text: str) -> list[str]:
    """Condition ids whose names, id or everyday words contain every word of `text`
    (see `search_conditions_matches`)."""
    return [cid for cid, _ in search_conditions_matches(text)]


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
