"""Generated soft tissue: muscles, bursae, joints, nerve roots, nerves and the aorta, both sides.

Shapes follow the muscle path points and waypoints of anatomy-facts/ (OpenSim pelvis frame),
carried onto the atlas bones by the skeleton's landmark fit and snapped to the bone surface.
Flat muscles are thickened sheets that hug the bone; the others are tubes along smooth paths.
"""

from __future__ import annotations

import json

import numpy as np
from scipy.spatial import cKDTree

from hipviz.atlas.build.bones import SIDES, Skeleton
from hipviz.atlas.build.geometry import Mesh, Obstacles, apply, ellipsoid, refine, slab, smooth_curve, tube, unit

HIP_CENTRE_OPENSIM = np.array([-0.0563, -0.0785, 0.0773])


class SoftTissue:
    def __init__(self, sk: Skeleton):
        self.sk = sk
        self.meshes: dict[str, Mesh] = {}
        self.paths: dict[str, np.ndarray] = {}  # centre lines, kept for tests and referral paths
        facts = sk.facts
        self.muscle_points = json.loads((facts / "myolegs_muscle_paths.json").read_text())["muscles"]
        self.gait2392 = json.loads((facts / "opensim_models_hip_facts.json").read_text())["gait2392_millard2012muscle.osim"]["muscles"]
        self.derived = json.loads((facts / "derived_nerves_bursa_pelvis_frame.json").read_text())
        self.bone_trees = {k: cKDTree(v) for k, (v, _) in sk.meshes.items()}
        self._surfaces: dict = {}

    # -- coordinates -------------------------------------------------------------------------
    def to_atlas(self, p, body: str, side: str) -> np.ndarray:
        """An OpenSim point (pelvis or femur body, right-side values) on this atlas's `side`."""
        p = np.asarray(p, float)
        if body.startswith("femur"):
            p = p + HIP_CENTRE_OPENSIM
        p = p * [1, 1, SIDES[side]]
        if body == "lumbar":
            return apply(self.sk.lumbar_transform, p[None])[0]
        return apply(self.sk.opensim_to_atlas, p[None])[0]

    def snap(self, p: np.ndarray, bone: str) -> np.ndarray:
        """Closest point on the bone's surface, to within ~1 mm (dense even surface samples)."""
        import trimesh

        if bone not in self._surfaces:
            m = trimesh.Trimesh(*self.sk.meshes[bone], process=False)
            pts, _ = trimesh.sample.sample_surface_even(m, int(m.area / 1e-6), seed=3)
            pts = np.vstack([m.vertices, pts])
            self._surfaces[bone] = (pts, cKDTree(pts))
        pts, tree = self._surfaces[bone]
        return pts[tree.query(np.asarray(p, float))[1]]

    def muscle(self, name: str, side: str) -> list[np.ndarray]:
        pts = [p for p in self.muscle_points[f"{name}_r"] if "local_m" in p]  # skip wrap markers
        return [self.to_atlas(p["local_m"], p["body"], side) for p in pts]

    def obstacles(self, *ids: str) -> Obstacles:
        return Obstacles([self.meshes.get(i) or self.sk.meshes[i] for i in ids])

    # -- the build ----------------------------------------------------------------------------
    def build(self) -> dict[str, Mesh]:
        for side in SIDES:
            self._gluteus_minimus(side)
            self._gluteus_medius(side)
            self._piriformis(side)
            self._quadratus_femoris(side)
            self._hamstrings(side)
            self._bursae(side)
            self._hip_joint(side)
            self._sacroiliac_joint(side)
            self._facet_joints(side)
            self._nerves(side)
        self._cauda_equina()
        self._aorta()
        return self.meshes

    def build_superficial(self, skin: Mesh) -> dict[str, Mesh]:
        """Gluteus maximus and the cluneal nerves: shaped between the deep structures and the skin."""
        import trimesh

        m = trimesh.Trimesh(*skin, process=False)
        self._skin = (np.asarray(m.vertices), np.asarray(m.vertex_normals), cKDTree(m.vertices))
        for side in SIDES:
            self._gluteus_maximus(side)
            self._cluneal_nerves(side)
        return self.meshes

    def under_skin(self, p: np.ndarray, depth: float) -> np.ndarray:
        """Pull points that lie less than `depth` under the skin back to that depth."""
        sv, sn, tree = self._skin
        p = np.array(p, float)
        _, i = tree.query(p.reshape(-1, 3))
        q, n = sv[i], sn[i]
        under = ((q - p.reshape(-1, 3)) * n).sum(1)
        fix = np.maximum(depth - under, 0.0)
        return (p.reshape(-1, 3) - fix[:, None] * n).reshape(p.shape)

    def _outer_ilium(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and normals of the lateral (gluteal) surface of the ilium."""
        import trimesh

        v, f = self.sk.meshes[f"hip_bone_{side}"]
        n = np.asarray(trimesh.Trimesh(v, f, process=False).vertex_normals)
        s = SIDES[side]
        acet = self.sk.side_point("acetabulum_centre", side)
        sel = (n[:, 2] * s > 0.25) & (v[:, 1] > acet[1] + 0.01)
        return v[sel], n[sel]

    def _crest_edge(self, side: str, x_from: float, x_to: float, drop: float, n: int) -> np.ndarray:
        """Points on the outer ilium `drop` metres below the iliac crest, from x_from to x_to."""
        v, _ = self._outer_ilium(side)
        out = []
        for x in np.linspace(x_from, x_to, n):
            band = v[np.abs(v[:, 0] - x) < 0.005]
            top = band[np.argmax(band[:, 1])]
            target = top - [0, drop, 0]
            out.append(target)
        return self.snap(smooth_curve(np.asarray(out), n, smoothing=1e-5), f"hip_bone_{side}")

    def _fan(self, side: str, top: np.ndarray, insertion: np.ndarray, nv: int, thickness: float,
             tendon: float, obstacles: Obstacles, clearance: float = 0.002) -> tuple[np.ndarray, np.ndarray]:
        """Deep sheet from an origin edge to an insertion edge (same count), pushed out of obstacles."""
        w = np.linspace(0, 1, nv)
        deep = top[:, None, :] * (1 - w)[None, :, None] + insertion[:, None, :] * w[None, :, None]
        deep = obstacles.push_out(deep, clearance)
        # Smooth the sheet a little so the pushed points form a clean surface.
        for _ in range(3):
            inner = deep[1:-1, 1:-1]
            deep[1:-1, 1:-1] = 0.5 * inner + 0.125 * (deep[:-2, 1:-1] + deep[2:, 1:-1] + deep[1:-1, :-2] + deep[1:-1, 2:])
            deep = obstacles.push_out(deep, clearance, iterations=2)
        nu = len(top)
        du = np.gradient(deep, axis=0)
        dv = np.gradient(deep, axis=1)
        normal = unit(np.cross(du, dv))
        if (normal @ np.array([-0.3, 0.0, SIDES[side]])).mean() < 0:  # thicken away from the bone
            normal = -normal
        across = np.sin(np.linspace(0.15, np.pi - 0.15, nu)) ** 0.5
        along = np.interp(w, [0, 0.15, 0.45, 0.8, 1.0], [0.45, 0.9, 1.0, 0.45, 0.0])
        t = thickness * across[:, None] * along[None, :]
        t = np.maximum(t, tendon)
        return deep, refine(*slab(deep, t, normal), levels=1, smooth=6)

    def _insertion_edge(self, centre: np.ndarray, width: float, nu: int, side: str, axis=(1.0, 0.0, 0.0)) -> np.ndarray:
        bone = f"femur_{side}"
        # Spread along the bone from the snapped centre; the fan's push-out keeps it on the surface.
        return self.snap(centre, bone) + np.outer(np.linspace(-width / 2, width / 2, nu), unit(np.asarray(axis)))

    def _gluteus_minimus(self, side: str) -> None:
        origins = [self.snap(p[0], f"hip_bone_{side}") for p in (self.muscle(f"glmin{k}", side) for k in (1, 2, 3))]
        ins = np.mean([self.muscle(f"glmin{k}", side)[-1] for k in (1, 2, 3)], axis=0)
        asis, psis = self.sk.side_point("ASIS", side), self.sk.side_point("PSIS", side)
        nu = 20
        # Origin between the anterior and inferior gluteal lines: a curve through the effective
        # origins, raised 2 cm (they are centroids of the attachment) and widened to the lines.
        ctrl = np.array([origins[0] + [0.01, 0.02, 0], *[o + [0, 0.02, 0] for o in origins], origins[-1] + [-0.015, 0.01, 0]])
        ctrl = ctrl[np.argsort(-ctrl[:, 0])]
        top = smooth_curve(ctrl, nu, smoothing=1e-4)
        top = self.snap(top, f"hip_bone_{side}")
        top[:, 0] = np.clip(top[:, 0], psis[0] + 0.04, asis[0] - 0.015)
        top = self.snap(smooth_curve(top, nu, smoothing=1e-5), f"hip_bone_{side}")
        insertion = self._insertion_edge(self.snap(ins, f"femur_{side}"), 0.02, nu, side)
        obs = self.obstacles(f"hip_bone_{side}", f"femur_{side}")
        deep, mesh = self._fan(side, top, insertion, 26, 0.010, 0.003, obs)
        self.meshes[f"gluteus_minimus_{side}"] = mesh
        self.paths[f"gluteus_minimus_{side}"] = deep[nu // 2]

    def _gluteus_medius(self, side: str) -> None:
        asis, psis = self.sk.side_point("ASIS", side), self.sk.side_point("PSIS", side)
        nu = 24
        top = self._crest_edge(side, asis[0] - 0.015, psis[0] + 0.025, 0.008, nu)
        ins = self.snap(self.muscle("glmed2", side)[-1], f"femur_{side}")
        gt = self.sk.side_point("greater_trochanter_tip", side)
        ins = self.snap((ins + gt) / 2 + [0, -0.005, 0], f"femur_{side}")
        insertion = self._insertion_edge(ins, 0.03, nu, side)
        obs = self.obstacles(f"hip_bone_{side}", f"femur_{side}", f"gluteus_minimus_{side}")
        deep, mesh = self._fan(side, top, insertion, 30, 0.018, 0.004, obs)
        self.meshes[f"gluteus_medius_{side}"] = mesh
        self.paths[f"gluteus_medius_{side}"] = deep[nu // 2]
        self.paths[f"gluteus_medius_origin_{side}"] = top

    def _piriformis(self, side: str) -> None:
        p = self.muscle("piri", side)
        p[0] = self.snap(p[0], "sacrum")
        p[-1] = self.snap(p[-1], f"femur_{side}")
        path = smooth_curve(np.asarray(p), 40, smoothing=0)
        obs = self.obstacles(f"hip_bone_{side}", "sacrum")
        path[4:-4] = obs.push_out(path[4:-4], 0.008)
        path = smooth_curve(path[::3], 40, smoothing=1e-5)
        r = np.interp(np.linspace(0, 1, 40), [0, 0.2, 0.5, 0.85, 1], [0.006, 0.012, 0.011, 0.005, 0.004])
        self.meshes[f"piriformis_{side}"] = tube(path, r, sides=18, flatten=0.65, up_hint=[0, 1, 0])
        self.paths[f"piriformis_{side}"] = path

    def _quadratus_femoris(self, side: str) -> None:
        pts = [self.to_atlas(q["location"], q["body"], side) for q in self.gait2392["quad_fem_r"]["points"]]
        a = self.snap(pts[0], f"hip_bone_{side}")
        b = self.snap(pts[-1], f"femur_{side}")
        path = smooth_curve(np.array([a, (a + b) / 2 + [-0.006, 0, 0], b]), 16)
        self.meshes[f"quadratus_femoris_{side}"] = tube(path, 0.011, sides=16, flatten=0.45, up_hint=[1, 0, 0])
        self.paths[f"quadratus_femoris_{side}"] = path

    def _hamstrings(self, side: str) -> None:
        """Proximal hamstrings: from the ischial tuberosity straight down behind the femoral shaft."""
        it = self.sk.side_point("ischial_tuberosity", side)
        fv, _ = self.sk.meshes[f"femur_{side}"]
        knee = self.sk.side_point("femur_distal", side)

        def behind_shaft(frac: float) -> np.ndarray:
            y = it[1] + (knee[1] - it[1]) * frac
            ring = fv[np.abs(fv[:, 1] - y) < 0.006]
            return np.array([ring[:, 0].min() - 0.028, y, ring[:, 2].mean() * 0.7 + it[2] * 0.3])

        ctrl = np.array([it + [-0.004, 0.006, 0], it + [-0.01, -0.03, 0], behind_shaft(0.4), behind_shaft(0.75)])
        path = smooth_curve(ctrl, 40, smoothing=1e-5)
        r = np.interp(np.linspace(0, 1, 40), [0, 0.12, 0.45, 0.8, 1], [0.007, 0.013, 0.024, 0.02, 0.011])
        self.meshes[f"hamstrings_{side}"] = tube(path, r, sides=18)
        self.paths[f"hamstrings_{side}"] = path

    def _gluteus_maximus(self, side: str) -> None:
        s = SIDES[side]
        fibres = [np.asarray(self.muscle(f"glmax{k}", side)) for k in (1, 2, 3)]
        psis = self.sk.side_point("PSIS", side)
        apex = self.sk.landmarks["sacrum_apex"]
        crest = self._crest_edge(side, psis[0] + 0.055, psis[0] + 0.01, 0.0, 3)
        # Origin edge: posterior crest, PSIS, lateral sacrum, coccyx. Insertion: ITB to gluteal tuberosity.
        origin = np.array([crest[0], crest[-1] + [-0.01, 0.0, 0], psis + [-0.012, -0.03, -0.008 * s],
                           fibres[1][0] + [-0.01, -0.01, 0], fibres[2][0] + [-0.005, -0.02, 0],
                           apex + [-0.01, -0.005, 0.012 * s]])
        gt = self.sk.side_point("greater_trochanter_lateral", side)
        insertion = np.array([gt + [0.01, 0.03, 0.012 * s], gt + [0.0, -0.01, 0.014 * s], gt + [-0.005, -0.05, 0.012 * s],
                              fibres[0][-1] + [-0.004, -0.01, 0.008 * s], fibres[1][-1] + [-0.006, 0.0, 0.004 * s],
                              fibres[2][-1] + [-0.01, 0.0, 0.0]])
        nu, nv = 24, 26
        top = smooth_curve(origin, nu, smoothing=2e-5)
        ins = smooth_curve(insertion, nu, smoothing=2e-5)
        w = np.linspace(0, 1, nv)
        # Bulge the sheet posteriorly and laterally so it drapes over the deeper muscles.
        bulge = np.sin(np.pi * w)[None, :, None] * np.array([-0.035, 0.0, 0.02 * s])
        deep = top[:, None] * (1 - w)[None, :, None] + ins[:, None] * w[None, :, None] + bulge
        obs = self.obstacles(f"hip_bone_{side}", f"femur_{side}", "sacrum", f"gluteus_medius_{side}",
                             f"piriformis_{side}", f"quadratus_femoris_{side}", f"hamstrings_{side}")
        deep = obs.push_out(self.under_skin(deep, 0.03), 0.004)
        for _ in range(3):
            inner = deep[1:-1, 1:-1]
            deep[1:-1, 1:-1] = 0.5 * inner + 0.125 * (deep[:-2, 1:-1] + deep[2:, 1:-1] + deep[1:-1, :-2] + deep[1:-1, 2:])
            deep = obs.push_out(self.under_skin(deep, 0.03), 0.004, iterations=2)
        normal = unit(np.cross(np.gradient(deep, axis=0), np.gradient(deep, axis=1)))
        if (normal @ np.array([-1.0, 0.0, 0.5 * s])).mean() < 0:  # thicken posterolaterally
            normal = -normal
        across = np.sin(np.linspace(0.2, np.pi - 0.2, nu)) ** 0.4
        along = np.interp(w, [0, 0.15, 0.5, 0.85, 1], [0.35, 0.9, 1.0, 0.6, 0.2])
        thick = np.maximum(0.024 * across[:, None] * along[None], 0.003)
        # never closer than 1 cm to the skin (subcutaneous fat)
        dist = self._skin[2].query(deep.reshape(-1, 3))[0].reshape(deep.shape[:2])
        thick = np.clip(np.minimum(thick, dist - 0.012), 0.003, None)
        self.meshes[f"gluteus_maximus_{side}"] = refine(*slab(deep, thick, normal), levels=1, smooth=6)
        self.paths[f"gluteus_maximus_{side}"] = deep[nu // 2]

    def _bursae(self, side: str) -> None:
        import trimesh

        s = SIDES[side]
        fv, ff = self.sk.meshes[f"femur_{side}"]
        fn = np.asarray(trimesh.Trimesh(fv, ff, process=False).vertex_normals)
        gt = self.sk.side_point("greater_trochanter_lateral", side)
        # Subgluteus maximus bursa: over the lateral facet, superficial to the medius insertion.
        _, i = self.bone_trees[f"femur_{side}"].query(gt + [-0.006, -0.008, 0])
        n = unit(fn[i] * 0.4 + np.array([0, 0, s]) * 0.6)
        long_axis = unit(np.array([0, 1.0, 0]) - n[1] * n)
        axes = np.array([long_axis, unit(np.cross(n, long_axis)), n])
        obs = self.obstacles(f"femur_{side}", f"gluteus_medius_{side}", f"gluteus_minimus_{side}")
        centre = obs.push_out(fv[i][None] + n * 0.005, 0.0055, iterations=8)[0]
        self.meshes[f"trochanteric_bursa_{side}"] = ellipsoid(centre, axes, (0.022, 0.015, 0.004))
        self.paths[f"trochanteric_bursa_{side}"] = centre[None]
        # Subgluteus medius bursa: deep to the medius tendon on the upper lateral facet.
        tip = self.sk.side_point("greater_trochanter_tip", side)
        _, j = self.bone_trees[f"femur_{side}"].query((tip + gt) / 2 + [0.004, 0, 0.004 * s])
        n2 = unit(fn[j])
        l2 = unit(np.array([1.0, 0, 0]) - n2[0] * n2)
        c2 = fv[j] + n2 * 0.003
        self.meshes[f"subgluteus_medius_bursa_{side}"] = ellipsoid(c2, np.array([l2, unit(np.cross(n2, l2)), n2]), (0.012, 0.008, 0.003))

    def _hip_joint(self, side: str) -> None:
        c = self.sk.side_point("acetabulum_centre", side)
        r = float(self.sk.side_point("femoral_head_radius", side)[0])
        gt = (self.sk.side_point("greater_trochanter_tip", side) + self.sk.side_point("greater_trochanter_lateral", side)) / 2
        d = unit(gt - c)
        path = np.array([c + d * t for t in np.linspace(-0.2 * r, r + 0.028, 14)])
        radius = np.interp(np.linspace(0, 1, 14), [0, 0.25, 0.6, 1], [r * 0.9, r + 0.007, 0.021, 0.019])
        self.meshes[f"hip_joint_{side}"] = tube(path, radius, sides=28)

    def _sacroiliac_joint(self, side: str) -> None:
        hv, _ = self.sk.meshes[f"hip_bone_{side}"]
        d, i = self.bone_trees["sacrum"].query(hv)
        near = np.argsort(d)[:400]
        pts = (hv[near] + self.sk.meshes["sacrum"][0][i[near]]) / 2
        c = pts.mean(0)
        _, sv, vt = np.linalg.svd(pts - c, full_matrices=False)
        radii = (2.0 * sv[0] / np.sqrt(len(pts)), 2.0 * sv[1] / np.sqrt(len(pts)), 0.003)
        self.meshes[f"sacroiliac_joint_{side}"] = ellipsoid(c, vt, radii)

    def _facet_joints(self, side: str) -> None:
        s = SIDES[side]
        for name, lower in (("facet_joint_l4_l5", "vertebra_l5"), ("facet_joint_l5_s1", "sacrum")):
            v, _ = self.sk.meshes[lower]
            body_x = np.percentile(v[:, 0], 80)
            sel = (v[:, 2] * s > 0.010) & (v[:, 2] * s < 0.03) & (v[:, 0] < body_x - 0.03)
            cand = v[sel]
            top = cand[cand[:, 1] > np.percentile(cand[:, 1], 90)]
            c = top.mean(0) + [0, 0.004, 0]
            axes = np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 1.0]])
            self.meshes[f"{name}_{side}"] = ellipsoid(c, axes, (0.008, 0.006, 0.0028), subdivisions=2)

    # -- nerves --------------------------------------------------------------------------------
    def _derived_path(self, key: str, side: str) -> np.ndarray:
        """Waypoints of a derived nerve path; those above the sacrum follow the lumbar column."""
        pts = self.derived["nerves_r"][key]["path"]
        return np.array([self.to_atlas(p, "lumbar" if p[1] > 0.06 else "pelvis", side) for p in pts])

    def _nerve(self, atlas_id: str, ctrl: np.ndarray, radius, n: int = 60, clearance: float = 0.004,
               obstacles: tuple[str, ...] = (), flatten: float = 1.0) -> None:
        path = smooth_curve(ctrl, n, smoothing=1e-6 * len(ctrl))
        if obstacles:
            path = self.obstacles(*obstacles).push_out(path, clearance + float(np.max(radius)))
            path = smooth_curve(path, n, smoothing=1e-6 * n)
        self.meshes[atlas_id] = tube(path, radius, sides=12, flatten=flatten)
        self.paths[atlas_id] = path

    def _nerves(self, side: str) -> None:
        s = SIDES[side]
        bones = (f"hip_bone_{side}", f"femur_{side}", "sacrum")
        foramina = {k: self.to_atlas(v, "lumbar", side) for k, v in self.derived["intervertebral_foramina_r"].items()}
        sci = self._derived_path("sciatic(L4-S3)", side)
        fem = self._derived_path("femoral(L2-L4)", side)
        # Sciatic: on the front of piriformis, out through the greater sciatic foramen BELOW it.
        piri = self.paths[f"piriformis_{side}"]
        notch_i = int(np.argmin(np.linalg.norm(piri - self.greater_sciatic_notch(side), axis=1)))
        below = piri[notch_i] + [0.004, -0.022, 0.004 * s]
        ctrl = np.array([sci[1], below + [0.01, 0.01, -0.01 * s], below, *sci[4:]])
        self._nerve(f"sciatic_nerve_{side}", ctrl, 0.0055, obstacles=bones + (f"piriformis_{side}", f"quadratus_femoris_{side}"), flatten=0.7)
        self._nerve(f"femoral_nerve_{side}", fem, 0.0038, obstacles=bones)
        self._nerve(f"lateral_femoral_cutaneous_nerve_{side}", self._derived_path("lateral_femoral_cutaneous(L2-L3)", side), 0.0018, obstacles=bones)
        # Superior gluteal: out ABOVE piriformis, then forward between medius and minimus.
        sg = self._derived_path("superior_gluteal(L4-S1)", side)
        above = piri[notch_i] + [0.0, 0.02, 0.0]
        mid = self.paths[f"gluteus_minimus_{side}"]
        ctrl = np.array([sg[0], sg[1], above, mid[len(mid) // 2] + [0.0, 0.0, 0.006 * s], mid[len(mid) // 3] + [0.02, 0.01, 0.006 * s]])
        self._nerve(f"superior_gluteal_nerve_{side}", ctrl, 0.0025, obstacles=bones + (f"gluteus_minimus_{side}",))
        # Obturator: along the lateral pelvic wall, through the obturator foramen, to the inner thigh.
        acet = self.sk.side_point("acetabulum_centre", side)
        obt = self.obturator_foramen(side)
        ctrl = np.array([foramina["L3/L4"] + [0.02, -0.01, 0.005 * s], [acet[0] - 0.02, acet[1] + 0.05, acet[2] * 0.55],
                         obt + [-0.005, 0.01, -0.004 * s], obt + [0.006, -0.01, 0.006 * s], obt + [0.0, -0.06, 0.02 * s],
                         obt + [-0.005, -0.15, 0.035 * s]])
        self._nerve(f"obturator_nerve_{side}", ctrl, 0.0028)
        # Roots: from the canal, through their foramina, toward the plexus.
        starts = {"l2": "L2/L3", "l3": "L3/L4", "l4": "L4/L5", "l5": "L5/S1"}
        for root, key in starts.items():
            f0 = foramina[key]
            target = fem[1] if root in ("l2", "l3") else sci[1]
            if root == "l4":
                target = (fem[1] + sci[1]) / 2
            ctrl = np.array([f0 + [-0.004, 0.014, -0.02 * s], f0, f0 + [0.012, -0.012, 0.008 * s], target])
            self._nerve(f"nerve_root_{root}_{side}", ctrl, 0.0028, n=30)
        s1 = self.to_atlas([-0.092, 0.035, 0.022], "pelvis", side)
        ctrl = np.array([s1 + [-0.02, 0.012, -0.012 * s], s1, s1 + [0.012, -0.01, 0.01 * s], sci[1] + [0.0, -0.02, 0.005 * s]])
        self._nerve(f"nerve_root_s1_{side}", ctrl, 0.003, n=30)
    def _cluneal_nerves(self, side: str) -> None:
        """Superior cluneal nerves: three branches crossing the posterior iliac crest 7-8 cm from
        the midline, running under the skin down over the upper buttock."""
        s = SIDES[side]
        branches = []
        obs = self.obstacles(f"hip_bone_{side}", f"gluteus_medius_{side}", f"gluteus_maximus_{side}")
        crest = self._crest_edge(side, -0.125, -0.07, 0.0, 12)
        for k, dz in enumerate((0.065, 0.078, 0.09)):
            c = crest[np.argmin(np.abs(np.abs(crest[:, 2]) - dz))]
            ctrl = np.array([[-0.125, c[1] + 0.05, 0.03 * s], c + [-0.012, 0.025, 0], c + [-0.016, 0.0, 0.003 * s],
                             c + [-0.02, -0.05, 0.01 * s], c + [-0.015, -0.10, 0.02 * s]])
            # subcutaneous: outside the bone and muscles, at least 6 mm under the skin
            path = obs.push_out(smooth_curve(ctrl, 30, smoothing=1e-6), 0.005)
            path = smooth_curve(self.under_skin(path, 0.006), 30, smoothing=2e-5)
            branches.append(tube(path, 0.0014, sides=8))
            self.paths[f"superior_cluneal_nerves_{side}_{k}"] = path
        self.meshes[f"superior_cluneal_nerves_{side}"] = _merge(branches)

    def greater_sciatic_notch(self, side: str) -> np.ndarray:
        """Deepest point of the greater sciatic notch: the most anterior posterior-border point
        between the posterior inferior iliac spine and the ischial spine."""
        v, _ = self.sk.meshes[f"hip_bone_{side}"]
        it, psis = self.sk.side_point("ischial_tuberosity", side), self.sk.side_point("PSIS", side)
        acet = self.sk.side_point("acetabulum_centre", side)
        best = None
        for y in np.linspace(it[1] + 0.05, psis[1] - 0.025, 24):
            band = v[(np.abs(v[:, 1] - y) < 0.003) & (v[:, 0] < acet[0] - 0.02)]
            if len(band) == 0:
                continue
            p = band[np.argmin(band[:, 0])]
            if best is None or p[0] > best[0]:
                best = p
        return best

    def obturator_foramen(self, side: str) -> np.ndarray:
        """Centre of the obturator foramen: the empty spot below the acetabulum, medial to it."""
        v, _ = self.sk.meshes[f"hip_bone_{side}"]
        acet = self.sk.side_point("acetabulum_centre", side)
        tree = self.bone_trees[f"hip_bone_{side}"]
        s = SIDES[side]
        best, best_d = None, -1.0
        for dx in np.linspace(-0.01, 0.03, 9):
            for dy in np.linspace(-0.07, -0.02, 11):
                for dz in np.linspace(-0.05, -0.01, 9):
                    p = acet + [dx, dy, dz * s]
                    d = tree.query(p)[0]
                    # the foramen is a hole in a thin plate: far from bone yet enclosed by it
                    if d > best_d and len(tree.query_ball_point(p, d + 0.012)) > 0:
                        ring = v[tree.query_ball_point(p, d + 0.01)]
                        spread = np.ptp(ring[:, 1]) if len(ring) else 0
                        if spread > 0.02:
                            best, best_d = p, d
        return best

    def _cauda_equina(self) -> None:
        centres = []
        for k in range(1, 6):
            v, _ = self.sk.meshes[f"vertebra_l{k}"]
            mid = v[np.abs(v[:, 2]) < 0.004]
            ymid = np.median(mid[:, 1])
            slab_ = mid[np.abs(mid[:, 1] - ymid) < 0.012]
            xs = np.sort(slab_[:, 0])
            gaps = np.diff(xs)
            g = int(np.argmax(gaps))
            centres.append([(xs[g] + xs[g + 1]) / 2, v[:, 1].max(), 0.0])
            centres.append([(xs[g] + xs[g + 1]) / 2, ymid, 0.0])
        c = np.array(centres)
        top = self.sk.landmarks["sacrum_top"]
        c = np.vstack([c[np.argsort(-c[:, 1])], [c[-1][0] + 0.004, top[1] - 0.03, 0.0], [c[-1][0] - 0.004, top[1] - 0.06, 0.0]])
        path = smooth_curve(c, 50, smoothing=2e-5)
        r = np.interp(np.linspace(0, 1, 50), [0, 0.7, 1], [0.0065, 0.0055, 0.003])
        self.meshes["cauda_equina"] = tube(path, r, sides=14)
        self.paths["cauda_equina"] = path

    def _aorta(self) -> None:
        pts = []
        for k in range(1, 5):
            v, _ = self.sk.meshes[f"vertebra_l{k}"]
            mid = v[np.abs(v[:, 2]) < 0.006]
            front = mid[np.argmax(mid[:, 0])]
            pts.append([front[0] + 0.014, front[1], -0.015])
        pts = np.array(pts)
        top = pts[0] + [0, 0.012, 0]  # stays below the top edge of the skin
        split = pts[-1]
        aorta = smooth_curve(np.vstack([top, pts[:-1], split]), 30, smoothing=1e-5)
        sac = self.sk.landmarks["sacrum_top"]
        iliacs = []
        for s in (1, -1):
            end = np.array([sac[0] + 0.035, sac[1] - 0.03, 0.055 * s])
            path = smooth_curve(np.array([split + [0, 0.006, 0.004 * s], (split + end) / 2 + [0.004, 0, 0], end]), 16)
            iliacs.append(tube(path, 0.0055, sides=14))
        self.meshes["abdominal_aorta"] = _merge([tube(aorta, 0.0095, sides=20), *iliacs])
        self.paths["abdominal_aorta"] = aorta


def _merge(parts: list[Mesh]) -> Mesh:
    vs, fs, off = [], [], 0
    for v, f in parts:
        vs.append(v)
        fs.append(f + off)
        off += len(v)
    return np.vstack(vs), np.vstack(fs)
