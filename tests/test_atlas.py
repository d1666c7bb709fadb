"""The built atlas: manifest integrity, closed surfaces, anatomical relations by geometry,
labelled skin, and the command line around it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hipviz.atlas.catalog import catalog
from hipviz.atlas.meshes import Atlas, AtlasError, check_files, load_atlas
from hipviz.cli import main
from hipviz.paths import data_dir
from hipviz.vocabulary import vocabulary

SIDES = ("left", "right")
SIGN = {"left": -1.0, "right": 1.0}


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return load_atlas()


def mesh(atlas, sid) -> trimesh.Trimesh:
    return atlas.trimesh(sid)


def test_manifest_lists_every_catalog_structure_and_files_verify(atlas):
    assert set(atlas.manifest) == set(catalog().atlas_ids())
    assert check_files(atlas.root) == []
    raw = atlas.raw
    for s in raw["structures"]:
        assert s["licence"] and s["source"] and len(s["sha256"]) == 64
        assert s["kind"] in {"bone", "muscle", "bursa", "nerve", "joint", "vessel", "skin", "ligament", "disc"}
        assert s["licence"] == "CC-BY-SA-2.1-JP"
    attribution = (atlas.root / "ATTRIBUTION.md").read_text()
    assert ("BodyParts3D, © The Database Center for Life Science licensed under CC Attribution-Share Alike 2.1 Japan"
            in attribution)
    assert (atlas.root / "LICENSE-CC-BY-SA-2.1-JP.txt").read_text().startswith("Creative Commons Attribution-ShareAlike 2.1 Japan")
    assert "hipviz body frame" in raw["frame"] and "+y superior" in raw["frame"]
    # BodyParts3D structures name their FMA ids; the muscles carry the side's own id
    assert "FMA22330" in atlas.info("gluteus_medius_right").source and atlas.info("gluteus_medius_left").fma == 22315
    assert atlas.info("piriformis_left").fma == 22341 and atlas.info("piriformis_right").fma == 22340


def test_budget(atlas):
    triangles = sum(s.triangles for s in atlas.manifest.values())
    size = sum(p.stat().st_size for p in atlas.root.iterdir())
    assert triangles <= 400_000
    assert size <= 12 * 2**20
    hip = atlas.info("hip_bone_right").triangles
    assert 4_000 <= hip <= 16_000


def test_every_structure_loads_as_pyvista(atlas):
    for sid in atlas.manifest:
        pd = atlas.polydata(sid)
        assert pd.n_points == atlas.info(sid).vertices
        assert pd.n_cells == atlas.info(sid).triangles
        assert np.isfinite(pd.points).all()
        assert "Normals" in pd.point_data


@pytest.mark.parametrize("kind", ["bone", "muscle", "bursa", "joint", "nerve", "ligament", "disc", "vessel", "skin"])
def test_structures_are_closed_surfaces(atlas, kind):
    for sid in atlas.ids(kind=kind):
        m = mesh(atlas, sid)
        assert m.is_watertight, f"{sid} is not closed"
        assert m.volume > 0, f"{sid} is inside out"


def test_greater_trochanter_lateral_to_femoral_head(atlas):
    lm = atlas.landmarks
    for side in SIDES:
        head = lm[f"acetabulum_centre_{side}"]
        gt = lm[f"greater_trochanter_lateral_{side}"]
        assert gt[2] * SIGN[side] > head[2] * SIGN[side] + 0.04


def test_femoral_heads_sit_in_their_sockets(atlas):
    for side in SIDES:
        v, _ = atlas.arrays(f"femur_{side}")
        c = atlas.landmarks[f"acetabulum_centre_{side}"]
        r = float(atlas.landmarks[f"femoral_head_radius_{side}"][0])
        d = np.linalg.norm(v - c, axis=1)
        assert abs(np.percentile(d, 0.5) - r) < 0.006  # the head surface is at radius r around the socket centre


def _bone_distance(atlas, pts, bone):
    """Exact distance from points to a bone's surface, and whether each point is inside it."""
    import gpytoolbox as gp

    v, f = atlas.arrays(bone)
    v, f = np.asarray(v, float), np.asarray(f, np.int32)
    sq, _, _ = gp.squared_distance(np.asarray(pts, float), v, f, use_cpp=True, use_aabb=True)
    w = gp.fast_winding_number(np.asarray(pts, float), v, f)
    return np.sqrt(sq), np.asarray(w) > 0.5


def _closest(atlas, p, sid):
    import gpytoolbox as gp

    v, f = atlas.arrays(sid)
    v, f = np.asarray(v, float), np.asarray(f, np.int32)
    _, i, b = gp.squared_distance(np.asarray(p, float)[None], v, f, use_cpp=True, use_aabb=True)
    return (v[f[i[0]]] * b[0][:, None]).sum(0)


def _verts(atlas, sid):
    return np.asarray(atlas.arrays(sid)[0], float)


def test_gluteus_medius_runs_from_outer_ilium_to_lateral_facet(atlas):
    for side in SIDES:
        med = _verts(atlas, f"gluteus_medius_{side}")
        acet = atlas.landmarks[f"acetabulum_centre_{side}"]
        gt = atlas.landmarks[f"greater_trochanter_lateral_{side}"]
        # its origin: a broad strip within 3 mm of the outer ilium, above the acetabulum, below the crest
        d_ilium, _ = _bone_distance(atlas, med, f"hip_bone_{side}")
        origin = med[(d_ilium < 0.003) & (med[:, 1] > acet[1] + 0.05)]
        assert len(origin) > 50 and np.ptp(origin[:, 0]) > 0.06
        hip = mesh(atlas, f"hip_bone_{side}")
        facing = hip.vertex_normals[cKDTree(hip.vertices).query(origin)[1]]
        assert (facing[:, 2] * SIGN[side] > 0).mean() > 0.8  # on the outer (gluteal) face of the ilium
        assert (origin[:, 1] < atlas.landmarks[f"iliac_crest_top_{side}"][1] + 0.005).all()
        # its insertion: within 3 mm of the greater trochanter's lateral facet
        near_gt = med[np.linalg.norm(med - gt, axis=1) < 0.04]
        d_fem, _ = _bone_distance(atlas, near_gt, f"femur_{side}")
        assert d_fem.min() < 0.003
        # a fan: wide at the ilium, narrow at the trochanter
        top, low = med[med[:, 1] > np.percentile(med[:, 1], 85)], med[med[:, 1] < np.percentile(med[:, 1], 8)]
        assert np.ptp(top[:, 0]) > 2.0 * np.ptp(low[:, 0])


def test_piriformis_from_anterior_sacrum_to_trochanter_tip(atlas):
    for side in SIDES:
        piri = _verts(atlas, f"piriformis_{side}")
        d_sac, _ = _bone_distance(atlas, piri, "sacrum")
        sac = _verts(atlas, "sacrum")
        on_sacrum = piri[d_sac < 0.003]
        assert len(on_sacrum) > 10
        assert np.median(on_sacrum[:, 0]) > np.median(sac[:, 0])  # the front (pelvic) surface
        tip = atlas.landmarks[f"greater_trochanter_tip_{side}"]
        near = piri[np.linalg.norm(piri - tip, axis=1) < 0.03]
        d_fem, _ = _bone_distance(atlas, near, f"femur_{side}")
        assert len(near) and d_fem.min() < 0.003


def test_hamstrings_from_the_ischial_tuberosity(atlas):
    for side in SIDES:
        ham = _verts(atlas, f"hamstrings_{side}")
        it = atlas.landmarks[f"ischial_tuberosity_{side}"]
        near = ham[np.linalg.norm(ham - it, axis=1) < 0.04]
        d, _ = _bone_distance(atlas, near, f"hip_bone_{side}")
        assert len(near) and d.min() < 0.003
        assert ham[:, 1].max() < it[1] + 0.06 and ham[:, 1].min() < atlas.landmarks[f"knee_{side}"][1]


MUSCLE_BONES = ("hip_bone", "femur", "sacrum", "tibia", "fibula", "patella")


def test_no_muscle_inside_bone_by_more_than_2mm(atlas):
    bones = [b for b in atlas.ids(kind="bone")]
    boxes = {b: (_verts(atlas, b).min(0) - 0.01, _verts(atlas, b).max(0) + 0.01) for b in bones}
    for sid in atlas.ids(kind="muscle"):
        v = _verts(atlas, sid)
        for b, (lo, hi) in boxes.items():
            sel = np.all((v > lo) & (v < hi), axis=1)
            if not sel.any():
                continue
            d, ins = _bone_distance(atlas, v[sel], b)
            depth = np.where(ins, d, 0.0)
            assert depth.max() <= 0.002, f"{sid} is {depth.max() * 1000:.1f} mm inside {b}"


def test_greater_trochanter_bursa_between_trochanter_and_iliotibial_tract(atlas):
    for side in SIDES:
        b = _verts(atlas, f"trochanteric_bursa_{side}")
        c = b.mean(0)
        gt = atlas.landmarks[f"greater_trochanter_lateral_{side}"]
        assert np.linalg.norm(c - gt) < 0.015
        d_fem, in_fem = _bone_distance(atlas, b, f"femur_{side}")
        d_itb, in_itb = _bone_distance(atlas, b, f"iliotibial_tract_{side}")
        assert not in_fem.any() and not in_itb.any()
        assert d_fem.min() < 0.002 and d_itb.min() < 0.002  # touching both
        # the femur on one side, the tract on the other
        pf, pt = _closest(atlas, c, f"femur_{side}"), _closest(atlas, c, f"iliotibial_tract_{side}")
        t = (c - pf) @ (pt - pf) / ((pt - pf) @ (pt - pf))
        assert -0.25 < t < 1.25 and np.linalg.norm(c - (pf + t * (pt - pf))) < 0.003
        assert c[2] * SIGN[side] > gt[2] * SIGN[side] - 0.005  # lateral to (outside) the trochanter


def test_sciatic_nerve_through_the_greater_sciatic_foramen_below_piriformis_to_the_foot(atlas):
    for side in SIDES:
        notch = atlas.landmarks[f"greater_sciatic_notch_{side}"]
        piri = atlas.paths[f"piriformis_{side}"]
        sci = atlas.paths[f"sciatic_nerve_{side}"]
        i = np.argmin(np.linalg.norm(piri - notch, axis=1))
        assert np.linalg.norm(piri[i] - notch) < 0.025
        assert cKDTree(_verts(atlas, "sacrum")).query(piri[0])[0] < 0.004
        j = np.argmin(np.linalg.norm(sci - notch, axis=1))
        assert np.linalg.norm(sci[j] - notch) < 0.04  # through the foramen (piriformis fills its top 3-4 cm)
        k = np.argmin(np.linalg.norm(piri - sci[j], axis=1))
        assert sci[j][1] < piri[k][1] - 0.01  # ... below piriformis
        # below piriformis no sciatic point is inside the muscle
        inside_piri = _bone_distance(atlas, sci, f"piriformis_{side}")[1]
        assert not inside_piri.any()
        # between the ischial tuberosity and the greater trochanter
        it = atlas.landmarks[f"ischial_tuberosity_{side}"]
        gt = atlas.landmarks[f"greater_trochanter_lateral_{side}"]
        k = np.argmin(np.abs(sci[:, 1] - it[1]))
        assert min(it[2], gt[2]) < sci[k][2] < max(it[2], gt[2])
        # divides above the knee; the tibial nerve reaches the sole
        knee = atlas.landmarks[f"knee_{side}"]
        assert knee[1] + 0.02 < sci[-1][1] < knee[1] + 0.15
        tib = atlas.paths[f"tibial_nerve_{side}"]
        assert tib[-1][1] < atlas.landmarks[f"ankle_{side}"][1] - 0.03
        assert np.linalg.norm(tib[0] - sci[-1]) < 0.01 and np.linalg.norm(atlas.paths[f"common_fibular_nerve_{side}"][0] - sci[-1]) < 0.01
        sg = atlas.paths[f"superior_gluteal_nerve_{side}"]
        k = np.argmin(np.linalg.norm(sg - notch, axis=1))
        assert sg[k][1] > piri[i][1]  # the superior gluteal nerve leaves above it


#: nerves whose centre line runs through bone by design: the roots through their foramina, the
#: dural sac and cauda equina in the canal
THROUGH_BONE = ("nerve_root_", "dural_sac", "cauda_equina")


def test_peripheral_nerves_stay_out_of_bone(atlas):
    """A peripheral nerve lies on bone, never in it. The generated centre lines still cut up to
    4 mm into the rim of the greater sciatic notch (sciatic, gluteal and posterior femoral
    cutaneous nerves) and into the medial tibia (saphenous); the bound keeps that from growing."""
    bones = [sid for sid, s in atlas.manifest.items() if s.kind == "bone"]
    worst = {}
    for sid, s in atlas.manifest.items():
        if s.kind != "nerve" or sid not in atlas.paths or sid.startswith(THROUGH_BONE):
            continue
        path = atlas.paths[sid]
        for b in bones:
            d, ins = _bone_distance(atlas, path, b)
            if ins.any():
                worst[f"{sid} in {b}"] = float(d[ins].max())
    too_deep = {k: f"{v * 1000:.1f} mm" for k, v in worst.items() if v > 0.004}
    assert not too_deep, too_deep


def test_femoral_nerve_under_the_inguinal_ligament_lateral_to_the_artery(atlas):
    for side in SIDES:
        fem = atlas.paths[f"femoral_nerve_{side}"]
        lig = _verts(atlas, f"inguinal_ligament_{side}")
        d, j = cKDTree(lig).query(fem)
        k = int(np.argmin(d))
        assert d[k] < 0.015
        assert fem[k][1] < lig[j[k]][1]  # beneath the ligament
        art = _verts(atlas, f"femoral_artery_{side}")
        level = art[np.abs(art[:, 1] - fem[k][1]) < 0.01]
        assert len(level) and fem[k][2] * SIGN[side] > level[:, 2].mean() * SIGN[side]  # lateral to it
        # in the groove between psoas and iliacus above
        above = fem[(fem[:, 1] < atlas.landmarks["sacrum_top"][1]) & (fem[:, 1] > fem[k][1] + 0.04)]
        for p in above[:: max(1, len(above) // 4)]:
            dp = cKDTree(_verts(atlas, f"psoas_major_{side}")).query(p)[0]
            di = cKDTree(_verts(atlas, f"iliacus_{side}")).query(p)[0]
            assert dp < 0.01 and di < 0.02
        # the lateral femoral cutaneous nerve passes just medial to the ASIS
        lfcn = atlas.paths[f"lateral_femoral_cutaneous_nerve_{side}"]
        asis = atlas.landmarks[f"ASIS_{side}"]
        q = lfcn[np.argmin(np.linalg.norm(lfcn - asis, axis=1))]
        assert np.linalg.norm(q - asis) < 0.03 and q[2] * SIGN[side] < asis[2] * SIGN[side] - 0.01


def test_l5_root_leaves_at_l5_s1(atlas):
    l5 = _verts(atlas, "vertebra_l5")
    for side in SIDES:
        def exit_point(path):  # where the root, coming out of the canal, is 2.6 cm from the midline
            return path[np.argmax(np.abs(path[:, 2]) >= 0.026)]

        exit_pt = exit_point(atlas.paths[f"nerve_root_l5_{side}"])
        assert l5[:, 1].min() - 0.015 < exit_pt[1] < np.median(l5[:, 1])
        assert exit_point(atlas.paths[f"nerve_root_l4_{side}"])[1] > exit_pt[1] + 0.015  # L4 exits higher


def test_skin_encloses_every_structure(atlas):
    """Nothing pokes through the skin: every vertex of every structure lies inside the closed skin."""
    import gpytoolbox as gp

    sv, sf = atlas.arrays("skin")
    sv, sf = np.asarray(sv, float), np.asarray(sf, np.int32)
    for sid in atlas.manifest:
        if sid == "skin":
            continue
        w = gp.fast_winding_number(_verts(atlas, sid), sv, sf)
        outside = int((np.asarray(w) < 0.5).sum())
        assert outside == 0, f"{sid}: {outside} vertices outside the skin"


def test_skin_is_a_whole_closed_person_fine_enough_to_paint(atlas, labels):
    m = mesh(atlas, "skin")
    assert m.is_watertight and m.volume > 0.05
    lo, hi = m.bounds
    assert hi[1] - lo[1] > 1.6  # head to soles
    e = m.edges_unique
    paint = (labels["region"] >= 0)
    both = paint[e[:, 0]] & paint[e[:, 1]]
    length = m.edges_unique_length[both]
    assert np.median(length) <= 0.01 and np.percentile(length, 95) <= 0.0105
    assert np.percentile(m.edges_unique_length, 99) <= 0.02  # 2 cm elsewhere
    # painting reaches the soles and the low back
    assert (labels["region"] == voc_index("sole")).sum() > 50
    assert (labels["region"] == voc_index("low_back_central")).sum() > 20


@pytest.fixture(scope="module")
def labels(atlas):
    return atlas.skin_label_arrays


def test_every_region_on_its_sides_with_plausible_area(atlas, labels):
    voc = vocabulary()
    area = atlas.skin_vertex_area_cm2
    for i, r in enumerate(voc.regions):
        sel = labels["region"] == i
        if r in voc.sided_regions:
            per_side = [area[sel & (labels["side"] == s)].sum() for s in (1, 2)]
            assert all(10 <= a <= 900 for a in per_side), f"{r}: {per_side} cm2"
            assert 0.8 < per_side[0] / per_side[1] < 1.25, f"{r} is lopsided: {per_side}"
        else:
            assert (labels["side"][sel] == 0).all() and 10 <= area[sel].sum() <= 400, r
    # sides follow the body: left is z < 0
    v = atlas.arrays("skin")[0]
    sided = labels["side"] > 0
    assert ((labels["side"][sided] == 2) == (v[sided, 2] > 0)).mean() > 0.995
    lh = voc_index("lateral_hip_trochanter")
    gt = atlas.landmarks["greater_trochanter_lateral_right"]
    nearest = cKDTree(v).query(gt + [0, 0, 0.03])[1]
    assert labels["region"][nearest] == lh and labels["side"][nearest] == 2
    # the head, the hands and the chest lie outside the area the app covers
    out = labels["region"] < 0
    assert out[np.argmax(v[:, 1])]
    assert out[np.argmax(v[:, 2])] and out[np.argmin(v[:, 2])]  # the hands, hanging furthest out
    chest = np.flatnonzero((v[:, 0] > 0.05) & (v[:, 1] > 0.35) & (np.abs(v[:, 2]) < 0.05))
    assert len(chest) and out[chest].all()
    assert ((labels["side"][out] == 0)).all() and (labels["dermatome"][out] < 0).all() and (labels["nerve"][out] == 0).all()
    # and everything from the low back and groin to the soles is labelled
    legs = (v[:, 1] < atlas.landmarks["acetabulum_centre_right"][1] - 0.40) & (np.abs(v[:, 2]) < 0.18)
    assert not out[legs].any()


def voc_index(region: str) -> int:
    return list(vocabulary().regions).index(region)


def _components(f, keep, n):
    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    e = e[keep[e[:, 0]] & keep[e[:, 1]]]
    A = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, comp = connected_components(A, directed=False)
    return comp


def test_dermatomes_are_contiguous_bands(atlas, labels):
    """Bands, not patches: per side, each dermatome is at most two connected pieces (the strip
    its dorsal ramus supplies on the back and its ventral territory on the trunk or limb, which
    are separate for the lower lumbar and sacral segments), holding nearly all its skin."""
    v, f = atlas.arrays("skin")
    names = atlas.raw["skin_labels"]["dermatomes"]
    assert names == ["T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4"]
    assert ((labels["dermatome"] >= 0) == (labels["region"] >= 0)).all()
    for d in range(len(names)):
        for side in (-1, 1):
            keep = (labels["dermatome"] == d) & (np.sign(v[:, 2]) == side)
            assert keep.sum() > (5 if names[d] == "S4" else 30), f"{names[d]} missing on side {side}"
            sizes = np.sort(np.bincount(_components(f, keep, len(v))[keep]))[::-1]
            big = sizes[sizes >= 0.03 * keep.sum()]
            assert len(big) <= 2 and big.sum() >= 0.97 * keep.sum(), f"{names[d]} ({side}) pieces: {sizes[:5]}"
    # order down the leg: L3 above L4 above L5 on the medial/anterior leg
    y = v[:, 1]
    leg = y < atlas.landmarks["acetabulum_centre_right"][1] - 0.08
    med = lambda n: np.median(y[leg & (labels["dermatome"] == names.index(n))])  # noqa: E731
    assert med("L2") > med("L3") > med("L4") and med("L3") > med("L5")


def test_cutaneous_nerve_territories(atlas, labels):
    names = atlas.raw["skin_labels"]["nerve_territories"]
    area = atlas.skin_vertex_area_cm2
    v = atlas.arrays("skin")[0]
    for n in ("lateral_femoral_cutaneous", "superior_cluneal", "middle_cluneal", "posterior_femoral_cutaneous",
              "saphenous", "sural", "superficial_fibular", "deep_fibular"):
        sel = labels["nerve"] == names.index(n)
        a = area[sel].sum()
        assert 10 < a < 1500, f"{n}: {a} cm2"
        assert 0.6 < area[sel & (v[:, 2] > 0)].sum() / area[sel & (v[:, 2] < 0)].sum() < 1.6, n


def test_atlas_check_cli(capsys):
    assert main(["atlas", "check"]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.fixture
def atlas_copy(tmp_path):
    dst = tmp_path / "meshes"
    shutil.copytree(data_dir("meshes"), dst)
    return dst


def test_atlas_check_names_a_corrupt_file(atlas_copy, capsys):
    p = atlas_copy / "piriformis_left.ply"
    p.write_bytes(p.read_bytes()[:-100])
    assert main(["atlas", "check", "--dir", str(atlas_copy)]) == 2
    err = capsys.readouterr().err
    assert "piriformis_left.ply" in err and "checksum" in err
    with pytest.raises(AtlasError, match="piriformis_left.ply"):
        Atlas(atlas_copy).arrays("piriformis_left")


def test_missing_file_and_bad_manifest(atlas_copy, capsys):
    (atlas_copy / "sacrum.ply").unlink()
    assert main(["atlas", "check", "--dir", str(atlas_copy)]) == 2
    assert "sacrum.ply: missing" in capsys.readouterr().err
    m = json.loads((atlas_copy / "manifest.json").read_text())
    m["version"] = 99
    (atlas_copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(AtlasError, match="version 99"):
        Atlas(atlas_copy)
    (atlas_copy / "manifest.json").write_text("{not json")
    assert main(["atlas", "check", "--dir", str(atlas_copy)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_unknown_structure_id(atlas):
    with pytest.raises(KeyError, match="unknown atlas structure"):
        atlas.arrays("gluteus_maximum_left")


PACK = data_dir("meshes").parent.parent / "shared" / "anatomy-meshes" / "bodyparts3d"


@pytest.mark.skipif(not (PACK / "sources.json").is_file(), reason="needs ../shared/anatomy-meshes/bodyparts3d")
@pytest.mark.parametrize("sid,fma", [("hip_bone_right", 16586), ("femur_left", 24475), ("patella_right", 24486),
                                     ("tibia_right", 24477), ("disc_l4_l5", 16036)])
def test_refined_surfaces_stay_within_a_millimetre_of_bodyparts3d(atlas, sid, fma):
    import gpytoolbox as gp

    from hipviz.atlas.build.bp3d import Pack

    v0, f0 = Pack(PACK).mesh(fma)
    sq, _, _ = gp.squared_distance(_verts(atlas, sid), v0, np.asarray(f0, np.int32), use_cpp=True, use_aabb=True)
    d = np.sqrt(sq)
    assert np.percentile(d, 99) <= 0.001 and d.max() <= 0.002, (np.percentile(d, 99), d.max())
