"""Geometry helpers for the atlas build: frames, fits, refinement, and procedural shapes.

Every shape generator returns a closed, consistently oriented triangle surface (vertices,
faces) so muscles, bursae and nerves are watertight like the bones.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.interpolate import splev, splprep
from scipy.spatial import cKDTree

Mesh = tuple[np.ndarray, np.ndarray]


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def apply(T: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 4x4 (or 3x4) affine transform to points (n, 3)."""
    pts = np.asarray(pts, float)
    return pts @ T[:3, :3].T + T[:3, 3]


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares 4x4 affine transform taking landmark points src onto dst."""
    A = np.hstack([src, np.ones((len(src), 1))])
    X, *_ = np.linalg.lstsq(A, dst, rcond=None)
    T = np.eye(4)
    T[:3, :4] = X.T
    return T


def fit_sphere(pts: np.ndarray) -> tuple[np.ndarray, float]:
    """Algebraic least-squares sphere through points: (centre, radius)."""
    A = np.hstack([2 * pts, np.ones((len(pts), 1))])
    b = (pts**2).sum(1)
    sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    c = sol[:3]
    return c, float(np.sqrt(sol[3] + c @ c))


def clean(v: np.ndarray, f: np.ndarray) -> Mesh:
    """Merge coincident vertices, drop degenerate faces, fix winding so normals point out."""
    m = trimesh.Trimesh(v, f, process=True, validate=True)
    trimesh.repair.fix_normals(m)
    return np.asarray(m.vertices), np.asarray(m.faces)


def refine(v: np.ndarray, f: np.ndarray, levels: int = 1, smooth: int = 10) -> Mesh:
    """Loop-subdivide a coarse surface and Taubin-smooth it so it renders smoothly."""
    m = trimesh.Trimesh(v, f, process=True)
    for _ in range(levels):
        vv, ff = trimesh.remesh.subdivide_loop(m.vertices, m.faces)
        m = trimesh.Trimesh(vv, ff, process=True)
    if smooth:
        trimesh.smoothing.filter_taubin(m, lamb=0.5, nu=-0.53, iterations=smooth)
    trimesh.repair.fix_normals(m)
    return np.asarray(m.vertices), np.asarray(m.faces)


def smooth_curve(points: np.ndarray, n: int, smoothing: float = 0.0) -> np.ndarray:
    """n points along a smooth spline through (or near) the control points."""
    pts = np.asarray(points, float)
    keep = np.r_[True, np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6]
    pts = pts[keep]  # the spline fit rejects repeated points
    k = min(3, len(pts) - 1)
    tck, _ = splprep(pts.T, s=smoothing, k=k)
    return np.asarray(splev(np.linspace(0, 1, n), tck)).T


def _frames(path: np.ndarray, up_hint: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotation-minimising frames (tangent, normal, binormal) along a polyline."""
    t = np.gradient(path, axis=0)
    t = unit(t)
    ref = np.asarray(up_hint if up_hint is not None else [0.0, 0.0, 1.0], float)
    if abs(ref @ t[0]) > 0.9:
        ref = np.array([1.0, 0.0, 0.0])
    n0 = unit(np.cross(t[0], ref))
    normals = [n0]
    for i in range(1, len(path)):
        n = normals[-1] - (normals[-1] @ t[i]) * t[i]
        normals.append(unit(n))
    nrm = np.asarray(normals)
    return t, nrm, np.cross(t, nrm)


def tube(path: np.ndarray, radius, sides: int = 16, flatten: float = 1.0, up_hint=None) -> Mesh:
    """A closed tube along a path; radius may vary per path point; flatten < 1 makes it oval."""
    path = np.asarray(path, float)
    r = np.broadcast_to(np.asarray(radius, float), (len(path),))
    t, n, b = _frames(path, up_hint)
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = (np.cos(ang)[None, :, None] * n[:, None, :] * flatten + np.sin(ang)[None, :, None] * b[:, None, :])
    verts = path[:, None, :] + r[:, None, None] * ring
    m = len(path)
    v = verts.reshape(-1, 3)
    faces = []
    for i in range(m - 1):
        for j in range(sides):
            a, bb = i * sides + j, i * sides + (j + 1) % sides
            c, d = a + sides, bb + sides
            faces += [[a, bb, d], [a, d, c]]
    start, end = len(v), len(v) + 1
    v = np.vstack([v, path[0], path[-1]])
    for j in range(sides):
        faces.append([start, (j + 1) % sides, j])
        faces.append([end, (m - 1) * sides + j, (m - 1) * sides + (j + 1) % sides])
    return clean(v, np.asarray(faces))


def ellipsoid(centre, axes: np.ndarray, radii, subdivisions: int = 3) -> Mesh:
    """An ellipsoid with the given orthonormal axes (rows) and semi-axis lengths."""
    s = trimesh.creation.icosphere(subdivisions=subdivisions)
    v = (np.asarray(s.vertices) * np.asarray(radii)) @ np.asarray(axes) + np.asarray(centre)
    return clean(v, np.asarray(s.faces))


def slab(deep: np.ndarray, thickness: np.ndarray, outward: np.ndarray) -> Mesh:
    """A closed volume from a (nu, nv, 3) grid of deep-surface points, thickened along `outward`.

    Used for the flat muscles: the deep sheet lies on the bone, the superficial sheet sits
    `thickness` (nu, nv) further out, and the four edges are closed with side walls.
    """
    nu, nv, _ = deep.shape
    top = deep + thickness[..., None] * outward
    v = np.vstack([deep.reshape(-1, 3), top.reshape(-1, 3)])
    off = nu * nv
    idx = np.arange(off).reshape(nu, nv)
    faces = []
    for i in range(nu - 1):
        for j in range(nv - 1):
            a, b, c, d = idx[i, j], idx[i + 1, j], idx[i + 1, j + 1], idx[i, j + 1]
            faces += [[a, c, b], [a, d, c], [a + off, b + off, c + off], [a + off, c + off, d + off]]
    border = list(idx[:, 0]) + list(idx[-1, 1:]) + list(idx[::-1, -1][1:]) + list(idx[0, ::-1][1:-1])
    for k in range(len(border)):
        a, b = border[k], border[(k + 1) % len(border)]
        faces += [[a, b, b + off], [a, b + off, a + off]]
    return clean(v, np.asarray(faces))


class Obstacles:
    """Surfaces that generated soft tissue must not enter (bones, deeper muscles)."""

    def __init__(self, meshes: list[Mesh]):
        pts, nrm = [], []
        for v, f in meshes:
            m = trimesh.Trimesh(v, f, process=False)
            samples, fid = trimesh.sample.sample_surface_even(m, max(2000, len(f) * 2), seed=7)
            pts += [np.asarray(m.vertices), samples]
            nrm += [np.asarray(m.vertex_normals), np.asarray(m.face_normals)[fid]]
        self.points = np.vstack(pts)
        self.normals = np.vstack(nrm)
        self.tree = cKDTree(self.points)

    def push_out(self, p: np.ndarray, clearance: float, iterations: int = 4, k: int = 8) -> np.ndarray:
        """Move points that lie inside or within `clearance` of an obstacle out along its normal."""
        p = np.array(p, float)
        shape = p.shape
        p = p.reshape(-1, 3)
        for _ in range(iterations):
            d, i = self.tree.query(p, k=k)
            q = self.points[i]
            n = unit(self.normals[i].mean(1))
            depth = clearance - ((p[:, None, :] - q) * n[:, None, :]).sum(-1).min(1)
            move = np.where(d[:, 0] < clearance * 3 + 0.02, np.maximum(depth, 0.0), 0.0)
            if not move.any():
                break
            p += move[:, None] * n
        return p.reshape(shape)

    def nearest(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, i = self.tree.query(np.asarray(p, float))
        return self.points[i], self.normals[i]


def refine_region(v: np.ndarray, f: np.ndarray, selected: np.ndarray) -> Mesh:
    """Split the selected triangles in four and their neighbours in two or three (red-green
    refinement), so the finer region joins the rest without cracks."""
    edges = np.sort(np.stack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]], axis=1), axis=2)  # (m, 3, 2)
    flat = edges.reshape(-1, 2)
    uniq, inv = np.unique(flat, axis=0, return_inverse=True)
    inv = inv.reshape(-1, 3)
    split = np.zeros(len(uniq), bool)
    split[inv[selected].ravel()] = True
    mid_index = np.full(len(uniq), -1)
    mid_index[split] = len(v) + np.arange(split.sum())
    v2 = np.vstack([v, v[uniq[split]].mean(axis=1)])
    out = []
    for face, ei in zip(f, inv):
        a, b, c = face
        m = mid_index[ei]  # midpoints of edges ab, bc, ca (or -1)
        k = int((m >= 0).sum())
        if k == 0:
            out.append([a, b, c])
        elif k == 3:
            ab, bc, ca = m
            out += [[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]
        elif k == 1:
            j = int(np.argmax(m >= 0))
            p, q, r = np.roll([a, b, c], -j)
            out += [[p, m[j], r], [m[j], q, r]]
        else:  # two split edges: the unsplit one is opposite vertex t
            j = int(np.argmin(m >= 0))
            p, q, r = np.roll([a, b, c], -j)  # edge p-q unsplit; q-r and r-p split
            mqr, mrp = m[(j + 1) % 3], m[(j + 2) % 3]
            out += [[mqr, r, mrp], [p, q, mqr], [p, mqr, mrp]]
    return v2, np.asarray(out, np.int64)
