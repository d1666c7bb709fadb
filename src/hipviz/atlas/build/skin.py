"""The skin: the outer layer of BodyParts3D's double-shell skin, closed and remeshed for painting.

The pack's skin (FMA7163) is an outer and an inner surface about 2 mm apart joined into one
closed shell, with small holes in the outer layer where the two meet (lips, eyes, fingertips,
genitals). The outer surface is recovered on a 3 mm voxel grid: the shell is rasterised, the
space outside it is flood-filled through passages wider than 8 mm (so the fill cannot leak
through those holes into the body), and the boundary of that outside space is extracted,
smoothed and projected back onto the source's outer layer. It is then remeshed isotropically
(Botsch-Kobbelt, gpytoolbox) to about 8 mm edges everywhere and projected once more, so the
holes are closed and the surface lies on the source to within a millimetre elsewhere.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy import ndimage

from hipviz.atlas.build.bp3d import Pack
from hipviz.atlas.build.geometry import Mesh, closest_points

SKIN_FMA = 7163
VOXEL = 0.003
PASSAGE = 0.004      # flood fill only where the free space is wider than 2 x this
EDGE = 0.008         # target edge length of the remeshed skin


def _shell_mask(v: np.ndarray, f: np.ndarray, lo: np.ndarray, shape: np.ndarray, h: float) -> np.ndarray:
    """Voxels touched by the surface: each triangle sampled on a barycentric grid finer than h."""
    tri = v[f]
    e = np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2).max(1)
    mask = np.zeros(tuple(shape), bool)
    n_needed = np.maximum(2, 2 ** np.ceil(np.log2(np.maximum(e / (0.5 * h), 1.0)))).astype(int)
    for n in np.unique(n_needed):
        T = tri[n_needed == n]
        for i in range(n + 1):
            for j in range(n + 1 - i):
                a, b = i / n, j / n
                S = T[:, 0] * (1 - a - b) + T[:, 1] * a + T[:, 2] * b
                idx = np.floor((S - lo) / h).astype(int)
                mask[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    return mask


def outer_surface(v: np.ndarray, f: np.ndarray) -> Mesh:
    import pyvista as pv

    h = VOXEL
    lo = v.min(0) - 0.03
    shape = np.ceil((v.max(0) + 0.03 - lo) / h).astype(int) + 1
    shell = _shell_mask(v, f, lo, shape, h)
    free = ndimage.distance_transform_edt(~shell) * h
    lab, _ = ndimage.label(free > PASSAGE)
    core = lab == lab[0, 0, 0]
    outside = (ndimage.distance_transform_edt(~core) * h <= PASSAGE + 0.5 * h) & ~shell
    body = ndimage.gaussian_filter((~outside).astype(np.float32), 1.0)
    img = pv.ImageData(dimensions=tuple(int(s) for s in shape), spacing=(h, h, h), origin=tuple(lo))
    img.point_data["b"] = body.ravel(order="F")
    surf = img.contour([0.5], scalars="b", method="flying_edges").triangulate().clean().connectivity("largest")
    V = np.asarray(surf.points, float)
    F = np.asarray(surf.faces).reshape(-1, 4)[:, 1:].astype(np.int64)
    m = trimesh.Trimesh(V, F, process=True)
    trimesh.repair.fix_normals(m)
    # from a little outside, the nearest source surface is the outer layer
    _, c = closest_points(np.asarray(m.vertices) + 0.004 * np.asarray(m.vertex_normals), v, f)
    return c, np.asarray(m.faces)


def remesh(V: np.ndarray, F: np.ndarray, source: Mesh, edge: float = EDGE) -> Mesh:
    import gpytoolbox as gp

    Vr, Fr = gp.remesh_botsch(np.ascontiguousarray(V, np.float64), np.ascontiguousarray(F, np.int32), i=10,
                              h=float(edge), project=True)
    m = trimesh.Trimesh(np.asarray(Vr, float), np.asarray(Fr, np.int64), process=True)
    trimesh.repair.fix_normals(m)
    v = np.asarray(m.vertices)
    d, c = closest_points(v + 0.002 * np.asarray(m.vertex_normals), *source)
    near = d < 0.005  # onto the source's outer layer, except across the closed holes
    v = np.where(near[:, None], c, v)
    return v, np.asarray(m.faces)


def build_skin(pack: Pack) -> Mesh:
    v, f = pack.mesh(SKIN_FMA, drop_flat=False)
    V, F = outer_surface(v, f)
    return remesh(V, F, (v, f))
