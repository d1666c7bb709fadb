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
        assert s["kind"] in {"bone", "muscle", "bursa", "nerve", "joint", "vessel", "skin"}
    assert (atlas.root / "ATTRIBUTION.md").read_text().count("MPL") >= 1
    assert (atlas.root / "LICENSE-MPL-2.0.txt").read_text().startswith("Mozilla Public License")


def test_budget(atlas):
    triangles = sum(s.triangles for s in atlas.manifest.values())
    size = sum(p.stat().st_size for p in atlas.root.iterdir())
    assert triangles <= 300_000
    assert size <= 15 * 2**20
    hip = atlas.info("hip_bone_right").triangles
    assert 12_000 <= hip <= 16_000


def test_every_structure_loads_as_pyvista(atlas):
    for sid in atlas.manifest:
        pd = atlas.polydata(sid)
        assert pd.n_points == atlas.info(sid).vertices
        assert pd.n_cells == atlas.info(sid).triangles
        assert np.isfinite(pd.points).all()
        assert "Normals" in pd.point_data


@pytest.mark.parametrize("kind", ["bone", "muscle", "bursa", "joint", "nerve"])
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


def test_gluteus_medius_runs_from_ilium_to_trochanter(atlas):
    for side in SIDES:
        med = np.asarray(atlas.arrays(f"gluteus_medius_{side}")[0], float)
        ilium = cKDTree(atlas.arrays(f"hip_bone_{side}")[0])
        femur_v = np.asarray(atlas.arrays(f"femur_{side}")[0], float)
        gt = atlas.landmarks[f"greater_trochanter_tip_{side}"]
        near_gt = femur_v[np.linalg.norm(femur_v - gt, axis=1) < 0.04]
        # reaches the trochanter
        assert cKDTree(near_gt).query(med)[0].min() < 0.004
        # its origin line lies on the ilium, below the crest, above the acetabulum
        origin = atlas.paths[f"gluteus_medius_origin_{side}"]
        assert ilium.query(origin)[0].max() < 0.004
        assert (origin[:, 1] > atlas.landmarks[f"acetabulum_centre_{side}"][1] + 0.06).all()
        assert (origin[:, 1] < atlas.landmarks[f"iliac_crest_top_{side}"][1] + 0.005).all()
        # a fan: wide at the ilium, narrow at the trochanter; 1-2 cm at its thickest
        top, low = med[med[:, 1] > np.percentile(med[:, 1], 85)], med[med[:, 1] < np.percentile(med[:, 1], 8)]
        assert np.ptp(top[:, 0]) > 2.5 * np.ptp(low[:, 0])


def test_gluteus_medius_does_not_pass_through_bone(atlas):
    for side in SIDES:
        med = np.asarray(atlas.arrays(f"gluteus_medius_{side}")[0], float)
        for bone in (f"hip_bone_{side}", f"femur_{side}"):
            inside = mesh(atlas, bone).contains(med) if trimesh.ray.has_embree else _inside(mesh(atlas, bone), med)
            assert inside.mean() < 0.02, f"{inside.mean():.1%} of gluteus medius vertices inside {bone}"


def _inside(m: trimesh.Trimesh, pts: np.ndarray) -> np.ndarray:
    """Inside test by the nearest-vertex normal (good enough for points near a closed surface)."""
    tree = cKDTree(m.vertices)
    _, i = tree.query(pts)
    return ((pts - m.vertices[i]) * m.vertex_normals[i]).sum(1) < -0.001


def test_bursa_lies_between_trochanter_and_skin(atlas):
    skin = mesh(atlas, "skin")
    for side in SIDES:
        b = mesh(atlas, f"trochanteric_bursa_{side}")
        c = b.centroid
        gt = atlas.landmarks[f"greater_trochanter_lateral_{side}"]
        assert np.linalg.norm(c - gt) < 0.03
        assert c[2] * SIGN[side] > gt[2] * SIGN[side] - 0.005  # lateral to (outside) the trochanter
        assert not _inside(mesh(atlas, f"femur_{side}"), b.vertices).any()
        assert _inside(skin, b.vertices).all()  # under the skin


def test_piriformis_passes_the_greater_sciatic_notch_with_sciatic_below(atlas):
    for side in SIDES:
        notch = atlas.landmarks[f"greater_sciatic_notch_{side}"]
        piri = atlas.paths[f"piriformis_{side}"]
        sci = atlas.paths[f"sciatic_nerve_{side}"]
        i = np.argmin(np.linalg.norm(piri - notch, axis=1))
        assert np.linalg.norm(piri[i] - notch) < 0.02
        # origin on the sacrum, insertion on the greater trochanter tip
        assert cKDTree(atlas.arrays("sacrum")[0]).query(piri[0])[0] < 0.004
        assert np.linalg.norm(piri[-1] - atlas.landmarks[f"greater_trochanter_tip_{side}"]) < 0.03
        assert np.linalg.norm(sci - notch, axis=1).min() < 0.035  # through the notch too
        j = np.argmin(np.linalg.norm(sci - piri[i], axis=1))
        assert sci[j][1] < piri[i][1] - 0.01  # ... below piriformis where piriformis crosses it
        sg = atlas.paths[f"superior_gluteal_nerve_{side}"]
        k = np.argmin(np.linalg.norm(sg - notch, axis=1))
        assert sg[k][1] > piri[i][1]  # the superior gluteal nerve leaves above it


def test_l5_root_leaves_at_l5_s1(atlas):
    l5 = np.asarray(atlas.arrays("vertebra_l5")[0])
    sacrum_top = atlas.landmarks["sacrum_top"][1]
    for side in SIDES:
        path = atlas.paths[f"nerve_root_l5_{side}"]
        exit_pt = path[np.argmin(np.abs(np.abs(path[:, 2]) - 0.03))]
        assert sacrum_top - 0.015 < exit_pt[1] < np.median(l5[:, 1])
        l4 = atlas.paths[f"nerve_root_l4_{side}"]
        assert l4[np.argmin(np.abs(np.abs(l4[:, 2]) - 0.03))][1] > exit_pt[1] + 0.015  # L4 exits higher


def test_skin_encloses_every_structure(atlas):
    """Nothing pokes through the skin: every vertex of every structure lies inside the skin
    surface (its open top edge closed for the test)."""
    import pyvista as pv

    closed = atlas.polydata("skin").fill_holes(1.0).triangulate().clean()
    for sid in atlas.manifest:
        if sid == "skin":
            continue
        pts = pv.PolyData(np.asarray(atlas.arrays(sid)[0], float))
        sel = pts.select_interior_points(closed, method="cell_locator", check_surface=False)
        outside = int((~np.asarray(sel["selected_points"], bool)).sum())
        assert outside == 0, f"{sid}: {outside} vertices outside the skin"


def test_skin_spacing_fine_enough_to_paint(atlas):
    m = mesh(atlas, "skin")
    e = m.edges_unique
    mid = m.vertices[e].mean(1)
    hip_y = atlas.landmarks["acetabulum_centre_right"][1]
    roi = (mid[:, 1] > hip_y - 0.2) & (mid[:, 1] < hip_y + 0.25)
    assert np.median(m.edges_unique_length[roi]) <= 0.01


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
    assert {"T12", "L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3"} <= set(names)
    assert (labels["dermatome"] >= 0).all()
    for d in range(len(names)):
        for side in (-1, 1):
            keep = (labels["dermatome"] == d) & (np.sign(v[:, 2]) == side)
            assert keep.sum() > 30, f"{names[d]} missing on side {side}"
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
    for n in ("lateral_femoral_cutaneous", "superior_cluneal"):
        a = area[labels["nerve"] == names.index(n)].sum()
        assert 40 < a < 1500, f"{n}: {a} cm2"


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
