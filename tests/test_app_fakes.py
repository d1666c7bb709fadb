"""A small fake atlas with the interface of hipviz.atlas.meshes (load_atlas/Atlas), built from
PyVista primitives, for testing the web app without the real meshes.

Frame as in the real atlas: metres, +x anterior, +y superior, +z subject's right. The skin is an
ellipsoid trunk-and-legs stand-in whose vertices carry region labels by position, so the lateral
hip on the right (z > 0, around hip height) is `lateral_hip_trochanter` / right.

Other test modules import this one (`from test_app_fakes import fake_atlas`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyvista as pv

from hipviz.atlas.catalog import catalog
from hipviz.painmap import REGION_IDS, SkinLabels
from hipviz.vocabulary import vocabulary


@dataclass(frozen=True)
class FakeStructureInfo:
    id: str
    base_id: str
    name: str
    kind: str
    side: str | None
    layer: str
    colour: str
    opacity: float
    visible: bool
    triangles: int


def _skin_labels(mesh: pv.PolyData) -> SkinLabels:
    p = np.asarray(mesh.points)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    r = np.full(len(p), REGION_IDS.index("lateral_thigh"), np.int16)

    def put(name, mask):
        r[mask] = REGION_IDS.index(name)

    back, front = x < -0.09, x > -0.05
    put("anterior_thigh", front & (y < -0.2))
    put("posterior_thigh", back & (y < -0.2))
    put("lateral_thigh", (np.abs(z) > 0.12) & (y < -0.2))
    put("groin", front & (y >= -0.2) & (y < -0.08))
    put("lower_abdomen", front & (y >= -0.08))
    put("buttock_upper", back & (y >= -0.2) & (y < 0.0))
    put("low_back_paraspinal", back & (y >= 0.0))
    put("flank", ~front & ~back & (y >= 0.0))
    put("lateral_hip_trochanter", (np.abs(z) > 0.12) & (y >= -0.2) & (y < -0.03))
    put("low_back_central", back & (y >= 0.0) & (np.abs(z) < 0.02))
    side = np.where(np.abs(z) < 0.02, 0, np.where(z > 0, 2, 1)).astype(np.uint8)
    midline = np.isin(r, [REGION_IDS.index(n) for n in REGION_IDS if n not in vocabulary().sided_regions])
    side[midline] = 0
    side[~midline & (side == 0)] = np.where(z[~midline & (side == 0)] >= 0, 2, 1)
    # vertex area = one third of the adjoining triangle areas, in cm²
    tri = mesh.faces.reshape(-1, 4)[:, 1:]
    a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
    tri_area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1) * 1e4
    va = np.zeros(len(p))
    for k in range(3):
        np.add.at(va, tri[:, k], tri_area / 3)
    checksum = hashlib.sha256(np.ascontiguousarray(p, np.float32).tobytes() + tri.astype(np.int64).tobytes()).hexdigest()
    return SkinLabels(checksum, r, side, va)


def _ellipsoid(rx, ry, rz, center):
    return pv.ParametricEllipsoid(rx, ry, rz, center=center, u_res=40, v_res=30, w_res=2)


class FakeAtlas:
    def __init__(self, skin_resolution: int = 150):
        cat = catalog()
        meshes: dict[str, pv.PolyData] = {}
        skin = pv.Sphere(radius=1.0, direction=(0, 1, 0), theta_resolution=skin_resolution, phi_resolution=skin_resolution)
        skin.points = skin.points * np.array([0.13, 0.62, 0.19]) + np.array([-0.07, -0.33, 0.0])
        meshes["skin"] = skin
        for side, s in (("left", -1.0), ("right", 1.0)):
            meshes[f"hip_bone_{side}"] = _ellipsoid(0.03, 0.09, 0.07, center=(-0.06, -0.02, 0.07 * s))
            meshes[f"femur_{side}"] = pv.Cylinder(center=(-0.06, -0.3, 0.09 * s), direction=(0, 1, 0), radius=0.018, height=0.42, resolution=24)
            meshes[f"gluteus_medius_{side}"] = _ellipsoid(0.05, 0.07, 0.03, center=(-0.09, -0.06, 0.12 * s))
            meshes[f"piriformis_{side}"] = _ellipsoid(0.015, 0.015, 0.05, center=(-0.12, -0.1, 0.06 * s))
            meshes[f"trochanteric_bursa_{side}"] = pv.Sphere(radius=0.015, center=(-0.06, -0.11, 0.15 * s))
            meshes[f"sciatic_nerve_{side}"] = pv.Tube(pointa=(-0.12, -0.08, 0.08 * s), pointb=(-0.11, -0.5, 0.09 * s), radius=0.006, n_sides=12, resolution=30)
        meshes["sacrum"] = _ellipsoid(0.03, 0.06, 0.04, center=(-0.13, -0.03, 0.0))
        self._meshes = {}
        self.manifest: dict[str, FakeStructureInfo] = {}
        for sid, m in meshes.items():
            m = m.triangulate().clean().compute_normals(auto_orient_normals=True, split_vertices=False)
            self._meshes[sid] = m
            st, side = cat.split(sid)
            self.manifest[sid] = FakeStructureInfo(
                id=sid, base_id=st.base_id, name=st.name + (f" ({side})" if side else ""), kind=st.kind, side=side,
                layer=st.layer, colour=st.colour, opacity=st.default_opacity, visible=st.default_visible,
                triangles=m.n_cells,
            )
        self._labels = _skin_labels(self._meshes["skin"])

    def polydata(self, sid: str) -> pv.PolyData:
        return self._meshes[sid]

    def skin_labels(self) -> SkinLabels:
        return self._labels


@cache
def fake_atlas() -> FakeAtlas:
    return FakeAtlas()


def test_fake_atlas_has_the_atlas_interface():
    a = fake_atlas()
    assert "skin" in a.manifest and a.manifest["skin"].kind == "skin"
    skin = a.polydata("skin")
    lab = a.skin_labels()
    assert len(lab.region) == skin.n_points == len(lab.side) == len(lab.vertex_area_cm2)
    i = REGION_IDS.index("lateral_hip_trochanter")
    right = (lab.region == i) & (lab.side == 2)
    assert right.sum() > 20
    assert np.all(skin.points[right, 2] > 0)
