"""Bones in the OpenSim pelvis frame (metres; +x anterior, +y superior, +z subject's right).

Hip bones, sacrum and femora come from the GIAS3 mean shapes; L1-L5 from myo-sim's OpenSim
meshes, carried onto the GIAS3 pelvis with a landmark fit and refined. The same fit carries the
muscle attachments and nerve waypoints of anatomy-facts/ (given on OpenSim's own pelvis).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from hipviz.atlas.build import sources
from hipviz.atlas.build.geometry import Mesh, apply, fit_affine, fit_sphere, refine, unit

ATLAS_DIR = "musculoskeletal/models/atlas_meshes/"
PELVIS = ("pelvis_combined_cubic_mean_rigid_LLP26.geof", "pelvis_combined_cubic_flat.ens", "pelvis_combined_cubic_flat.mesh")
FEMUR_LEFT = ("femur_left_mean_rigid_LLP26.geof", "femur_left_quartic_flat.ens", "femur_left_quartic_flat.mesh")
# GIAS3 pelvis landmark nodes (fw_model_landmarks.py in gias3.musculoskeletal).
NODES = {"RASIS": 466, "LASIS": 1004, "RPSIS": 384, "LPSIS": 924}
SIDES = {"right": 1.0, "left": -1.0}


@dataclass
class Skeleton:
    meshes: dict[str, Mesh] = field(default_factory=dict)       # atlas id -> (v, f)
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)  # name_side -> point
    opensim_to_atlas: np.ndarray = field(default_factory=lambda: np.eye(4))
    lumbar_transform: np.ndarray = field(default_factory=lambda: np.eye(4))  # OpenSim lumbar -> atlas
    facts: Path | None = None

    def side_point(self, name: str, side: str) -> np.ndarray:
        return self.landmarks[f"{name}_{side}"]


def pelvis_frame(nodes: np.ndarray) -> np.ndarray:
    """4x4 transform from GIAS3 CT millimetres to the pelvis frame in metres."""
    rasis, lasis, rpsis, lpsis = (nodes[NODES[k]] for k in ("RASIS", "LASIS", "RPSIS", "LPSIS"))
    origin = (rasis + lasis) / 2
    z = unit(rasis - lasis)
    x = origin - (rpsis + lpsis) / 2
    x = unit(x - (x @ z) * z)
    y = np.cross(z, x)
    R = np.vstack([x, y, z])  # rows: new axes in CT coordinates
    T = np.eye(4)
    T[:3, :3] = R / 1000.0
    T[:3, 3] = -R @ origin / 1000.0
    return T


def _load_facts(facts: Path, name: str) -> dict:
    return json.loads((facts / name).read_text())


def _femoral_head(v: np.ndarray, n: np.ndarray, side: float) -> tuple[np.ndarray, float]:
    """Sphere fit of the femoral head: the medial part of the top of the femur, refined on normals."""
    top = v[:, 1] > v[:, 1].max() - 0.06
    medial = top & (v[:, 2] * side < np.percentile(v[top, 2] * side, 35))
    c, r = fit_sphere(v[medial])
    for _ in range(3):
        d = v - c
        dist = np.linalg.norm(d, axis=1)
        sel = (dist < r * 1.25) & ((d / dist[:, None] * n).sum(1) > 0.85)
        c, r = fit_sphere(v[sel])
    return c, r


def _acetabulum(v: np.ndarray, n: np.ndarray, guess: np.ndarray, r_head: float) -> tuple[np.ndarray, float]:
    """Sphere fit of the acetabulum: hip-bone surface facing the femoral head near its guess."""
    c = guess
    r = r_head
    for _ in range(4):
        d = c - v
        dist = np.linalg.norm(d, axis=1)
        sel = (dist < r + 0.015) & ((d / dist[:, None] * n).sum(1) > 0.7)
        if sel.sum() < 30:
            break
        c, r = fit_sphere(v[sel])
    return c, r


def build_skeleton(wheels: dict[str, sources.Wheel], facts: Path) -> Skeleton:
    sk = Skeleton(facts=facts)
    (pv_, pf, pnodes), (fv, ff, _) = sources.gias_surfaces(
        wheels, [tuple(ATLAS_DIR + m for m in PELVIS), tuple(ATLAS_DIR + m for m in FEMUR_LEFT)]
    )
    T = pelvis_frame(pnodes)
    pelvis = trimesh.Trimesh(apply(T, pv_), pf, process=True)
    parts = sorted(pelvis.split(only_watertight=True), key=lambda m: m.centroid[2])
    if len(parts) != 3:
        raise RuntimeError(f"expected 3 closed pelvis parts (hip bones, sacrum), got {len(parts)}")
    for m in parts:
        trimesh.repair.fix_normals(m)
    sk.meshes["hip_bone_left"] = (np.asarray(parts[0].vertices), np.asarray(parts[0].faces))
    sk.meshes["sacrum"] = (np.asarray(parts[1].vertices), np.asarray(parts[1].faces))
    sk.meshes["hip_bone_right"] = (np.asarray(parts[2].vertices), np.asarray(parts[2].faces))

    femur_l = trimesh.Trimesh(apply(T, fv), ff, process=True)
    trimesh.repair.fix_normals(femur_l)
    # The package's "mirrored right femur" sits on the wrong side: mirror the left across the midline.
    femur_r = trimesh.Trimesh(np.asarray(femur_l.vertices) * [1, 1, -1], np.asarray(femur_l.faces)[:, ::-1], process=True)
    for side, fem in (("left", femur_l), ("right", femur_r)):
        s = SIDES[side]
        hv, hf = sk.meshes[f"hip_bone_{side}"]
        hip = trimesh.Trimesh(hv, hf, process=False)
        head_c, head_r = _femoral_head(np.asarray(fem.vertices), np.asarray(fem.vertex_normals), s)
        acet_c, acet_r = _acetabulum(hv, np.asarray(hip.vertex_normals), head_c, head_r)
        fem.apply_translation(acet_c - head_c)  # seat the head in its socket
        # The CT femur lies ~9 degrees flexed; bring it to OpenSim's neutral pose, where the knee
        # centre sits almost straight below the hip centre (femur frame knee at x = -0.0045 m).
        fvv = np.asarray(fem.vertices)
        knee = fvv[fvv[:, 1] < fvv[:, 1].min() + 0.03].mean(0) - acet_c
        angle = np.arctan2(-0.0045, 0.396) - np.arctan2(knee[0], -knee[1])
        fem.apply_transform(trimesh.transformations.rotation_matrix(angle, [0, 0, 1], acet_c))
        fv2 = np.asarray(fem.vertices)
        sk.meshes[f"femur_{side}"] = (fv2, np.asarray(fem.faces))
        lm = sk.landmarks
        lm[f"acetabulum_centre_{side}"] = acet_c
        lm[f"femoral_head_radius_{side}"] = np.array([head_r])
        lm[f"ASIS_{side}"] = apply(T, pnodes[NODES["RASIS" if side == "right" else "LASIS"]][None])[0]
        lm[f"PSIS_{side}"] = apply(T, pnodes[NODES["RPSIS" if side == "right" else "LPSIS"]][None])[0]
        lm[f"iliac_crest_top_{side}"] = hv[np.argmax(hv[:, 1])]
        lm[f"ischial_tuberosity_{side}"] = hv[np.argmin(hv[:, 1])]
        lateral = fv2[:, 2] * s > acet_c[2] * s + 0.03
        prox = fv2[:, 1] > acet_c[1] - 0.12
        gt = fv2[lateral & prox]
        lm[f"greater_trochanter_tip_{side}"] = gt[np.argmax(gt[:, 1])]
        lm[f"greater_trochanter_lateral_{side}"] = gt[np.argmax(gt[:, 2] * s)]
        lm[f"femur_distal_{side}"] = fv2[fv2[:, 1] < fv2[:, 1].min() + 0.03].mean(0)
    sv = sk.meshes["sacrum"][0]
    sk.landmarks["sacrum_top"] = sv[np.argmax(sv[:, 1])]
    sk.landmarks["sacrum_apex"] = sv[np.argmin(sv[:, 1])]

    sk.opensim_to_atlas = _opensim_fit(sk, facts)
    _add_vertebrae(sk, wheels, facts)
    return sk


def _opensim_fit(sk: Skeleton, facts: Path) -> np.ndarray:
    """Affine map from OpenSim's pelvis frame onto this atlas, fitted on paired bony landmarks."""
    bony = _load_facts(facts, "bony_landmarks_pelvis_frame.json")
    lm, hjc = bony["landmarks"], np.asarray(bony["hip_joint_centre_r"])
    pairs = {
        "ASIS": lm["ASIS_r_bone"],
        "PSIS": lm["PSIS_r_bone"],
        "iliac_crest_top": lm["iliac_crest_top_r"],
        "ischial_tuberosity": lm["ischial_tuberosity_r"],
        "acetabulum_centre": hjc,
        "greater_trochanter_tip": lm["greater_trochanter_tip_r(pelvis frame, neutral)"],
    }
    src, dst = [], []
    for side, s in SIDES.items():
        for name, p in pairs.items():
            src.append(np.asarray(p) * [1, 1, s])
            dst.append(sk.side_point(name, side))
    return fit_affine(np.asarray(src), np.asarray(dst))


def _add_vertebrae(sk: Skeleton, wheels: dict[str, sources.Wheel], facts: Path) -> None:
    """L1-L5 from myo-sim at their OpenSim placement, translated (not rotated) onto the sacrum.

    The affine pelvis fit is good near the pelvis but tilts a column that reaches 20 cm above it;
    both pelvis frames are built from the same landmarks, so OpenSim's orientation carries over.
    """
    transforms = _load_facts(facts, "mesh_transforms_pelvis_frame.json")["transforms"]
    myo = wheels["myo-sim"]
    placed = {}
    for k in range(1, 6):
        v, f = sources.read_stl(myo.read(f"myo_sim/models/meshes/lumbar{k}.stl"))
        Tstl = np.asarray(transforms[f"lumbar{k}.stl"]["T_pelvisframe_from_stl"])
        placed[k] = refine(apply(Tstl, v), f, levels=2, smooth=10)
    # Seat the column: L5's lowest body point ~1 cm (a disc) above the centre of S1's endplate.
    sv = sk.meshes["sacrum"][0]
    endplate = sv[(np.abs(sv[:, 2]) < 0.012) & (sv[:, 1] > np.percentile(sv[:, 1], 90))]
    s1 = endplate[np.argmax(endplate[:, 1])]
    l5 = placed[5][0]
    body = l5[(l5[:, 0] > np.percentile(l5[:, 0], 60)) & (np.abs(l5[:, 2]) < 0.012)]
    low = body[np.argmin(body[:, 1])]
    shift = np.array([s1[0] - low[0], s1[1] + 0.010 - low[1], 0.0])
    for k, (v, f) in placed.items():
        sk.meshes[f"vertebra_l{k}"] = (v + shift, f)
    T = np.eye(4)
    T[:3, 3] = shift
    sk.lumbar_transform = T
