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


def _polydata(v: np.ndarray, f: np.ndarray):
    import pyvista as pv

    return pv.PolyData(np.asarray(v, float), np.hstack([np.full((len(f), 1), 3), np.asarray(f, np.int64)]).ravel())


def _arrays(pd) -> Mesh:
    return np.asarray(pd.points, float), np.asarray(pd.faces).reshape(-1, 4)[:, 1:].astype(np.int64)


def _decimate_one(v: np.ndarray, f: np.ndarray, triangles: int) -> Mesh:
    if len(f) <= triangles:
        return v, f
    import gpytoolbox as gp

    try:  # libigl's QSlim keeps a closed manifold closed
        V, F = gp.decimate(np.ascontiguousarray(v, np.float64), np.ascontiguousarray(f, np.int32), num_faces=int(triangles),
                           method="qslim")[:2]
        m = trimesh.Trimesh(np.asarray(V, float), np.asarray(F, np.int64), process=True)
        if m.is_watertight and m.is_winding_consistent and m.volume > 0:
            return np.asarray(m.vertices), np.asarray(m.faces)
    except Exception:  # noqa: BLE001 - fall back to VTK's decimator below
        pass
    for k in range(8):  # a target that leaves the surface closed (quadric decimation rarely pinches it)
        target = min(len(f), int(triangles * (1 + 0.06 * k)))
        for preserve in (True, False):
            pd = _polydata(v, f).decimate(1.0 - target / len(f), volume_preservation=preserve)
            m = trimesh.Trimesh(*_arrays(pd.clean()), process=True)
            if m.is_watertight and m.is_winding_consistent and m.volume > 0:
                trimesh.repair.fix_normals(m)
                return np.asarray(m.vertices), np.asarray(m.faces)
    return v, f


def decimate(v: np.ndarray, f: np.ndarray, triangles: int) -> Mesh:
    """Quadric decimation (libigl QSlim, else VTK) to about `triangles` triangles, piece by piece,
    kept closed (a piece that cannot be reduced closed is kept as it is)."""
    if len(f) <= triangles:
        return v, f
    m = trimesh.Trimesh(v, f, process=False)
    labels = trimesh.graph.connected_component_labels(m.face_adjacency, node_count=len(f))
    parts = []
    for c in range(labels.max() + 1):
        sel = f[labels == c]
        used, inv = np.unique(sel, return_inverse=True)
        pv_, pf_ = v[used], inv.reshape(-1, 3)
        parts.append(_decimate_one(pv_, pf_, max(60, int(round(triangles * len(pf_) / len(f))))))
    vs, fs, off = [], [], 0
    for pv_, pf_ in parts:
        vs.append(pv_)
        fs.append(pf_ + off)
        off += len(pv_)
    return np.vstack(vs), np.vstack(fs)


def smooth_refine(v: np.ndarray, f: np.ndarray, triangles: int, smooth: int = 3) -> Mesh:
    """Smooth a coarse surface without shrinking it: one interpolating (butterfly) subdivision, a
    light Taubin filter, then quadric decimation to `triangles` (the surface stays within about a
    millimetre of the source while its facets go)."""
    pd = _polydata(v, f).clean().subdivide(1, "butterfly")
    m = trimesh.Trimesh(*_arrays(pd), process=True)
    trimesh.smoothing.filter_taubin(m, lamb=0.5, nu=-0.53, iterations=smooth)
    out = decimate(np.asarray(m.vertices), np.asarray(m.faces), triangles)
    if len(out[1]) > 1.5 * triangles:  # could not be brought down closed: keep the source surface
        return decimate(v, f, triangles)
    return out


def closest_points(points: np.ndarray, v: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance, closest point) from each point to the surface (v, f); exact, AABB tree."""
    import gpytoolbox as gp

    sq, idx, bary = gp.squared_distance(np.asarray(points, float), np.asarray(v, float), np.asarray(f, np.int32),
                                        use_cpp=True, use_aabb=True)
    c = (np.asarray(v, float)[np.asarray(f)[idx]] * bary[:, :, None]).sum(1)
    return np.sqrt(sq), c


def inside(points: np.ndarray, v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """True for points inside the closed surface (v, f): generalised winding number > 0.5."""
    import gpytoolbox as gp

    w = gp.fast_winding_number(np.asarray(points, float), np.asarray(v, float), np.asarray(f, np.int32))
    return np.asarray(w) > 0.5


def signed_depth(points: np.ndarray, v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Distance to the surface, positive inside, negative outside."""
    d, _ = closest_points(points, v, f)
    return np.where(inside(points, v, f), d, -d)


def vertex_adjacency(f: np.ndarray, n: int):
    from scipy.sparse import coo_matrix

    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    e = np.vstack([e, e[:, ::-1]])
    A = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    A.data[:] = 1.0
    return A, np.asarray(A.sum(1)).ravel()


def pull_inside(v: np.ndarray, f: np.ndarray, outer_v: np.ndarray, outer_f: np.ndarray, margin: float,
                rounds: int = 6, tree: cKDTree | None = None) -> np.ndarray:
    """Move a structure's vertices that lie outside, or less than `margin` inside, the closed surface
    (outer_v, outer_f) inward, as a smooth dent so the surface stays fair."""
    v = np.array(v, float)
    tree = tree if tree is not None else cKDTree(outer_v)
    near = tree.query(v, distance_upper_bound=0.03)[0] < 0.03  # only these can be close to the surface
    if not near.any():
        return v
    A, deg = vertex_adjacency(f, len(v))
    for _ in range(rounds):
        idx = np.flatnonzero(near)
        depth = signed_depth(v[idx], outer_v, outer_f)
        need = np.zeros(len(v))
        need[idx] = np.maximum(margin - depth, 0.0)
        if need.max() < 2e-4:
            break
        moving = np.flatnonzero(need > 0)
        _, c = closest_points(v[moving], outer_v, outer_f)
        d = c - v[moving]
        sign = np.where(depth[np.searchsorted(idx, moving)] >= 0, -1.0, 1.0)
        inward = np.zeros_like(v)
        inward[moving] = d * sign[:, None]
        nrm = np.linalg.norm(inward, axis=1, keepdims=True)
        inward = np.where(nrm > 1e-9, inward / np.maximum(nrm, 1e-12), 0.0)
        field = need
        for _ in range(15):  # a bump falling off over ~15 rings around each vertex that moves
            field = np.maximum(need, (A @ field) / deg * 0.88)
        dirs = inward * need[:, None]
        for _ in range(15):
            dirs = np.where((need > 0)[:, None], dirs, (A @ dirs) / deg[:, None])
        dn = np.linalg.norm(dirs, axis=1, keepdims=True)
        dirs = np.where(dn > 1e-12, dirs / np.maximum(dn, 1e-12), 0.0)
        v = v + (field * 1.05)[:, None] * dirs
        near |= field > 0
    return v


def push_outside(v: np.ndarray, f: np.ndarray, other_v: np.ndarray, other_f: np.ndarray, allowed: float,
                 rounds: int = 4, clearance: float = 0.0) -> np.ndarray:
    """Move a structure's vertices that lie more than `allowed` inside the closed surface (other_v,
    other_f) back out to that depth, as a smooth lift so the surface stays fair."""
    v = np.array(v, float)
    lo, hi = other_v.min(0) - 0.002, other_v.max(0) + 0.002
    cand = np.all((v > lo) & (v < hi), axis=1)
    if not cand.any():
        return v
    A, deg = vertex_adjacency(f, len(v))
    for _ in range(rounds):
        idx = np.flatnonzero(cand)
        ins = inside(v[idx], other_v, other_f)
        if not ins.any():
            break
        idx = idx[ins]
        d, c = closest_points(v[idx], other_v, other_f)
        need = np.zeros(len(v))
        need[idx] = np.where(d > allowed, d - allowed * 0.5 + clearance, 0.0)
        if need.max() < 1e-4:
            break
        out = np.zeros_like(v)
        out[idx] = (c - v[idx]) / np.maximum(d, 1e-12)[:, None]
        field = need
        for _ in range(6):
            field = np.maximum(need, (A @ field) / deg * 0.7)
        dirs = out * need[:, None]
        for _ in range(6):
            dirs = np.where((need > 0)[:, None], dirs, (A @ dirs) / deg[:, None])
        dn = np.linalg.norm(dirs, axis=1, keepdims=True)
        dirs = np.where(dn > 1e-12, dirs / np.maximum(dn, 1e-12), 0.0)
        v = v + field[:, None] * dirs
        cand = np.all((v > lo) & (v < hi), axis=1)
    return v


def coherent_order(v: np.ndarray, f: np.ndarray) -> Mesh:
    """The same surface with its triangles in breadth-first order over shared edges and its
    vertices numbered in the order the triangles first use them. Nothing moves; the files and the
    browser payload compress far better (neighbouring triangles share recent vertices)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    f = np.asarray(f, np.int64)
    if len(f) == 0:
        return v, f
    adj = trimesh.Trimesh(np.asarray(v, float), f, process=False).face_adjacency
    A = coo_matrix((np.ones(len(adj)), (adj[:, 0], adj[:, 1])), shape=(len(f), len(f))).tocsr()
    seen = np.zeros(len(f), bool)
    order = []
    for start in range(len(f)):
        if not seen[start]:
            o = breadth_first_order(A, start, directed=False, return_predecessors=False)
            seen[o] = True
            order.append(o)
    f = f[np.concatenate(order)]
    _, first = np.unique(f.ravel(), return_index=True)
    used = np.unique(f.ravel())
    by_use = used[np.argsort(first, kind="stable")]
    new = np.full(len(v), -1, np.int64)
    new[by_use] = np.arange(len(by_use))
    return np.asarray(v)[by_use], new[f]
