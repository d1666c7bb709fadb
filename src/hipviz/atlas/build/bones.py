"""The skeleton in the hipviz body frame (metres; +x anterior, +y superior, +z subject's right).

Every bone comes from the BodyParts3D pack as it is placed there; the coarse ones (hip bones,
femora, patellae, tibiae, fibulae, discs) are refined and smoothed within about a millimetre
of the source. Landmarks (hip centres, ASIS, PSIS, trochanters, sciatic notch, knees, ankles...)
are measured on these bones and drive the generated structures and the skin labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from hipviz.atlas.build.bp3d import Pack, merge
from hipviz.atlas.build.geometry import Mesh, decimate, fit_sphere, smooth_refine

SIDES = {"right": 1.0, "left": -1.0}

# atlas id (side suffix added) -> FMA ids (right, left); several ids are merged into one mesh
SIDED_BONES = {
    "hip_bone": ((16586,), (16587,)),
    "femur": ((24474,), (24475,)),
    "patella": ((24486,), (24487,)),
    "tibia": ((24477,), (24478,)),
    "fibula": ((24480,), (24481,)),
    "foot_bones": (
        (24482, 24497, 24500, 24528, 24521, 24523, 24525, 24507, 24509, 24511, 24513, 24515, 43253, 32634, 32636,
         32638, 32640, 32642, 32644, 32646, 230986, 32650, 32652, 32654, 32656, 32658, 45097),
        (24483, 24498, 24501, 24529, 24522, 24524, 24526, 24508, 24510, 24512, 24514, 24516, 43254, 32635, 32637,
         32639, 32641, 32643, 32645, 32647, 230988, 32651, 32653, 32655, 32657, 32659, 45098),
    ),
    "rib_11": ((8531,), (8532,)),
    "rib_12": ((8533,), (8534,)),
}
MIDLINE_BONES = {
    "sacrum": (16202,), "vertebra_l1": (13072,), "vertebra_l2": (13073,), "vertebra_l3": (13074,),
    "vertebra_l4": (13075,), "vertebra_l5": (13076,), "vertebra_t10": (10037,), "vertebra_t11": (10059,),
    "vertebra_t12": (10081,),
    "disc_t10_t11": (13507,), "disc_t11_t12": (13508,), "disc_t12_l1": (13509,), "disc_l1_l2": (16033,),
    "disc_l2_l3": (16034,), "disc_l3_l4": (16035,), "disc_l4_l5": (16036,), "disc_l5_s1": (16037,),
}
# refined (subdivided and smoothed) then brought back to about this many triangles
REFINE = {"hip_bone": 6000, "femur": 6000, "patella": 900, "tibia": 4000, "fibula": 2400}
# plain reduction of dense bones (triangle targets)
REDUCE = {"foot_bones": 9000, "rib_11": 1800, "rib_12": 1200, "sacrum": 8000}
DISC_TRIANGLES = 1400


@dataclass
class Skeleton:
    meshes: dict[str, Mesh] = field(default_factory=dict)          # atlas id -> (v, f)
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)  # name_side -> point
    points: dict[str, np.ndarray] = field(default_factory=dict)     # name_side -> point set (not in the manifest)

    def side_point(self, name: str, side: str) -> np.ndarray:
        return self.landmarks[f"{name}_{side}"]


def _femoral_head(v: np.ndarray, n: np.ndarray, side: float) -> tuple[np.ndarray, float]:
    """Sphere fit of the femoral head: the medial part of the top of the femur, refined on normals."""
    top = v[:, 1] > v[:, 1].max() - 0.06
    medial = top & (v[:, 2] * side < np.percentile(v[top, 2] * side, 35))
    c, r = fit_sphere(v[medial])
    for _ in range(4):
        d = v - c
        dist = np.linalg.norm(d, axis=1)
        sel = (dist < r * 1.25) & ((d / dist[:, None] * n).sum(1) > 0.85)
        c, r = fit_sphere(v[sel])
    return c, r


def build_skeleton(pack: Pack) -> Skeleton:
    sk = Skeleton()
    for base, (right, left) in SIDED_BONES.items():
        for side, fmas in (("right", right), ("left", left)):
            v, f = pack.meshes(fmas)
            if base in REFINE:
                v, f = smooth_refine(v, f, REFINE[base])
            elif base in REDUCE:
                v, f = decimate(v, f, REDUCE[base])
            sk.meshes[f"{base}_{side}"] = (v, f)
    for aid, fmas in MIDLINE_BONES.items():
        v, f = pack.meshes(fmas)
        if aid.startswith("disc"):
            v, f = smooth_refine(v, f, DISC_TRIANGLES)
        elif aid in REDUCE:
            v, f = decimate(v, f, REDUCE[aid])
        sk.meshes[aid] = (v, f)
    _landmarks(sk)
    for side, fmas in (("right", (43253, 32650)), ("left", (43254, 32651))):  # phalanges of the big toe
        sk.points[f"big_toe_{side}"] = pack.meshes(fmas)[0]
    return sk


def _landmarks(sk: Skeleton) -> None:
    lm = sk.landmarks
    for side, s in SIDES.items():
        hv, hf = sk.meshes[f"hip_bone_{side}"]
        fv, ff = sk.meshes[f"femur_{side}"]
        fn = np.asarray(trimesh.Trimesh(fv, ff, process=False).vertex_normals)
        c, r = _femoral_head(fv, fn, s)
        lm[f"acetabulum_centre_{side}"] = c
        lm[f"femoral_head_radius_{side}"] = np.array([r])
        up = hv[hv[:, 1] > c[1] + 0.03]
        lm[f"ASIS_{side}"] = up[np.argmax(up[:, 0])]
        lm[f"PSIS_{side}"] = up[np.argmin(up[:, 0])]
        lm[f"iliac_crest_top_{side}"] = hv[np.argmax(hv[:, 1])]
        low = hv[hv[:, 0] < c[0] - 0.01]
        lm[f"ischial_tuberosity_{side}"] = low[np.argmin(low[:, 1])]
        lateral = fv[:, 2] * s > c[2] * s + 0.03
        prox = fv[:, 1] > c[1] - 0.12
        gt = fv[lateral & prox]
        lm[f"greater_trochanter_tip_{side}"] = gt[np.argmax(gt[:, 1])]
        lm[f"greater_trochanter_lateral_{side}"] = gt[np.argmax(gt[:, 2] * s)]
        lm[f"femur_distal_{side}"] = fv[fv[:, 1] < fv[:, 1].min() + 0.03].mean(0)
        lm[f"knee_{side}"] = lm[f"femur_distal_{side}"] + [0, 0.012, 0]
        tv = sk.meshes[f"tibia_{side}"][0]
        bv = sk.meshes[f"fibula_{side}"][0]
        med_mall = tv[np.argmin(tv[:, 1])]
        lat_mall = bv[np.argmin(bv[:, 1])]
        lm[f"medial_malleolus_{side}"] = med_mall
        lm[f"lateral_malleolus_{side}"] = lat_mall
        lm[f"ankle_{side}"] = (med_mall + lat_mall) / 2 + [0, 0.012, 0]
        top = bv[bv[:, 1] > bv[:, 1].max() - 0.02]
        lm[f"fibular_head_{side}"] = top[np.argmax(top[:, 2] * s)]
    sv = sk.meshes["sacrum"][0]
    lm["sacrum_top"] = sv[np.argmax(sv[:, 1])]
    lm["sacrum_apex"] = sv[np.argmin(sv[:, 1])]


def merged(sk: Skeleton, *ids: str) -> Mesh:
    return merge([sk.meshes[i] for i in ids])
