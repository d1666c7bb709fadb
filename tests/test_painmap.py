"""The pain map document: strict validation with exact messages, round trips, vertex paint."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from hipviz.painmap import (
    MAX_DOCUMENT_BYTES,
    QUALITY_IDS,
    REGION_IDS,
    PainMap,
    PainMapError,
    RegionEntry,
    SkinLabels,
    VertexPaint,
    merge_regions,
)

GOOD = {
    "format": "hipviz-painmap",
    "version": 1,
    "regions": [
        {"region": "lateral_hip_trochanter", "side": "right", "intensity": 7},
        {"region": "lateral_thigh", "side": "right", "intensity": 3},
    ],
    "qualities": ["aching", "sharp"],
    "aggravators": ["lying_on_side", "stairs"],
    "relievers": ["rest"],
    "red_flags": [],
    "findings": ["trochanter_tenderness"],
    "negative_findings": ["slr_positive"],
    "age": 54,
    "sex": "female",
}


def doc(**changes):
    d = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is _DROP:
            d.pop(k, None)
        else:
            d[k] = v
    return d


_DROP = object()
SHA = hashlib.sha256(b"synthetic skin").hexdigest()
OTHER_SHA = hashlib.sha256(b"another skin").hexdigest()


# -- accepted documents ---------------------------------------------------------------------------


def test_design_example_loads_and_round_trips():
    pm = PainMap.from_json(json.dumps(GOOD))
    assert [r.key for r in pm.regions] == [("lateral_hip_trochanter", "right"), ("lateral_thigh", "right")]
    assert pm.regions[0].intensity == 7.0
    assert pm.age == 54 and pm.sex == "female"
    assert pm.findings == ["trochanter_tenderness"]
    again = PainMap.from_json(pm.to_json())
    assert again == pm
    assert json.loads(pm.to_json()) == GOOD


def test_minimal_document_and_bytes_input():
    pm = PainMap.from_json(b'{"format": "hipviz-painmap", "version": 1}')
    assert pm.regions == [] and pm.qualities == [] and pm.age is None and pm.sex is None
    assert not pm.has_pain
    pm = PainMap.from_json('\ufeff{"format": "hipviz-painmap", "version": 1}'.encode("utf-8"))
    assert pm.regions == []


def test_float_intensity_and_zero_intensity():
    pm = PainMap.from_dict(doc(regions=[{"region": "groin", "side": "left", "intensity": 2.5}, {"region": "coccyx", "side": "midline", "intensity": 0}]))
    assert pm.regions[0].intensity == 2.5
    assert [r.region for r in pm.painted] == ["groin"]


def test_mirrored_swaps_sides_and_keeps_midline():
    pm = PainMap.from_dict(doc(regions=[
        {"region": "groin", "side": "left", "intensity": 4},
        {"region": "coccyx", "side": "midline", "intensity": 2},
        {"region": "heel", "side": "right", "intensity": 1},
    ]))
    m = pm.mirrored()
    assert [r.key for r in m.regions] == [("groin", "right"), ("coccyx", "midline"), ("heel", "left")]
    assert m.mirrored() == pm
    assert m.findings == pm.findings and m.age == pm.age


def test_from_file_reads_and_checks_size(tmp_path):
    p = tmp_path / "map.json"
    p.write_text(json.dumps(GOOD))
    assert PainMap.from_file(p).age == 54
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(PainMapError, match=r"over the size limit"):
        PainMap.from_file(big)
    with pytest.raises(PainMapError, match=r"cannot read"):
        PainMap.from_file(tmp_path / "missing.json")


# -- rejected documents: each kind with its message ---------------------------------------------------

REGION_LIST = "allowed: low_back_central, low_back_paraspinal"

BAD = [
    ("not json", "{nope", "document: not valid JSON (line 1, column 2"),
    ("not an object", "[1, 2]", "document: must be a JSON object, not a list"),
    ("string document", '"hello"', "document: must be a JSON object, not a string"),
    ("duplicate key", '{"format": "hipviz-painmap", "version": 1, "age": 3, "age": 4}', "document: key 'age' appears twice"),
    ("missing format", doc(format=_DROP), "format: is required; allowed: 'hipviz-painmap'"),
    ("wrong format", doc(format="hipviz-referral-pattern"), "format: 'hipviz-referral-pattern' is not a pain map; allowed: 'hipviz-painmap'"),
    ("missing version", doc(version=_DROP), "version: is required; allowed: 1"),
    ("newer version", doc(version=2), "version: version 2 is newer than this hipviz supports (1)"),
    ("version as string", doc(version="1"), "version: '1' is not a whole number; allowed: 1"),
    ("old version", doc(version=0), "version: 0 is not supported; allowed: 1"),
    ("unknown region", doc(regions=[{"region": "elbow", "side": "left", "intensity": 3}]), f"regions[0].region: 'elbow' is not a known region; {REGION_LIST}"),
    ("bad side", doc(regions=[GOOD["regions"][0], GOOD["regions"][1], {"region": "groin", "side": "up", "intensity": 3}]),
     "regions[2].side: 'up' is not one of left, right, midline"),
    ("sided region as midline", doc(regions=[{"region": "groin", "side": "midline", "intensity": 3}]),
     "regions[0].side: 'midline' is not allowed for groin (a sided region); allowed: left, right"),
    ("midline region with side", doc(regions=[{"region": "perineum", "side": "left", "intensity": 3}]),
     "regions[0].side: 'left' is not allowed for perineum (a midline region); allowed: midline"),
    ("intensity too high", doc(regions=[{"region": "groin", "side": "left", "intensity": 11}]), "regions[0].intensity: 11 is out of range; allowed: a number from 0 to 10"),
    ("intensity negative", doc(regions=[{"region": "groin", "side": "left", "intensity": -1}]), "regions[0].intensity: -1 is out of range; allowed: a number from 0 to 10"),
    ("intensity string", doc(regions=[{"region": "groin", "side": "left", "intensity": "7"}]), "regions[0].intensity: '7' is not a number; allowed: a number from 0 to 10"),
    ("intensity bool", doc(regions=[{"region": "groin", "side": "left", "intensity": True}]), "regions[0].intensity: True is not a number; allowed: a number from 0 to 10"),
    ("intensity NaN", '{"format": "hipviz-painmap", "version": 1, "regions": [{"region": "groin", "side": "left", "intensity": NaN}]}',
     "regions[0].intensity: nan is not a finite number; allowed: a number from 0 to 10"),
    ("intensity infinity", '{"format": "hipviz-painmap", "version": 1, "regions": [{"region": "groin", "side": "left", "intensity": Infinity}]}',
     "regions[0].intensity: inf is not a finite number; allowed: a number from 0 to 10"),
    ("intensity missing", doc(regions=[{"region": "groin", "side": "left"}]), "regions[0].intensity: is required; allowed: a number from 0 to 10"),
    ("duplicate region and side", doc(regions=[GOOD["regions"][0], GOOD["regions"][0]]),
     "regions[1]: lateral_hip_trochanter (right) is listed twice (also at regions[0]); list each region and side once"),
    ("unknown field in region", doc(regions=[{"region": "groin", "side": "left", "intensity": 1, "colour": "red"}]),
     "regions[0].colour: unknown field; allowed fields: region, side, intensity"),
    ("regions not a list", doc(regions={"groin": 3}), "regions: must be a list, not an object"),
    ("unknown quality", doc(qualities=["aching", "zingy"]), "qualities[1]: 'zingy' is not a known quality; allowed: aching, deep_ache"),
    ("unknown aggravator", doc(aggravators=["dancing"]), "aggravators[0]: 'dancing' is not a known aggravator; allowed: lying_on_side"),
    ("unknown reliever", doc(relievers=["chocolate"]), "relievers[0]: 'chocolate' is not a known reliever; allowed: rest"),
    ("unknown red flag", doc(red_flags=["headache"]), "red_flags[0]: 'headache' is not a known red flag; allowed: saddle_anaesthesia"),
    ("unknown finding", doc(findings=["babinski"]), "findings[0]: 'babinski' is not a known finding; allowed: trochanter_tenderness"),
    ("unknown negative finding", doc(negative_findings=["babinski"]), "negative_findings[0]: 'babinski' is not a known finding"),
    ("duplicate quality", doc(qualities=["aching", "sharp", "aching"]), "qualities[2]: 'aching' is listed twice (also at [0]); list each quality once"),
    ("duplicate red flag", doc(red_flags=["smoker", "smoker"]), "red_flags[1]: 'smoker' is listed twice"),
    ("finding present and absent", doc(findings=["slr_positive"], negative_findings=["trochanter_tenderness", "slr_positive"]),
     "negative_findings[1]: 'slr_positive' is also listed in findings; a finding is either present or absent"),
    ("list entry not a string", doc(qualities=[3]), "qualities[0]: 3 is not a string"),
    ("age fractional", doc(age=54.5), "age: 54.5 is not a whole number; allowed: a whole number from 0 to 120"),
    ("age as float", doc(age=54.0), "age: 54.0 is not a whole number; allowed: a whole number from 0 to 120"),
    ("age too old", doc(age=121), "age: 121 is out of range; allowed: a whole number from 0 to 120"),
    ("age negative", doc(age=-1), "age: -1 is out of range; allowed: a whole number from 0 to 120"),
    ("age string", doc(age="54"), "age: '54' is not a whole number"),
    ("unknown sex", doc(sex="F"), "sex: 'F' is not one of female, male, other"),
    ("unknown top-level field", doc(name="Jane"), "name: unknown field; allowed fields: format, version, regions"),
    ("vertex paint index out of range", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [1, 10], "intensity": [1, 2], "quality": [None, None]}),
     "vertex_paint.vertices[1]: 10 is out of range; allowed: 0 to 9"),
    ("vertex paint negative index", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [-1], "intensity": [1], "quality": [None]}),
     "vertex_paint.vertices[0]: -1 is out of range; allowed: 0 to 9"),
    ("vertex paint repeated index", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [3, 4, 3], "intensity": [1, 2, 3], "quality": [None, None, None]}),
     "vertex_paint.vertices[2]: vertex 3 is listed twice; list each vertex once"),
    ("vertex paint lengths differ", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [1, 2], "intensity": [1], "quality": [None, None]}),
     "vertex_paint.intensity: has 1 entries but vertices has 2; they must match one to one"),
    ("vertex paint quality lengths differ", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [1, 2], "intensity": [1, 2], "quality": [None]}),
     "vertex_paint.quality: has 1 entries but vertices has 2"),
    ("vertex paint intensity out of range", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [1], "intensity": [10.5], "quality": [None]}),
     "vertex_paint.intensity[0]: 10.5 is out of range; allowed: 0 to 10"),
    ("vertex paint unknown quality", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [1], "intensity": [1], "quality": ["hot"]}),
     "vertex_paint.quality[0]: 'hot' is not a known quality; allowed: null, aching"),
    ("vertex paint bad checksum text", doc(vertex_paint={"skin_sha256": "abc", "vertex_count": 10, "vertices": [], "intensity": [], "quality": []}),
     "vertex_paint.skin_sha256: 'abc' is not valid; allowed: 64 lowercase hex digits"),
    ("vertex paint index bool", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [True], "intensity": [1], "quality": [None]}),
     "vertex_paint.vertices[0]: True is not a whole number"),
    ("vertex paint unknown field", doc(vertex_paint={"skin_sha256": SHA, "vertex_count": 10, "vertices": [], "intensity": [], "quality": [], "colour": 1}),
     "vertex_paint.colour: unknown field; allowed fields: skin_sha256, vertex_count, vertices, intensity, quality"),
]


@pytest.mark.parametrize("text, message", [(b if isinstance(b, str) else json.dumps(b), m) for _, b, m in BAD], ids=[n for n, _, _ in BAD])
def test_bad_documents_are_rejected_with_the_field_and_the_allowed_values(text, message):
    with pytest.raises(PainMapError) as err:
        PainMap.from_json(text)
    assert str(err.value).startswith(message), str(err.value)


def test_at_least_twenty_kinds_of_bad_document():
    assert len(BAD) >= 20


def test_oversized_document_is_refused_before_parsing():
    text = '{"format": "hipviz-painmap", "version": 1, "x": "' + "a" * MAX_DOCUMENT_BYTES + '"}'
    with pytest.raises(PainMapError, match=rf"document: {len(text)} bytes is over the size limit \({MAX_DOCUMENT_BYTES} bytes\)"):
        PainMap.from_json(text)
    with pytest.raises(PainMapError, match="over the size limit"):
        PainMap.from_json(text.encode())


def test_not_utf8_and_wrong_type():
    with pytest.raises(PainMapError, match="document: not UTF-8 text"):
        PainMap.from_json(b'{"format": "\xff"}')
    with pytest.raises(PainMapError, match="expected JSON text"):
        PainMap.from_json(42)  # type: ignore[arg-type]


def test_several_problems_are_counted_in_the_message():
    with pytest.raises(PainMapError, match=r"^age: .*\(and 1 more problem\)$"):
        PainMap.from_dict(doc(age=500, sex="x"))


def test_is_a_value_error():
    assert issubclass(PainMapError, ValueError)


# -- vertex paint ------------------------------------------------------------------------------------

R = {r: i for i, r in enumerate(REGION_IDS)}


def synthetic_labels(checksum: str = SHA) -> SkinLabels:
    """A 12-vertex skin: 4 vertices of right lateral hip (1 cm² each), 2 of left groin (3 cm²),
    3 of coccyx (0.2 cm² each: a small midline region), 2 of right big toe (0.1 cm²), 1 unlabelled."""
    region = [R["lateral_hip_trochanter"]] * 4 + [R["groin"]] * 2 + [R["coccyx"]] * 3 + [R["big_toe"]] * 2 + [-1]
    side = [2] * 4 + [1] * 2 + [0] * 3 + [2] * 2 + [0]
    area = [1.0] * 4 + [3.0] * 2 + [0.2] * 3 + [0.1] * 2 + [5.0]
    return SkinLabels(checksum, np.array(region), np.array(side), np.array(area))


def test_skin_labels_validation():
    lab = synthetic_labels()
    assert lab.vertex_count == 12
    assert lab.region.dtype == np.int16 and lab.side.dtype == np.int8 and lab.vertex_area_cm2.dtype == np.float64
    assert not lab.region.flags.writeable
    assert lab.region_area_cm2()[("groin", "left")] == pytest.approx(6.0)
    with pytest.raises(ValueError, match="SHA-256"):
        SkinLabels("nope", np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="same, non-zero length"):
        SkinLabels(SHA, np.zeros(3), np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="sided regions take left/right"):
        SkinLabels(SHA, np.array([R["groin"]]), np.array([0]), np.ones(1))
    with pytest.raises(ValueError, match="sided regions take left/right"):
        SkinLabels(SHA, np.array([R["coccyx"]]), np.array([1]), np.ones(1))
    with pytest.raises(ValueError, match="index below"):
        SkinLabels(SHA, np.array([len(REGION_IDS)]), np.array([1]), np.ones(1))
    with pytest.raises(ValueError, match="finite"):
        SkinLabels(SHA, np.array([-1]), np.array([0]), np.array([np.nan]))


def test_painted_area_and_to_regions():
    lab = synthetic_labels()
    intensity = np.zeros(12, dtype=np.float32)
    intensity[[0, 1]] = [8, 4]  # 2 cm² of right lateral hip: counts (>= 1 cm²), mean 6.0
    intensity[4] = 2  # 3 cm² of left groin: counts
    intensity[6] = 5  # 0.2 of 0.6 cm² coccyx: under 1 cm² but 33 % of the region: counts
    intensity[11] = 9  # unlabelled vertex: area counted in total only
    paint = VertexPaint(SHA, intensity)
    areas = paint.painted_area_cm2(lab)
    assert areas == {("lateral_hip_trochanter", "right"): 2.0, ("groin", "left"): 3.0, ("coccyx", "midline"): pytest.approx(0.2)}
    assert paint.total_painted_area_cm2(lab) == pytest.approx(10.2)
    regions = paint.to_regions(lab)
    # vocabulary order (coccyx, lateral hip, groin), left before right
    assert [(r.region, r.side, r.intensity) for r in regions] == [
        ("coccyx", "midline", 5.0), ("lateral_hip_trochanter", "right", 6.0), ("groin", "left", 2.0),
    ]


def test_area_weighted_mean_and_threshold():
    # 100 vertices of right lateral hip, 0.5 cm² each (50 cm²): 1 painted vertex = 0.5 cm² and 1 %: does not count
    region = np.full(100, R["lateral_hip_trochanter"])
    side = np.full(100, 2)
    area = np.full(100, 0.5)
    area[1] = 1.5
    lab = SkinLabels(SHA, region, side, area)
    intensity = np.zeros(100, dtype=np.float32)
    intensity[0] = 9
    assert VertexPaint(SHA, intensity).to_regions(lab) == []
    intensity[1] = 1  # now 2 cm²: counts; mean = (9*0.5 + 1*1.5) / 2.0 = 3.0
    (entry,) = VertexPaint(SHA, intensity).to_regions(lab)
    assert (entry.region, entry.side, entry.intensity) == ("lateral_hip_trochanter", "right", 3.0)
    intensity[:] = 0
    intensity[[2, 3]] = 0.01  # tiny paint still reports at least 0.1
    (entry,) = VertexPaint(SHA, intensity).to_regions(lab)
    assert entry.intensity == 0.1


def test_sparse_round_trip_and_qualities():
    lab = synthetic_labels()
    intensity = np.zeros(12, dtype=np.float32)
    quality = np.full(12, -1, dtype=np.int8)
    intensity[[0, 4, 5]] = [7.25, 3, 1.5]
    quality[[0, 4]] = [QUALITY_IDS.index("burning"), QUALITY_IDS.index("aching")]
    paint = VertexPaint(SHA, intensity, quality)
    sparse = paint.to_sparse()
    assert sparse == {
        "skin_sha256": SHA, "vertex_count": 12, "vertices": [0, 4, 5], "intensity": [7.25, 3.0, 1.5], "quality": ["burning", "aching", None],
    }
    json.dumps(sparse)
    assert VertexPaint.from_sparse(sparse, lab) == paint
    assert paint.qualities_present() == ["aching", "burning"]


def test_document_with_vertex_paint_merges_regions_and_checks_the_skin():
    lab = synthetic_labels()
    intensity = np.zeros(12, dtype=np.float32)
    intensity[[0, 1, 2]] = 8
    intensity[4] = 2
    quality = np.full(12, -1, dtype=np.int8)
    quality[0] = QUALITY_IDS.index("burning")
    paint = VertexPaint(SHA, intensity, quality)
    base = PainMap.from_dict(doc(regions=[{"region": "lateral_hip_trochanter", "side": "right", "intensity": 5}, {"region": "heel", "side": "left", "intensity": 2}]))
    pm = base.with_vertex_paint(paint, lab)
    assert [(r.key, r.intensity) for r in pm.regions] == [
        (("lateral_hip_trochanter", "right"), 8.0), (("heel", "left"), 2.0), (("groin", "left"), 2.0),
    ]
    assert pm.qualities == ["aching", "sharp", "burning"]
    text = pm.to_json()
    # reloading with the labels is idempotent; without labels the saved regions are used as they are
    assert PainMap.from_json(text, lab) == pm
    assert PainMap.from_json(text).regions == pm.regions
    assert pm.paint(lab) == paint
    # the wrong skin is refused, whole
    with pytest.raises(PainMapError, match=r"vertex_paint.skin_sha256: .* does not match the loaded skin mesh"):
        PainMap.from_json(text, synthetic_labels(OTHER_SHA))
    other_count = SkinLabels(SHA, np.full(5, -1), np.zeros(5), np.ones(5))
    with pytest.raises(PainMapError, match=r"vertex_paint.vertex_count: 12 does not match the skin mesh \(5 vertices\)"):
        PainMap.from_json(text, other_count)


def test_mirrored_vertex_paint_needs_the_mirror_map():
    lab = synthetic_labels()
    intensity = np.zeros(12, dtype=np.float32)
    intensity[0] = 3
    pm = PainMap.from_dict(doc()).with_vertex_paint(VertexPaint(SHA, intensity), lab)
    with pytest.raises(PainMapError, match="vertex_mirror"):
        pm.mirrored()
    mirror = np.arange(12)[::-1].copy()
    m = pm.mirrored(mirror)
    assert m.vertex_paint.vertices == [11]
    with pytest.raises(PainMapError, match="permutation"):
        pm.mirrored(np.zeros(12, dtype=int))


def test_merge_regions_keeps_the_higher_intensity_and_is_idempotent():
    a = [RegionEntry(region="groin", side="left", intensity=3.0), RegionEntry(region="heel", side="right", intensity=1.0)]
    b = [RegionEntry(region="groin", side="left", intensity=5.0), RegionEntry(region="groin", side="right", intensity=2.0)]
    m = merge_regions(a, b)
    assert [(r.key, r.intensity) for r in m] == [(("groin", "left"), 5.0), (("heel", "right"), 1.0), (("groin", "right"), 2.0)]
    assert merge_regions(m, b) == m


def test_vertex_paint_rejects_bad_arrays():
    with pytest.raises(PainMapError, match="0 to 10"):
        VertexPaint(SHA, np.array([11.0]))
    with pytest.raises(PainMapError, match="0 to 10"):
        VertexPaint(SHA, np.array([np.nan]))
    with pytest.raises(PainMapError, match="one entry per vertex"):
        VertexPaint(SHA, np.zeros(3), np.zeros(2))
    with pytest.raises(PainMapError, match="does not match"):
        VertexPaint(OTHER_SHA, np.zeros(12)).to_regions(synthetic_labels())


def test_fifty_thousand_vertices_convert_with_bincount():
    """Correctness at scale against a plain per-vertex computation (timing is in bench/)."""
    rng = np.random.default_rng(0)
    n = 50_000
    region = rng.integers(-1, len(REGION_IDS), n)
    sided = np.array([r >= 0 and REGION_IDS[r] not in ("low_back_central", "coccyx", "perineum") for r in region])
    side = np.where(sided, rng.integers(1, 3, n), 0)
    lab = SkinLabels(SHA, region, side, rng.uniform(0.01, 0.2, n))
    intensity = np.where(rng.random(n) < 0.3, rng.uniform(0.5, 10, n), 0).astype(np.float32)
    paint = VertexPaint(SHA, intensity)
    regions = paint.to_regions(lab)
    expect: dict = {}
    for v in np.flatnonzero(intensity > 0):
        if region[v] < 0:
            continue
        key = (REGION_IDS[region[v]], ("midline", "left", "right")[side[v]])
        a, w = expect.get(key, (0.0, 0.0))
        expect[key] = (a + lab.vertex_area_cm2[v], w + lab.vertex_area_cm2[v] * float(intensity[v]))
    got = {r.key: r.intensity for r in regions}
    assert set(got) == {k for k, (a, _) in expect.items() if a >= 1.0 or a >= 0.05 * lab.region_area_cm2()[k]}
    for k, x in got.items():
        a, w = expect[k]
        assert x == pytest.approx(round(w / a, 1), abs=0.051)
