"""Referral paths, highlight sets, pattern overlays, overlap arithmetic, camera and explore mode."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

from hipviz import referral as R
from hipviz.atlas.catalog import catalog
from hipviz.atlas.meshes import load_atlas
from hipviz.knowledge.loader import knowledge
from hipviz.painmap import REGION_IDS, SIDE_CODES, PainMap, VertexPaint
from hipviz.render.views import views

CONDITIONS = list(knowledge())
SRC = pathlib.Path(R.__file__).parent


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _sides(cid):
    # every condition is shown on each side and on both; midline/both-sides patterns too
    return ("left", "right", None)


def _region_mask(atlas, region, side):
    lab = atlas.skin_label_arrays
    return (lab["region"] == REGION_IDS.index(region)) & (lab["side"] == SIDE_CODES[side])


@pytest.mark.parametrize("cid", CONDITIONS)
def test_every_condition_selects_on_each_side(cid, atlas):
    for side in _sides(cid):
        s = R.select(cid, side, atlas)
        assert s.highlight, "empty highlight set"
        assert set(s.highlight) <= set(atlas.manifest)
        assert set(s.sources) <= s.highlight
        # the path: ordered steps, existing atlas structures, roles and names filled in
        assert s.path.steps
        for i, st in enumerate(s.path.steps):
            assert st.index == i
            assert st.atlas_ids and set(st.atlas_ids) <= set(atlas.manifest)
            assert st.atlas_id in st.atlas_ids
            assert st.name and st.role
            assert set(st.atlas_ids) <= s.highlight
        frames = s.path.frames()
        assert len(frames) == len(s.path.steps)
        assert all(a < b for a, b in zip(frames, frames[1:])), "each frame lights one more step"
        assert frames[-1] == frozenset(s.path.atlas_ids)
        assert s.path.why and s.path.zone
        # the overlay
        w = s.weights
        assert w.dtype == np.float32 and w.shape == (atlas.info("skin").vertices,)
        assert 0 <= w.min() and w.max() <= 1 and w.max() > 0
        assert s.pattern_cm2 > 0
        assert s.view in views()
        assert s.to_dict()["condition"] == cid


@pytest.mark.parametrize("cid", CONDITIONS)
def test_highlight_and_path_follow_the_knowledge_file(cid, atlas):
    c = knowledge()[cid].condition
    for side in ("left", "right"):
        path = R.referral_path(cid, side, atlas)
        assert [s.base_id for s in path.steps] == list(c.referral_path.steps)
        for base in c.source_structures:
            assert catalog().resolve(base, side) in R.highlight_set(cid, side, atlas)
        other = "right" if side == "left" else "left"
        assert not any(i.endswith(f"_{other}") for i in R.highlight_set(cid, side, atlas)), "only that side"
    both = R.highlight_set(cid, None, atlas)
    for base in c.source_structures:
        for i in catalog().structures[base].ids():
            assert i in both


def test_nerve_root_path_roles_in_order(atlas):
    p = R.referral_path("radiculopathy_L5", "left", atlas)
    assert [s.atlas_id for s in p.steps] == ["vertebra_l4", "nerve_root_l5_left", "sciatic_nerve_left"]
    assert [s.role for s in p.steps] == ["spinal segment", "nerve root leaving its foramen", "nerve"]
    assert p.steps[1].carries == ("L5",)
    assert p.nerve_mediated
    both = R.referral_path("radiculopathy_L5", None, atlas)
    assert both.steps[1].atlas_ids == ("nerve_root_l5_left", "nerve_root_l5_right")


def test_tendon_path_is_local_and_stays_off_the_spine(atlas):
    """Gluteal tendinopathy is local pain: its path lights the tendons, not a nerve or a root."""
    p = R.referral_path("gtps_gluteal_tendinopathy", "right", atlas)
    assert p.kind == "local" and p.kind_label == "Local pain"
    assert not p.nerve_mediated and not p.passes_root
    assert [s.atlas_id for s in p.steps] == ["gluteus_medius_right", "gluteus_minimus_right"]
    assert all(s.kind != "nerve" for s in p.steps)
    assert p.why.startswith("Local pain") and "not along a nerve" in p.why
    assert p.zone[0].region == "lateral_hip_trochanter" and p.zone[0].sides == ("right",)


def test_trigger_point_path_gives_segmental_innervation(atlas):
    """Somatic referred pain runs through the nerve that supplies the muscle, never a root."""
    p = R.referral_path("gluteus_minimus_trigger_points", "right", atlas)
    assert p.kind == "somatic_referred" and not p.passes_root and not p.nerve_mediated
    assert p.steps[0].atlas_id == "gluteus_minimus_right"
    assert p.steps[1].role == "nerve supplying it"
    assert "superior gluteal nerve" in p.why and "L4" in p.why and "not along a trapped nerve" in p.why


@pytest.mark.parametrize("cid", CONDITIONS)
def test_every_path_carries_its_kind(cid, atlas):
    """Local and somatic referred paths never pass a nerve root; radicular ones do."""
    p = R.referral_path(cid, "left", atlas)
    assert p.kind in R.PATH_KINDS and p.kind_label == R.PATH_KINDS[p.kind]["label"]
    assert p.to_dict()["kind"] == p.kind and p.kind_explanation["patient"]
    if p.kind in ("local", "somatic_referred", "nerve_entrapment", "vascular"):
        assert not p.passes_root, f"{cid}: {p.kind} path through a root"
        assert not any(s.role.startswith("nerve root") for s in p.steps)
    if p.kind == "radicular":
        assert p.passes_root and p.nerve_mediated
    if p.kind == "local":
        assert p.why.startswith("Local pain")
    if p.kind == "somatic_referred":
        assert "Somatic referred pain" in p.why


def test_side_rule_on_the_overlay(atlas):
    lab = atlas.skin_label_arrays
    w_right = R.pattern_weights("radiculopathy_L5", "right", atlas)
    w_both = R.pattern_weights("radiculopathy_L5", None, atlas)
    assert w_right[lab["side"] == SIDE_CODES["left"]].max() == 0
    assert w_right[_region_mask(atlas, "low_back_central", "midline")].min() == pytest.approx(0.3)
    assert w_right[_region_mask(atlas, "lateral_calf", "right")].min() == pytest.approx(0.65)
    assert w_both[_region_mask(atlas, "lateral_calf", "left")].min() == pytest.approx(0.65)
    # both-sides and midline patterns ignore the side
    for cid in ("cauda_equina_syndrome", "abdominal_aortic_aneurysm"):
        assert np.array_equal(R.pattern_weights(cid, "left", atlas), R.pattern_weights(cid, None, atlas))
    assert not R.pattern_weights("radiculopathy_L5", "right", atlas).flags.writeable


def test_overlap_arithmetic_on_a_synthetic_paint(atlas):
    area = atlas.skin_vertex_area_cm2
    n = len(area)
    w = np.zeros(n, np.float32)
    w[:100] = 0.9
    w[100:200] = 0.2  # below the threshold: not pattern area
    painted = np.zeros(n, np.float32)
    painted[50:150] = 5.0
    o = R.overlap(w, painted, atlas)
    assert o.pattern_cm2 == pytest.approx(area[:100].sum())
    assert o.painted_cm2 == pytest.approx(area[50:150].sum())
    assert o.overlap_cm2 == pytest.approx(area[50:100].sum())
    assert o.share_of_painted == pytest.approx(area[50:100].sum() / area[50:150].sum())
    assert o.share_of_pattern == pytest.approx(area[50:100].sum() / area[:100].sum())
    # the same with a bool mask and with a VertexPaint
    assert R.overlap(w, painted > 0, atlas) == o
    vp = VertexPaint(atlas.info("skin").sha256, painted)
    assert R.overlap(w, vp, atlas) == o
    # nothing painted: shares are zero, not NaN
    z = R.overlap(w, np.zeros(n, bool), atlas)
    assert z.painted_cm2 == 0 and z.share_of_painted == 0 and z.share_of_pattern == 0
    with pytest.raises(ValueError):
        R.overlap(w[:10], painted, atlas)
    with pytest.raises(ValueError):
        R.overlap(w, painted[:10], atlas)


def test_painting_the_pattern_overlaps_it_fully(atlas):
    s = R.select("meralgia_paresthetica", "right", atlas)
    paint = np.where(s.pattern_mask(), 6.0, 0.0).astype(np.float32)
    o = s.overlap(paint)
    assert o.share_of_painted == pytest.approx(1.0) and o.share_of_pattern == pytest.approx(1.0)
    assert o.overlap_cm2 == pytest.approx(s.pattern_cm2)
    mirrored = R.select("meralgia_paresthetica", "left", atlas).overlap(paint)
    assert mirrored.overlap_cm2 == 0
    assert "cm²" in o.text()


def test_overlap_with_a_region_level_map(atlas):
    pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1, "regions": [
        {"region": "lateral_hip_trochanter", "side": "right", "intensity": 7}]})
    inten = R.painted_intensity(pm, atlas)
    m = _region_mask(atlas, "lateral_hip_trochanter", "right")
    assert np.all(inten[m] == 7) and np.all(inten[~m] == 0)
    o = R.select("gtps_gluteal_tendinopathy", "right", atlas).overlap(pm)
    assert o.painted_cm2 == pytest.approx(atlas.skin_vertex_area_cm2[m].sum())
    assert o.share_of_painted == pytest.approx(1.0)
    assert 0 < o.share_of_pattern < 1


def test_outline_is_the_border_of_the_zone(atlas):
    s = R.select("gtps_gluteal_tendinopathy", "left", atlas)
    edge = s.outline()
    mask = s.pattern_mask()
    assert edge.any() and not (edge & ~mask).any()
    assert edge.sum() < mask.sum()


@pytest.mark.parametrize("cid,side,view", [
    ("gtps_gluteal_tendinopathy", "right", "posterior_oblique_right"),
    ("gtps_gluteal_tendinopathy", "left", "posterior_oblique_left"),
    ("piriformis_syndrome", "left", "posterior_oblique_left"),
    ("proximal_hamstring_tendinopathy", "right", "posterior_oblique_right"),
    ("radiculopathy_L5", "right", "posterior"),
    ("facet_joint_pain", "left", "posterior"),
    ("cauda_equina_syndrome", None, "posterior"),
    ("hip_osteoarthritis", "left", "anterior"),
    ("fai_labral_tear", "right", "anterior"),
    ("meralgia_paresthetica", "right", "anterior"),
    ("abdominal_aortic_aneurysm", None, "anterior"),
])
def test_camera_suggestion(cid, side, view, atlas):
    assert R.suggest_view(cid, side, atlas)[0] == view


def test_camera_never_looks_from_the_other_side(atlas):
    for cid in CONDITIONS:
        for side, other in (("left", "right"), ("right", "left")):
            v = R.select(cid, side, atlas).view
            if knowledge()[cid].pattern.side_rule == "same_side":
                assert other not in v


def test_unknown_ids_and_sides_raise():
    with pytest.raises(KeyError, match="unknown condition"):
        R.select("not_a_condition")
    with pytest.raises(KeyError):
        R.pattern_weights("gtps")
    with pytest.raises(ValueError, match="side"):
        R.select("gtps_gluteal_tendinopathy", "up")
    with pytest.raises(ValueError):
        R.referral_path("gtps_gluteal_tendinopathy", 1)
    with pytest.raises(KeyError, match="unknown structure"):
        R.describe("gluteus_medius_middle")
    with pytest.raises(KeyError):
        R.describe("")
    # candidate sides read as both sides
    assert R.select("gtps_gluteal_tendinopathy", "both").side is None
    assert R.select("gtps_gluteal_tendinopathy", "either").side is None


@pytest.mark.parametrize("aid", list(load_atlas().manifest))
def test_explore_description_for_every_structure(aid, atlas):
    d = R.describe(aid, atlas)
    assert d.atlas_id == aid and d.name and d.what
    s, side = catalog().split(aid)
    assert d.base_id == s.base_id and d.side == side
    text = d.text()
    assert d.name in text
    k = knowledge()
    for rp in d.conditions:
        c = k[rp.condition].condition
        assert s.base_id in (c.source_structures if rp.role == "source" else c.referral_path.steps)
        assert rp.zone
    listed = {cid for cid, e in k.items() if s.base_id in e.condition.source_structures}
    assert set(d.sources_of) == listed
    w = R.structure_weights(aid, atlas)
    assert w.dtype == np.float32 and (w.max() > 0) == bool(listed)
    if side:
        other = SIDE_CODES["left" if side == "right" else "right"]
        assert w[atlas.skin_label_arrays["side"] == other].max(initial=0) == 0


def test_explore_details(atlas):
    d = R.describe("piriformis_right", atlas)
    assert d.innervation == "nerve to piriformis" and d.segments == ("S1", "S2")
    assert d.origin and d.insertion and d.action
    assert d.sources_of == ("piriformis_syndrome",)
    assert "Piriformis" in d.text() and "Innervation" in d.text()
    nr = R.describe("nerve_root_l5_left", atlas)
    assert "radiculopathy_L5" in nr.sources_of
    # only radicular conditions run through a nerve root
    assert not any(c.condition == "gtps_gluteal_tendinopathy" for c in nr.conditions)
    on_path = {c.condition for c in nr.conditions if c.role == "on the path"}
    assert all(knowledge()[cid].condition.referral_path.path_kind == "radicular" for cid in on_path)
    base = R.describe("gluteus_medius", atlas)
    assert base.side is None and "gtps_gluteal_tendinopathy" in base.sources_of
    assert d.to_dict()["conditions"][0]["zone"]


def test_search(atlas):
    assert R.search_structures("piriformis", atlas)[:2] == ["piriformis_left", "piriformis_right"]
    assert "sciatic_nerve_right" in R.search_structures("sciatic right", atlas)
    assert R.search_structures("zzzz", atlas) == []
    assert "meralgia_paresthetica" in R.search_conditions("meralgia")
    assert "gtps_gluteal_tendinopathy" in R.search_conditions("gluteal tendinopathy")
    assert len(R.search_conditions("")) == len(CONDITIONS)


@pytest.mark.parametrize("words,expected", [
    ("tendonitis", {"gtps_gluteal_tendinopathy", "proximal_hamstring_tendinopathy", "adductor_related_groin_pain"}),
    ("Tendinitis", {"gtps_gluteal_tendinopathy"}),
    ("bursitis of the hip", {"trochanteric_bursitis", "gtps_gluteal_tendinopathy"}),
    ("hip bursitis", {"trochanteric_bursitis", "gtps_gluteal_tendinopathy"}),
    ("sciatica", {"radiculopathy_L5", "radiculopathy_S1", "piriformis_syndrome"}),
    ("pinched nerve", {"radiculopathy_L1", "radiculopathy_L4", "radiculopathy_L5", "radiculopathy_S1"}),
    ("arthritis of the hip", {"hip_osteoarthritis"}),
    ("slipped disc", {"radiculopathy_L4", "radiculopathy_L5", "radiculopathy_S1", "cauda_equina_syndrome"}),
    ("broken hip", {"hip_fracture"}),
    ("groin strain", {"adductor_related_groin_pain"}),
    ("poor circulation", {"vascular_claudication"}),
    ("ankylosing spondylitis", {"axial_spondyloarthritis"}),
    ("spinal stenosis", {"lumbar_spinal_stenosis"}),
])
def test_everyday_words_find_the_right_conditions(words, expected):
    found = R.search_conditions(words)
    assert expected <= set(found), (words, found)
    matches = dict(R.search_conditions_matches(words))
    for cid in expected:
        if matches[cid] is not None:
            assert all(w in matches[cid].lower() for w in R._words(words))


def test_name_matches_come_before_everyday_word_matches():
    hits = R.search_conditions_matches("bursitis")
    assert hits[0] == ("trochanteric_bursitis", None)
    assert ("gtps_gluteal_tendinopathy", "hip bursitis") in hits


def test_skin_territories(atlas):
    t = R.skin_territories("dermatome", atlas)
    assert t.codes.shape == (atlas.info("skin").vertices,)
    assert "L5" in t.names and t.variable is not None and t.source
    assert {a[0] for a in t.anchors} >= {"L4", "L5", "S1"}
    for name, side, v, xyz in t.anchors:
        assert t.names[t.codes[v]] == name
    n = R.skin_territories("nerve", atlas)
    assert any("cutaneous" in x for x in n.names) and (n.codes >= 0).any() and (n.codes == -1).any()
    with pytest.raises(ValueError):
        R.skin_territories("bones", atlas)


def test_referral_and_explain_import_no_ui():
    forbidden = {"panel", "pyvista", "vtk", "bokeh", "hipviz.app", "hipviz.render"}
    for name in ("referral.py", "explain.py"):
        tree = ast.parse((SRC / name).read_text())
        mods = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        mods += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [m for m in mods if any(m == f or m.startswith(f + ".") for f in forbidden)], name


@pytest.mark.parametrize("cid", CONDITIONS)
def test_path_geometry(cid, atlas):
    for side in ("left", None):
        p = R.referral_path(cid, side, atlas)
        geo = R.path_geometry(p, atlas)
        assert {g.step for g in geo} == {s.index for s in p.steps}
        assert {g.atlas_id for g in geo} == set(p.atlas_ids)
        for g in geo:
            assert g.anchor.shape == (3,) and np.all(np.isfinite(g.anchor))
            for ln in g.lines:
                assert ln.ndim == 2 and ln.shape[1] == 3 and len(ln) >= 2


def test_nerve_lines_run_from_the_spine(atlas):
    geo = R.path_geometry(R.referral_path("radiculopathy_L5", "right", atlas), atlas)
    sciatic = next(g for g in geo if g.atlas_id == "sciatic_nerve_right")
    assert sciatic.lines[0][0][1] > sciatic.lines[0][-1][1], "the sciatic line starts at the pelvis"


def test_a_nerve_path_never_carries_pain_to_the_low_back():
    """Radicular pain runs down the leg; back pain in the same pattern comes from the spine itself,
    and the path's sentence says so instead of sending the sciatic nerve to the low back."""
    from hipviz.referral import AXIAL_REGIONS, NERVE_KINDS, referral_path
    from hipviz.vocabulary import vocabulary

    back = [vocabulary().regions[r].lower() for r in AXIAL_REGIONS]
    for cid in ("radiculopathy_S1", "radiculopathy_L5", "lumbar_spinal_stenosis"):
        p = referral_path(cid, "left")
        assert p.kind in NERVE_KINDS
        carried = p.why.split("territory:")[1].split(".")[0]
        assert not any(b in carried for b in back), (cid, p.why)
        assert "comes from the spine itself" in p.why
