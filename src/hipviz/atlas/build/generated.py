"""What BodyParts3D lacks, generated against its real surfaces: nerves, bursae, joints, coccyx.

Nerves are tubes of realistic calibre along centre lines placed from measured landmarks of the
real bones and muscles (foramina, the greater sciatic notch and piriformis, the psoas-iliacus
groove, the inguinal ligament and femoral artery, the fibular neck, the malleoli...). Bursae sit
in the real gap between the greater trochanter and the iliotibial tract and gluteal tendons;
the hip capsule wraps the real femoral head and neck; the sacroiliac and facet joints fill the
real gaps between the bones that form them. Positions are textbook relations on one body:
educational geometry, about 5 mm to 1 cm from where a dissection would put them.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from hipviz.atlas.build.bones import SIDES, Skeleton
from hipviz.atlas.build.bp3d import Pack, merge
from hipviz.atlas.build.geometry import (Mesh, Obstacles, closest_points, ellipsoid, inside, push_outside, smooth_curve,
                                         tube, unit)


def _band(v: np.ndarray, y: float, half: float = 0.006) -> np.ndarray:
    return v[np.abs(v[:, 1] - y) < half]


def centreline(v: np.ndarray, n: int = 40, start: np.ndarray | None = None) -> np.ndarray:
    """Centre line of an elongated mesh: centroids of slices across its principal axis."""
    c = v.mean(0)
    _, _, vt = np.linalg.svd(v - c, full_matrices=False)
    axis = vt[0]
    if start is not None and (start - c) @ axis > 0:
        axis = -axis
    t = (v - c) @ axis
    edges = np.linspace(t.min(), t.max(), n + 1)
    pts = []
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (t >= a) & (t <= b)
        if sel.sum() >= 3:
            pts.append(v[sel].mean(0))
    return smooth_curve(np.asarray(pts), n, smoothing=1e-5 * n)


class Generated:
    def __init__(self, pack: Pack, sk: Skeleton, soft: dict[str, Mesh], skin: Mesh):
        self.pack, self.sk, self.soft, self.skin = pack, sk, soft, skin
        self.meshes: dict[str, Mesh] = {}
        self.paths: dict[str, np.ndarray] = {}
        self.landmarks: dict[str, np.ndarray] = {}
        self._obstacles: dict = {}
        self._canal: dict = {}
        sm = trimesh.Trimesh(*skin, process=False)
        self._skin_tree = cKDTree(sm.vertices)
        self._skin_n = np.asarray(sm.vertex_normals)

    # -- helpers -------------------------------------------------------------------------------
    def v(self, aid: str) -> np.ndarray:
        return (self.sk.meshes.get(aid) or self.soft.get(aid) or self.meshes[aid])[0]

    def mesh_of(self, aid: str) -> Mesh:
        return self.sk.meshes.get(aid) or self.soft.get(aid) or self.meshes[aid]

    def fma(self, fma: int) -> np.ndarray:
        return self.pack.mesh(fma)[0]

    def obstacles(self, *ids: str) -> Obstacles:
        key = tuple(ids)
        if key not in self._obstacles:
            self._obstacles[key] = Obstacles([self.mesh_of(i) for i in ids])
        return self._obstacles[key]

    def under_skin(self, p: np.ndarray, depth: float) -> np.ndarray:
        """Pull points that lie less than `depth` under the skin (or outside it) back to that depth."""
        p = np.array(p, float).reshape(-1, 3)
        d, c = closest_points(p, *self.skin)
        ins = inside(p, *self.skin)
        under = np.where(ins, d, -d)
        _, i = self._skin_tree.query(c)
        n = self._skin_n[i]
        fix = np.maximum(depth - under, 0.0)
        return p - fix[:, None] * n

    def nerve(self, aid: str, ctrl, radius, n: int = 48, sides: int = 10, avoid: tuple[str, ...] = (),
              clearance: float = 0.0015, depth: float = 0.004, path_key: str | None = None) -> np.ndarray:
        ctrl = np.asarray(ctrl, float)
        ctrl = ctrl[np.isfinite(ctrl).all(1)]
        path = smooth_curve(ctrl, n, smoothing=2e-6 * len(ctrl))
        r = np.broadcast_to(np.asarray(radius, float), (n,)) if np.ndim(radius) == 0 else np.interp(
            np.linspace(0, 1, n), np.linspace(0, 1, len(radius)), radius)
        if avoid:
            path = self.obstacles(*avoid).push_out(path, clearance + float(np.max(r)))
        path = self.under_skin(path, depth + float(np.max(r)))
        path = smooth_curve(path, n, smoothing=1e-6 * n)
        self.paths[path_key or aid] = path
        return tube(path, r, sides=sides)

    def add(self, aid: str, parts: list[Mesh]) -> None:
        self.meshes[aid] = parts[0] if len(parts) == 1 else merge(parts)

    # -- landmarks on the real bones -----------------------------------------------------------
    def canal(self, k: int) -> tuple[float, float, float]:
        """(canal centre x, body back x, mid y) of lumbar vertebra Lk, from a midline line probe:
        the canal is the gap between the body (the most anterior run of bone) and the arch."""
        if k in self._canal:
            return self._canal[k]
        v, f = self.mesh_of(f"vertebra_l{k}")
        body = v[v[:, 0] > np.percentile(v[:, 0], 75)]
        ymid = float(np.median(body[:, 1]))
        xs = np.arange(v[:, 0].min() - 0.002, v[:, 0].max() + 0.002, 0.0005)
        probe = np.c_[xs, np.full(len(xs), ymid), np.zeros(len(xs))]
        ins = inside(probe, v, f)
        runs = np.flatnonzero(np.diff(ins.astype(int)))  # boundaries between in and out
        starts = [i + 1 for i in runs if not ins[i]]
        ends = [i for i in runs if ins[i]]
        intervals = [(xs[a], xs[b]) for a, b in zip(starts, ends) if b > a]
        intervals.sort(key=lambda t: -t[0])
        body_back = intervals[0][0]
        arch_front = intervals[1][1] if len(intervals) > 1 else body_back - 0.016
        self._canal[k] = ((body_back + arch_front) / 2, float(body_back), ymid)
        return self._canal[k]

    def body_bottom(self, k: int) -> float:
        v = self.v(f"vertebra_l{k}")
        _, back, _ = self.canal(k)
        body = v[(v[:, 0] > back + 0.004) & (np.abs(v[:, 2]) < 0.015)]
        return float(body[:, 1].min())

    def foramina(self, side: str) -> dict[str, np.ndarray]:
        s = SIDES[side]
        out = {}
        names = ["L1", "L2", "L3", "L4", "L5"]
        for k, name in enumerate(names, start=1):
            _, back, _ = self.canal(k)
            y = self.body_bottom(k) + 0.006
            out[name] = np.array([back - 0.008, y, 0.026 * s])
        # anterior sacral foramina S1-S3: on the pelvic surface of the sacrum below the promontory
        sv = self.v("sacrum")
        mid = sv[np.abs(sv[:, 2]) < 0.01]
        prom = mid[mid[:, 0] > np.percentile(mid[:, 0], 60)]
        prom_y = float(prom[:, 1].max())
        lat = sv[(np.abs(sv[:, 2] - 0.025 * s) < 0.006)]
        for k, dy in ((1, 0.022), (2, 0.045), (3, 0.066)):
            band = _band(lat, prom_y - dy, 0.004)
            front = band[np.argmax(band[:, 0])]
            out[f"S{k}"] = front + [0.004, 0, 0]
        self.landmarks[f"sacral_promontory"] = np.array([prom[np.argmax(prom[:, 1]), 0], prom_y, 0.0])
        return out

    def greater_sciatic_notch(self, side: str) -> np.ndarray:
        """Deepest point of the greater sciatic notch on the hip bone's posterior border."""
        v = self.v(f"hip_bone_{side}")
        it, psis = self.sk.side_point("ischial_tuberosity", side), self.sk.side_point("PSIS", side)
        acet = self.sk.side_point("acetabulum_centre", side)
        best = None
        for y in np.linspace(it[1] + 0.05, psis[1] - 0.025, 30):
            band = v[(np.abs(v[:, 1] - y) < 0.003) & (v[:, 0] < acet[0] - 0.02)]
            if len(band) == 0:
                continue
            p = band[np.argmin(band[:, 0])]
            if best is None or p[0] > best[0]:
                best = p
        return best

    def obturator_canal(self, side: str) -> np.ndarray:
        """Upper lateral corner of the obturator foramen: the empty spot below the acetabulum,
        medial to it, found as the point farthest from bone inside the ring of the hip bone."""
        v = self.v(f"hip_bone_{side}")
        acet = self.sk.side_point("acetabulum_centre", side)
        tree = cKDTree(v)
        s = SIDES[side]
        best, best_d = None, -1.0
        for dx in np.linspace(-0.01, 0.035, 10):
            for dy in np.linspace(-0.075, -0.02, 12):
                for dz in np.linspace(-0.055, -0.01, 10):
                    p = acet + [dx, dy, dz * s]
                    d = tree.query(p)[0]
                    if d > best_d:
                        ring = v[tree.query_ball_point(p, d + 0.01)]
                        if len(ring) and np.ptp(ring[:, 1]) > 0.02 and np.ptp(ring[:, 0]) > 0.01:
                            best, best_d = p, d
        centre = best
        # the canal: top of the foramen, just below the superior pubic ramus
        return centre + [0.0, best_d * 0.7, 0.0]

    # -- the build -----------------------------------------------------------------------------
    def build(self) -> dict[str, Mesh]:
        for side in SIDES:
            self.landmarks[f"greater_sciatic_notch_{side}"] = self.greater_sciatic_notch(side)
            self._muscle_paths(side)
            self._bursae(side)
            self._hip_joint(side)
            self._sacroiliac_joint(side)
            self._facet_joints(side)
            self._nerves(side)
        self._canal_contents()
        self._coccyx()
        return self.meshes

    def _muscle_paths(self, side: str) -> None:
        s = SIDES[side]
        sac = self.v("sacrum")
        piri = centreline(self.v(f"piriformis_{side}"), 30, start=np.array([-0.11, 0.0, 0.0]))
        # origin on the sacrum, insertion at the trochanter tip: end points on the bones
        d0, c0 = closest_points(piri[:1], *self.mesh_of("sacrum"))
        piri[0] = c0[0]
        gt = self.sk.side_point("greater_trochanter_tip", side)
        _, c1 = closest_points(piri[-1:], *self.mesh_of(f"femur_{side}"))
        piri[-1] = c1[0]
        self.paths[f"piriformis_{side}"] = piri
        del sac, gt, s
        for aid in ("gluteus_minimus", "gluteus_medius", "gluteus_maximus", "quadratus_femoris", "hamstrings",
                    "iliacus", "psoas_major", "tensor_fasciae_latae", "obturator_internus"):
            self.paths[f"{aid}_{side}"] = centreline(self.v(f"{aid}_{side}"), 30, start=self.sk.side_point("iliac_crest_top", side))
        # gluteus medius origin: its vertices on the outer ilium (within 3 mm of the bone)
        med = self.v(f"gluteus_medius_{side}")
        d, _ = closest_points(med, *self.mesh_of(f"hip_bone_{side}"))
        acet = self.sk.side_point("acetabulum_centre", side)
        on = med[(d < 0.003) & (med[:, 1] > acet[1] + 0.06)]
        order = np.argsort(on[:, 0])
        pts = on[order]
        bins = np.array_split(pts, 12)
        line = np.array([b[np.argmax(b[:, 1])] for b in bins if len(b)])
        self.paths[f"gluteus_medius_origin_{side}"] = line

    # -- bursae and joints ---------------------------------------------------------------------
    def _bursae(self, side: str) -> None:
        s = SIDES[side]
        fem = self.mesh_of(f"femur_{side}")
        itb = self.mesh_of(f"iliotibial_tract_{side}")
        gt = self.sk.side_point("greater_trochanter_lateral", side)
        # trochanteric (subgluteus maximus) bursa: in the gap between the lateral facet and the ITB
        probe = gt + [-0.004, -0.006, 0.0]
        _, cb = closest_points(probe[None], *fem)
        _, ci = closest_points(cb, *itb)
        cb, ci = cb[0], ci[0]
        gap = float(np.linalg.norm(ci - cb))
        n = unit(ci - cb)
        centre = (cb + ci) / 2
        long_axis = unit(np.array([0, 1.0, 0]) - n[1] * n)
        axes = np.array([long_axis, unit(np.cross(n, long_axis)), n])
        thick = 0.0035
        bv, bf = ellipsoid(centre, axes, (0.026, 0.016, thick))
        # fill the real gap: each point keeps its place along the facet, and its depth is scaled
        # to the local gap between bone and tract (never entering either)
        t = (bv - centre) @ n
        q = bv - t[:, None] * n
        _, cf = closest_points(q, *fem)
        _, ci = closest_points(q, *itb)
        mid = (cf + ci) / 2
        half = np.maximum(np.linalg.norm(ci - cf, axis=1) / 2 - 0.0006, 0.0004)
        depth = t / thick * np.minimum(thick, half)
        bv = q + (((mid - centre) @ n) + depth)[:, None] * n
        for _ in range(3):  # where the two surfaces curve towards each other, step off both
            bv = push_outside(bv, bf, *itb, allowed=0.0, clearance=0.0003)
            bv = push_outside(bv, bf, *fem, allowed=0.0, clearance=0.0003)
        self.meshes[f"trochanteric_bursa_{side}"] = (bv, bf)
        self.paths[f"trochanteric_bursa_{side}"] = centre[None]
        self.landmarks[f"trochanteric_bursa_gap_{side}"] = np.array([gap])
        # subgluteus medius bursa: under the medius tendon, on the upper lateral facet
        tip = self.sk.side_point("greater_trochanter_tip", side)
        q = (tip + gt) / 2 + [0.006, 0.004, 0.0]
        _, cq = closest_points(q[None], *fem)
        fm = trimesh.Trimesh(*fem, process=False)
        near = cKDTree(fm.vertices).query(cq[0], k=8)[1]
        n2 = unit(unit(np.asarray(fm.vertex_normals)[near].mean(0)) * 0.6 + np.array([0, 0.3, 0.7 * s]))
        l2 = unit(np.array([1.0, 0, 0]) - n2[0] * n2)
        c2 = cq[0] + n2 * 0.0035
        self.meshes[f"subgluteus_medius_bursa_{side}"] = ellipsoid(c2, np.array([l2, unit(np.cross(n2, l2)), n2]), (0.013, 0.009, 0.0025))

    def _hip_joint(self, side: str) -> None:
        """Capsule and labrum as one sleeve from the acetabular rim around the head and neck to
        the intertrochanteric line."""
        c = self.sk.side_point("acetabulum_centre", side)
        r = float(self.sk.side_point("femoral_head_radius", side)[0])
        gt = (self.sk.side_point("greater_trochanter_tip", side) + self.sk.side_point("greater_trochanter_lateral", side)) / 2
        d = unit(gt - c)
        path = np.array([c + d * t for t in np.linspace(-0.25 * r, r + 0.03, 16)])
        radius = np.interp(np.linspace(0, 1, 16), [0, 0.2, 0.55, 1], [r * 0.95, r + 0.006, 0.019, 0.021])
        self.meshes[f"hip_joint_{side}"] = tube(path, radius, sides=28)
        self.paths[f"hip_joint_{side}"] = path

    def _sacroiliac_joint(self, side: str) -> None:
        hv = self.v(f"hip_bone_{side}")
        sv = self.v("sacrum")
        d, i = cKDTree(sv).query(hv)
        near = np.argsort(d)[:500]
        pts = (hv[near] + sv[i[near]]) / 2
        c = pts.mean(0)
        _, sv_, vt = np.linalg.svd(pts - c, full_matrices=False)
        radii = (2.0 * sv_[0] / np.sqrt(len(pts)), 2.0 * sv_[1] / np.sqrt(len(pts)), 0.0025)
        self.meshes[f"sacroiliac_joint_{side}"] = ellipsoid(c, vt, radii)
        self.paths[f"sacroiliac_joint_{side}"] = c[None]

    def _facet_joints(self, side: str) -> None:
        s = SIDES[side]
        for name, upper, lower in (("facet_joint_l3_l4", "vertebra_l3", "vertebra_l4"),
                                   ("facet_joint_l4_l5", "vertebra_l4", "vertebra_l5"),
                                   ("facet_joint_l5_s1", "vertebra_l5", "sacrum")):
            uv, lv = self.v(upper), self.v(lower)
            k = int(upper[-1])
            _, back, _ = self.canal(k)
            sel_u = uv[(uv[:, 2] * s > 0.008) & (uv[:, 0] < back - 0.012)]
            sel_l = lv[(lv[:, 2] * s > 0.008) & (lv[:, 0] < back - 0.012) & (lv[:, 1] > uv[:, 1].min() - 0.03)]
            d, j = cKDTree(sel_l).query(sel_u)
            close = np.argsort(d)[:60]
            pts = (sel_u[close] + sel_l[j[close]]) / 2
            c = pts.mean(0)
            gap_dir = unit((sel_l[j[close]] - sel_u[close]).mean(0) + 1e-9)
            if not np.isfinite(gap_dir).all():
                gap_dir = np.array([0, 0, s])
            a1 = unit(np.cross(gap_dir, [1.0, 0, 0]))
            a2 = unit(np.cross(gap_dir, a1))
            self.meshes[f"{name}_{side}"] = ellipsoid(c, np.array([a1, a2, gap_dir]), (0.008, 0.006, 0.0025), subdivisions=2)
            self.paths[f"{name}_{side}"] = c[None]

    def _coccyx(self) -> None:
        """Four small fused segments continuing the sacrum's curve down and forward from its apex."""
        sv = self.v("sacrum")
        apex = self.sk.landmarks["sacrum_apex"]
        low = sv[(sv[:, 1] < apex[1] + 0.03) & (np.abs(sv[:, 2]) < 0.02)]
        tangent = unit(apex - low.mean(0))
        tangent = unit(tangent * [1, 1, 0])
        fwd = unit(np.array([1.0, 0, 0]) - tangent[0] * tangent)
        parts, pts = [], []
        p = apex + tangent * 0.004
        for k, (length, width) in enumerate(((0.011, 0.011), (0.009, 0.008), (0.008, 0.006), (0.006, 0.0045))):
            direction = unit(tangent + fwd * 0.25 * k)
            c = p + direction * length / 2
            ax = np.array([direction, unit(np.cross(direction, [0, 0, 1.0])), [0, 0, 1.0]])
            ax[1] = unit(np.cross(ax[2], ax[0]))
            parts.append(ellipsoid(c, ax, (length / 2, width * 0.45, width), subdivisions=2))
            pts.append(c)
            p = c + direction * (length / 2 + 0.0015)
        self.meshes["coccyx"] = merge(parts)
        self.paths["coccyx"] = np.asarray(pts)

    # -- nerves --------------------------------------------------------------------------------
    def _slice_centroid(self, v: np.ndarray, y: float, half: float = 0.006) -> np.ndarray | None:
        b = _band(v, y, half)
        return b.mean(0) if len(b) >= 3 else None

    def _nerves(self, side: str) -> None:
        s = SIDES[side]
        lm = self.sk.landmarks
        F = self.foramina(side)
        for k, p in F.items():
            self.landmarks[f"foramen_{k}_{side}"] = p
        bones = (f"hip_bone_{side}", f"femur_{side}", "sacrum")
        psoas, iliacus = self.v(f"psoas_major_{side}"), self.v(f"iliacus_{side}")
        piri = self.paths[f"piriformis_{side}"]
        notch = lm_notch = self.landmarks[f"greater_sciatic_notch_{side}"]
        i_n = int(np.argmin(np.linalg.norm(piri - notch, axis=1)))
        pv = self.v(f"piriformis_{side}")
        # thickness of piriformis at the notch, measured across its centre line
        near = pv[np.linalg.norm(pv - piri[i_n], axis=1) < 0.03]
        half_thick = float(np.percentile(piri[i_n][1] - near[:, 1], 95))
        # out of the foramen just below piriformis, against the notch's lower part
        below = notch + [-0.008, -0.03, -0.004 * s]
        below[1] = min(below[1], piri[i_n][1] - half_thick - 0.004)
        above = piri[i_n] + [0.0, float(np.percentile(near[:, 1] - piri[i_n][1], 95)) + 0.006, 0.0]
        self.landmarks[f"sciatic_exit_{side}"] = below
        # lumbosacral plexus: on the front of piriformis, lateral to the sacral foramina
        plexus = piri[max(i_n - 7, 1)] + [0.014, -half_thick, 0.0]
        it = lm[f"ischial_tuberosity_{side}"]
        gtl = lm[f"greater_trochanter_lateral_{side}"]
        knee = lm[f"knee_{side}"]

        # roots: from the dural sac through their foramina towards the plexuses
        psoas_mid = lambda y: self._slice_centroid(psoas, y)  # noqa: E731
        for k in range(1, 6):
            f0 = F[f"L{k}"]
            start = np.array([self.canal(k)[0], f0[1] + 0.012, 0.008 * s])
            out1 = f0 + [0.006, -0.012, 0.012 * s]
            if k <= 4:
                pm = psoas_mid(f0[1] - 0.035)
                end = pm if pm is not None else f0 + [0.02, -0.04, 0.03 * s]
            else:
                end = plexus + [0.0, 0.03, -0.01 * s]
            ctrl = np.array([start, f0, out1, end])
            self.add(f"nerve_root_l{k}_{side}", [self.nerve(f"nerve_root_l{k}_{side}", ctrl, 0.0028, n=30, sides=10, depth=0.0)])
        for k in (1, 2, 3):
            f0 = F[f"S{k}"]
            start = f0 + [-0.02, 0.004, -0.012 * s]
            ctrl = np.array([start, f0, f0 + [0.008, -0.006, 0.01 * s], plexus + [0.0, -0.004 * k, 0.0]])
            self.add(f"nerve_root_s{k}_{side}", [self.nerve(f"nerve_root_s{k}_{side}", ctrl, 0.003 - 0.0004 * k, n=24, sides=10, depth=0.0)])
        # lumbosacral trunk (L4-L5): over the sacral ala, in front of the SI joint, to the plexus
        ala = F["L5"] + [0.025, -0.03, 0.012 * s]
        ctrl = np.array([F["L4"] + [0.012, -0.03, 0.02 * s], ala, plexus + [0.005, 0.015, 0.0], plexus])
        self.add(f"lumbosacral_trunk_{side}", [self.nerve(f"lumbosacral_trunk_{side}", ctrl, 0.0035, n=30, avoid=("sacrum", f"hip_bone_{side}"))])

        # sciatic: plexus -> under piriformis -> behind the gemelli, obturator internus and
        # quadratus femoris midway between tuberosity and trochanter -> under biceps femoris
        # long head on adductor magnus -> divides above the knee
        zmid = it[2] * 0.55 + gtl[2] * 0.45
        ctrl = [plexus, (plexus + below) / 2 + [0.0, -0.012, 0.0], below, below + [-0.012, -0.012, 0.004 * s]]
        for fma_r, fma_l in ((22336, 22337), (22338, 22339)):  # gemellus inferior, quadratus femoris
            mv = self.fma(fma_r if side == "right" else fma_l)
            c = mv.mean(0)
            band = mv[np.abs(mv[:, 2] - zmid) < 0.012]
            ctrl.append(np.array([band[:, 0].min() - 0.008, c[1], zmid]))
        am = self.v(f"adductor_magnus_{side}")
        bflh = self.fma(45888 if side == "right" else 45889)
        sm = self.fma(22448 if side == "right" else 22449)
        division_y = knee[1] + 0.085
        for y in np.arange(it[1] - 0.06, division_y + 0.01, -0.045):
            cb, cs = self._slice_centroid(bflh, y, 0.01), self._slice_centroid(sm, y, 0.01)
            if cb is None or cs is None:
                continue
            z = (cb[2] + cs[2]) / 2
            band = am[(np.abs(am[:, 1] - y) < 0.01) & (np.abs(am[:, 2] - z) < 0.015)]
            x = band[:, 0].min() - 0.007 if len(band) else min(cb[0], cs[0]) + 0.01
            ctrl.append(np.array([x, y, z]))
        fv = self.v(f"femur_{side}")
        fb = _band(fv, division_y, 0.006)
        division = np.array([fb[:, 0].min() - 0.02, division_y, fb[:, 2].mean()])
        ctrl.append(division)
        sci = self.nerve(f"sciatic_nerve_{side}", ctrl, np.r_[0.0065, np.full(8, 0.006), 0.0055], n=80, sides=12,
                         avoid=bones + (f"piriformis_{side}", f"quadratus_femoris_{side}"), depth=0.006)
        self.add(f"sciatic_nerve_{side}", [sci])
        self.landmarks[f"sciatic_division_{side}"] = division

        # tibial: popliteal fossa, between the gastrocnemius heads, deep to soleus, behind the
        # medial malleolus, into the sole (medial and lateral plantar nerves)
        tv, bv = self.v(f"tibia_{side}"), self.v(f"fibula_{side}")
        foot = self.v(f"foot_bones_{side}")
        mm, lmall = lm[f"medial_malleolus_{side}"], lm[f"lateral_malleolus_{side}"]
        ctrl = [division]
        kb = _band(fv, knee[1] + 0.02, 0.006)
        ctrl.append(np.array([kb[:, 0].min() - 0.018, knee[1] + 0.02, kb[:, 2].mean()]))
        for y in (knee[1] - 0.06, knee[1] - 0.14, knee[1] - 0.22, knee[1] - 0.30):
            tb, bb = _band(tv, y, 0.006), _band(bv, y, 0.006)
            if len(tb) and len(bb):
                ctrl.append(np.array([tb[:, 0].min() - 0.022, y, tb[:, 2].mean() * 0.7 + bb[:, 2].mean() * 0.3]))
        ctrl.append(mm + [-0.022, 0.035, 0.004 * s])
        ctrl.append(mm + [-0.018, -0.01, -0.002 * s])
        calc = self.fma(24497 if side == "right" else 24498)
        cc = calc.mean(0)
        ctrl.append(np.array([cc[0] + 0.01, cc[1] - 0.012, cc[2] - 0.018 * s]))
        sole_y = float(foot[:, 1].min())
        mt2 = self.fma(24509 if side == "right" else 24510)
        c2 = mt2.mean(0)
        ctrl.append(np.array([c2[0] - 0.02, sole_y + 0.004, c2[2]]))
        tib = self.nerve(f"tibial_nerve_{side}", ctrl, np.r_[0.0055, 0.005, 0.0045, 0.004, 0.0035, 0.003], n=70,
                         avoid=(f"tibia_{side}", f"femur_{side}", f"foot_bones_{side}"), depth=0.005)
        split = ctrl[-2]
        mt1 = self.fma(24507 if side == "right" else 24508)
        mt5 = self.fma(24515 if side == "right" else 24516)
        med_pl = self.nerve(f"tibial_nerve_{side}_1", [split, (split + mt1.mean(0)) / 2 + [0, -0.012, 0], mt1.mean(0) + [0.02, -0.012, 0]],
                            0.002, n=20, sides=8, avoid=(f"foot_bones_{side}",), depth=0.004)
        lat_pl = self.nerve(f"tibial_nerve_{side}_2", [split, (split + mt5.mean(0)) / 2 + [0, -0.012, 0], mt5.mean(0) + [0.0, -0.01, 0]],
                            0.0018, n=20, sides=8, avoid=(f"foot_bones_{side}",), depth=0.004)
        self.add(f"tibial_nerve_{side}", [tib, med_pl, lat_pl])

        # common fibular: along biceps femoris, behind the fibular head, round the fibular neck
        head = lm[f"fibular_head_{side}"]
        neck_band = _band(bv, head[1] - 0.03, 0.004)
        neck = neck_band[np.argmax(neck_band[:, 2] * s)]
        ctrl = [division, np.array([kb[:, 0].min() - 0.012, knee[1] + 0.02, kb[:, 2].mean() + 0.03 * s]),
                head + [-0.012, 0.004, 0.004 * s], neck + [-0.002, 0.0, 0.005 * s], neck + [0.01, -0.008, 0.003 * s]]
        cf = self.nerve(f"common_fibular_nerve_{side}", ctrl, 0.0038, n=36, avoid=(f"fibula_{side}", f"femur_{side}", f"tibia_{side}"), depth=0.005)
        self.add(f"common_fibular_nerve_{side}", [cf])
        start = ctrl[-1]
        # deep fibular: in front of the interosseous membrane to the first web space
        ctrl = [start]
        for y in (head[1] - 0.08, head[1] - 0.16, head[1] - 0.25, head[1] - 0.32):
            tb, bb = _band(tv, y, 0.006), _band(bv, y, 0.006)
            if len(tb) and len(bb):
                ctrl.append(np.array([max(tb[:, 0].mean(), bb[:, 0].mean()) + 0.008, y, (tb[:, 2].mean() + bb[:, 2].mean()) / 2]))
        talus = self.fma(24482 if side == "right" else 24483)
        ta = talus[np.argmax(talus[:, 1])]
        ctrl.append(np.array([talus[:, 0].max() - 0.005, ta[1] + 0.012, ta[2]]))
        top12 = np.vstack([mt1, mt2])
        t12 = top12[top12[:, 1] > np.percentile(top12[:, 1], 80)]
        ctrl.append(np.array([t12[:, 0].mean(), t12[:, 1].mean() + 0.005, (mt1.mean(0)[2] + mt2.mean(0)[2]) / 2]))
        ctrl.append(np.array([t12[:, 0].max(), t12[:, 1].mean() + 0.002, (mt1.mean(0)[2] + mt2.mean(0)[2]) / 2]))
        self.add(f"deep_fibular_nerve_{side}", [self.nerve(f"deep_fibular_nerve_{side}", ctrl, 0.0022, n=50, sides=8,
                                                             avoid=(f"tibia_{side}", f"fibula_{side}", f"foot_bones_{side}"), depth=0.004)])
        # superficial fibular: down the lateral leg in the fibularis, out through the fascia in its
        # lower third, over the ankle to the dorsum of the foot
        ctrl = [start]
        for y, out in ((head[1] - 0.08, 0.012), (head[1] - 0.18, 0.014), (head[1] - 0.28, 0.016)):
            bb = _band(bv, y, 0.006)
            if len(bb):
                c = bb.mean(0)
                ctrl.append(c + [0.012, 0.0, out * s])
        mt3 = self.fma(24511 if side == "right" else 24512)
        ctrl.append(lmall + [0.03, 0.05, 0.0])
        ctrl.append(np.array([mt3.mean(0)[0] - 0.02, mt3[:, 1].max() + 0.006, mt3.mean(0)[2]]))
        ctrl.append(np.array([mt3[:, 0].max(), mt3[:, 1].max() + 0.004, mt3.mean(0)[2]]))
        self.add(f"superficial_fibular_nerve_{side}", [self.nerve(f"superficial_fibular_nerve_{side}", ctrl, 0.0018, n=50, sides=8,
                                                                   avoid=(f"fibula_{side}", f"foot_bones_{side}"), depth=0.003)])
        # sural: from the popliteal fossa between the gastrocnemius heads, down the back of the
        # calf, behind the lateral malleolus, along the lateral foot
        gas = self.v(f"gastrocnemius_{side}")
        ctrl = [np.array([kb[:, 0].min() - 0.02, knee[1] - 0.01, kb[:, 2].mean()])]
        for y in (knee[1] - 0.10, knee[1] - 0.20):
            g = _band(gas, y, 0.006)
            if len(g):
                ctrl.append(np.array([g[:, 0].min() - 0.003, y, g[:, 2].mean()]))
        ctrl.append(lmall + [-0.04, 0.10, -0.008 * s])
        ctrl.append(lmall + [-0.016, 0.0, 0.006 * s])
        ctrl.append(np.array([mt5.mean(0)[0] - 0.02, mt5.mean(0)[1], mt5[:, 2].max() * (s > 0) + mt5[:, 2].min() * (s < 0) + 0.006 * s]))
        self.add(f"sural_nerve_{side}", [self.nerve(f"sural_nerve_{side}", ctrl, 0.0017, n=50, sides=8,
                                                     avoid=(f"fibula_{side}", f"foot_bones_{side}", f"gastrocnemius_{side}"), depth=0.003)])

        # femoral: forms in psoas, leaves its lateral border, runs in the groove between psoas
        # and iliacus, under the inguinal ligament lateral to the femoral artery
        lig = self.v(f"inguinal_ligament_{side}")
        art = self.fma(70249 if side == "right" else 70250)
        art_top = art[art[:, 1] > art[:, 1].max() - 0.02].mean(0)
        ctrl = [F["L3"] + [0.02, -0.04, 0.03 * s]]
        sac_top = float(self.sk.landmarks["sacrum_top"][1])
        for y in np.linspace(sac_top, art_top[1] + 0.05, 5):
            pb, ib = _band(psoas, y, 0.005), _band(iliacus, y, 0.005)
            if len(pb) < 5 or len(ib) < 5:
                continue
            d, j = cKDTree(ib).query(pb)
            close = d < np.percentile(d, 5) + 0.004
            contact = (pb[close] + ib[j[close]]) / 2
            ctrl.append(contact[np.argmax(contact[:, 0])] + [0.005, 0, 0])
        lig_near = lig[np.abs(lig[:, 2] - (art_top[2] + 0.015 * s)) < 0.01]
        under = np.array([lig_near[:, 0].mean() - 0.012, lig_near[:, 1].min() - 0.014, art_top[2] + 0.014 * s])
        ctrl.append(under)
        for dy in (0.04, 0.08):
            ab = _band(art, under[1] - dy, 0.006)
            if len(ab):
                ctrl.append(ab.mean(0) + [-0.004, 0.0, 0.014 * s])
        self.landmarks[f"femoral_nerve_under_ligament_{side}"] = under
        fn_path = ctrl
        self.add(f"femoral_nerve_{side}", [self.nerve(f"femoral_nerve_{side}", ctrl, 0.0042, n=50, avoid=bones, depth=0.006)])
        # saphenous: from the femoral triangle down the adductor canal under sartorius, the
        # medial knee, the medial leg and in front of the medial malleolus
        sart = self.v(f"sartorius_{side}")
        ctrl = [fn_path[-1]]
        for y in np.linspace(under[1] - 0.14, knee[1] + 0.06, 4):
            sc, fc = self._slice_centroid(sart, y, 0.008), self._slice_centroid(fv, y, 0.008)
            if sc is not None and fc is not None:
                ctrl.append(sc + (fc - sc) * 0.35)
        sk_ = self._slice_centroid(sart, knee[1] - 0.01, 0.01)
        if sk_ is not None:
            ctrl.append(sk_ + [0.0, 0.0, 0.004 * s])
        for y in (knee[1] - 0.12, knee[1] - 0.25):
            tb = _band(tv, y, 0.006)
            ctrl.append(tb[np.argmin(tb[:, 2] * s)] + [-0.006, 0.0, -0.008 * s])
        ctrl.append(mm + [0.014, 0.012, -0.006 * s])
        ctrl.append(mm + [0.025, -0.015, -0.004 * s])
        self.add(f"saphenous_nerve_{side}", [self.nerve(f"saphenous_nerve_{side}", ctrl, 0.0018, n=60, sides=8,
                                                         avoid=(f"femur_{side}", f"tibia_{side}"), depth=0.004)])
        # lateral femoral cutaneous: from the lateral border of psoas across iliacus towards the
        # ASIS, under the inguinal ligament about 1.5 cm medial to it, onto the lateral thigh
        asis = lm[f"ASIS_{side}"]
        ib = _band(iliacus, lm[f"iliac_crest_top_{side}"][1] - 0.035, 0.006)
        ib = ib[np.abs(ib[:, 2] - np.median(ib[:, 2])) < 0.012]  # the middle of the iliac fossa
        ctrl = [F["L3"] + [0.02, -0.03, 0.035 * s], ib[np.argmax(ib[:, 0])] + [0.004, 0, 0.0],
                asis + [-0.022, -0.008, -0.024 * s], asis + [0.004, -0.012, -0.02 * s], asis + [0.006, -0.04, -0.017 * s],
                asis + [-0.005, -0.12, 0.012 * s], asis + [-0.015, -0.2, 0.025 * s]]
        self.landmarks[f"lfcn_at_ligament_{side}"] = ctrl[3]
        self.add(f"lateral_femoral_cutaneous_nerve_{side}", [self.nerve(f"lateral_femoral_cutaneous_nerve_{side}", ctrl, 0.0017, n=50,
                                                                         sides=8, depth=0.004)])
        # obturator: from the medial border of psoas over the pelvic brim, along the side wall,
        # through the obturator canal, between adductor longus and brevis
        canal = self.obturator_canal(side)
        self.landmarks[f"obturator_canal_{side}"] = canal
        pb = _band(psoas, sac_top - 0.01, 0.006)
        al, ab_ = self.v(f"adductor_longus_{side}"), self.v(f"adductor_brevis_{side}")
        ctrl = [F["L3"] + [0.015, -0.045, 0.022 * s], pb[np.argmin(pb[:, 2] * s)] + [0.0, 0.0, -0.004 * s],
                canal + [-0.01, 0.03, -0.012 * s], canal + [-0.002, 0.004, -0.004 * s], canal + [0.004, -0.01, 0.0]]
        for y in (canal[1] - 0.05, canal[1] - 0.11):
            ca, cb_ = self._slice_centroid(al, y, 0.008), self._slice_centroid(ab_, y, 0.008)
            if ca is not None and cb_ is not None:
                ctrl.append((ca + cb_) / 2)
        self.add(f"obturator_nerve_{side}", [self.nerve(f"obturator_nerve_{side}", ctrl, 0.0028, n=50, avoid=(f"hip_bone_{side}",), depth=0.006)])
        # superior gluteal: out above piriformis, forward between gluteus medius and minimus to TFL
        mn, md = self.v(f"gluteus_minimus_{side}"), self.v(f"gluteus_medius_{side}")
        d, _ = cKDTree(md).query(mn)
        contact = mn[d < 0.004]
        contact = contact[contact[:, 1] > above[1] - 0.01]
        ctrl = [plexus + [0.0, 0.02, 0.0], above + [0.006, 0.0, -0.004 * s], above]
        xs = np.linspace(above[0] + 0.02, asis[0] - 0.04, 4)
        for x in xs:
            b = contact[np.abs(contact[:, 0] - x) < 0.006]
            if len(b):
                ctrl.append(b[np.argsort(b[:, 1])[len(b) // 2]])
        tfl = self.v(f"tensor_fasciae_latae_{side}")
        tt = tfl[tfl[:, 1] > np.percentile(tfl[:, 1], 70)]
        ctrl.append(tt.mean(0))
        self.add(f"superior_gluteal_nerve_{side}", [self.nerve(f"superior_gluteal_nerve_{side}", ctrl, 0.0024, n=50, sides=8,
                                                                avoid=bones, depth=0.01)])
        # inferior gluteal: out below piriformis, medial to the sciatic, into gluteus maximus
        gm = self.v(f"gluteus_maximus_{side}")
        start = below + [-0.006, 0.0, -0.01 * s]
        inner = gm[np.linalg.norm(gm - start, axis=1) < 0.08]
        deep = inner[np.argsort(np.linalg.norm(inner - start, axis=1))[:20]].mean(0)
        ctrl = [plexus + [0.0, -0.01, -0.004 * s], start, (start + deep) / 2 + [-0.004, 0.0, 0.0], deep + [0.004, 0.01, 0.01 * s]]
        self.add(f"inferior_gluteal_nerve_{side}", [self.nerve(f"inferior_gluteal_nerve_{side}", ctrl, 0.0022, n=30, sides=8,
                                                                avoid=bones, depth=0.01)])
        # posterior femoral cutaneous: below piriformis, down the back of the thigh under the fascia
        ham = self.v(f"hamstrings_{side}")
        ctrl = [plexus + [0.0, -0.016, -0.006 * s], below + [-0.004, -0.006, -0.012 * s],
                np.array([it[0] - 0.03, it[1] - 0.01, (it[2] + gtl[2]) / 2])]
        for y in np.linspace(it[1] - 0.08, knee[1] + 0.04, 5):
            hb = _band(ham, y, 0.008)
            if len(hb):
                ctrl.append(np.array([hb[:, 0].min() - 0.004, y, hb[:, 2].mean()]))
        self.add(f"posterior_femoral_cutaneous_nerve_{side}", [self.nerve(f"posterior_femoral_cutaneous_nerve_{side}", ctrl, 0.0018, n=60,
                                                                           sides=8, avoid=bones, depth=0.004)])
        # superior cluneal: three branches over the posterior iliac crest 7-8 cm from the midline
        hv = self.v(f"hip_bone_{side}")
        branches = []
        for k, dz in enumerate((0.065, 0.077, 0.089)):
            band = hv[np.abs(hv[:, 2] * s - dz) < 0.004]
            band = band[band[:, 0] < lm[f"iliac_crest_top_{side}"][0] + 0.01]
            c = band[np.argmax(band[:, 1])]
            ctrl = [np.array([c[0] - 0.02, c[1] + 0.07, 0.035 * s]), c + [-0.012, 0.02, 0.0], c + [-0.016, 0.0, 0.003 * s],
                    c + [-0.025, -0.05, 0.01 * s], c + [-0.03, -0.10, 0.02 * s]]
            branches.append(self.nerve(f"superior_cluneal_nerves_{side}_{k}", ctrl, 0.0013, n=30, sides=8,
                                       avoid=(f"hip_bone_{side}",), depth=0.005))
        self.add(f"superior_cluneal_nerves_{side}", branches)
        # middle cluneal: from the posterior sacral foramina over the sacrum to the medial buttock
        branches = []
        sv = self.v("sacrum")
        for k, dy in enumerate((0.02, 0.045, 0.065)):
            yl = F["S1"][1] - dy + 0.02
            back = sv[(np.abs(sv[:, 1] - yl) < 0.005) & (np.abs(sv[:, 2] - 0.022 * s) < 0.006)]
            if not len(back):
                continue
            p0 = back[np.argmin(back[:, 0])] + [-0.004, 0.0, 0.0]
            ctrl = [p0, p0 + [-0.015, -0.008, 0.025 * s], p0 + [-0.02, -0.03, 0.055 * s], p0 + [-0.02, -0.05, 0.08 * s]]
            branches.append(self.nerve(f"middle_cluneal_nerves_{side}_{k}", ctrl, 0.0011, n=24, sides=8,
                                       avoid=("sacrum",), depth=0.005))
        self.add(f"middle_cluneal_nerves_{side}", branches)
        del lm_notch

    def _canal_contents(self) -> None:
        """Dural sac and cauda equina: down the lumbar canal to S2 (sac) and the sacral canal."""
        centres = []
        for k in range(1, 6):
            cx, _, ymid = self.canal(k)
            v = self.v(f"vertebra_l{k}")
            centres.append([cx, v[:, 1].max() - 0.005, 0.0])
            centres.append([cx, ymid, 0.0])
        c = np.array(centres)
        # the sacral canal: midway between the sacrum's pelvic and dorsal surfaces, near the midline
        sv = self.v("sacrum")
        mid = sv[np.abs(sv[:, 2]) < 0.004]
        for y in (self.landmarks["sacral_promontory"][1] - 0.015, self.landmarks["sacral_promontory"][1] - 0.04,
                  self.landmarks["sacral_promontory"][1] - 0.065):
            b = mid[np.abs(mid[:, 1] - y) < 0.004]
            if len(b) < 4:
                continue
            xs = np.sort(b[:, 0])
            g = int(np.argmax(np.diff(xs)))
            c = np.vstack([c, [(xs[g] + xs[g + 1]) / 2, y, 0.0]])
        c = c[np.argsort(-c[:, 1])]
        path = smooth_curve(c, 60, smoothing=3e-5)
        sac_end = int(len(path) * 0.8)
        r_sac = np.interp(np.linspace(0, 1, sac_end), [0, 0.75, 1], [0.0075, 0.0072, 0.003])
        self.meshes["dural_sac"] = tube(path[:sac_end], r_sac, sides=18)
        self.paths["dural_sac"] = path[:sac_end]
        r = np.interp(np.linspace(0, 1, len(path)), [0, 0.7, 1], [0.0048, 0.0042, 0.0022])
        self.meshes["cauda_equina"] = tube(path, r, sides=14)
        self.paths["cauda_equina"] = path
