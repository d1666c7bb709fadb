"""Paint session logic without a browser: brush, strokes, undo/redo, pain map, ranking."""

import math

import numpy as np
import pytest
from test_app_fakes import fake_atlas

from hipviz.app.session import PaintSession
from hipviz.painmap import QUALITY_IDS, REGION_IDS, PainMap, PainMapError


def make_session() -> PaintSession:
    atlas = fake_atlas()
    skin = atlas.polydata("skin")
    tri = skin.faces.reshape(-1, 4)[:, 1:]
    return PaintSession(skin.points, tri, atlas.skin_labels())


def right_lateral_hip_vertex(s: PaintSession) -> int:
    """The skin vertex nearest the right greater trochanter of the fake body."""
    target = np.array([-0.07, -0.11, 0.19])
    return int(np.argmin(np.linalg.norm(s.points - target, axis=1)))


def test_simulated_pick_paints_the_vertices_under_the_brush():
    s = make_session()
    s.brush.radius_cm = 3.0
    v = right_lateral_hip_vertex(s)
    changed = s.dab([v], key=1)
    s.end_stroke()
    assert v in changed
    painted = s.painted_indices()
    assert set(painted) == set(changed)
    dist = np.linalg.norm(s.points[painted] - s.points[v], axis=1)
    assert dist.max() <= 0.03 + 1e-9                           # nothing beyond the radius
    near = np.flatnonzero(np.linalg.norm(s.points - s.points[v], axis=1) < 0.0295)
    assert set(near) <= set(painted)                           # everything well inside is painted
    area = s.summary()["total_cm2"]
    assert 0.85 * math.pi * 9 < area < 1.15 * math.pi * 9
    # the default brush records no quality: the person has not said what it feels like
    assert np.all(s.intensity[painted] == 6) and np.all(s.quality[painted] == -1)
    assert s.painted_qualities() == [] and s.painmap().qualities == []
    regions = {(r["region"], r["side"]) for r in s.summary()["regions"] if r["counts"]}
    assert ("lateral_hip_trochanter", "right") in regions
    assert all(side == "right" for _, side in regions)


def test_undo_restores_and_redo_reapplies():
    s = make_session()
    v = right_lateral_hip_vertex(s)
    s.dab([v], key="a")
    s.end_stroke()
    after_first = s.intensity.copy(), s.quality.copy()
    s.brush.intensity, s.brush.quality, s.brush.radius_cm = 9, "burning", 5
    s.dab([v], key="b")
    s.dab([v + 3], key="b")      # same stroke: one undo step
    s.end_stroke()
    after_second = s.intensity.copy(), s.quality.copy()
    assert not np.array_equal(after_first[0], after_second[0])
    changed = s.undo()
    assert np.array_equal(s.intensity, after_first[0]) and np.array_equal(s.quality, after_first[1])
    assert changed.size > 0
    s.undo()
    assert not s.intensity.any() and np.all(s.quality == -1)
    assert not s.can_undo() and s.can_redo()
    s.redo()
    s.redo()
    assert np.array_equal(s.intensity, after_second[0]) and np.array_equal(s.quality, after_second[1])
    # a new stroke after an undo drops the redo history
    s.undo()
    s.dab([v], key="c")
    s.end_stroke()
    assert not s.can_redo()


def test_eraser_and_clear_are_undoable():
    s = make_session()
    v = right_lateral_hip_vertex(s)
    s.dab([v], key=1)
    s.end_stroke()
    painted = s.intensity.copy()
    s.brush.eraser = True
    s.brush.radius_cm = 1.0
    erased = s.dab([v], key=2)
    s.end_stroke()
    assert erased.size and np.all(s.intensity[erased] == 0)
    assert np.all(s.colours(erased) == s.colours(np.array([0])) * 0 + s.base_rgb.astype(np.uint8))
    s.clear()
    assert not s.intensity.any()
    s.undo()
    s.undo()
    assert np.array_equal(s.intensity, painted)


def test_colours_show_quality_and_intensity():
    s = make_session()
    v = right_lateral_hip_vertex(s)
    s.brush.radius_cm = 1
    s.brush.quality = "electric"
    s.brush.intensity = 2
    weak = s.dab([v], key=1)
    s.end_stroke()
    c_weak = s.colours([v])[0].astype(int)
    s.brush.intensity = 10
    s.dab([v], key=2)
    s.end_stroke()
    c_strong = s.colours([v])[0].astype(int)
    assert c_strong[2] > c_weak[2] > s.base_rgb[2] - 60        # bluer with intensity
    assert tuple(c_strong) == (0x1f, 0x5f, 0xd6)
    assert weak.size


def test_ranking_follows_the_paint():
    s = make_session()
    before = s.rank().top(3)
    s.brush.radius_cm = 4
    s.dab([right_lateral_hip_vertex(s)], key=1)
    s.end_stroke()
    s.set_answers(aggravators=["lying_on_side", "stairs"], age=55, sex="female")
    top = s.rank().top(3)
    assert "gtps_gluteal_tendinopathy" in top
    assert top != before
    pm = s.painmap()
    assert any(r.region == "lateral_hip_trochanter" and r.side == "right" for r in pm.regions)


def test_document_round_trip_restores_paint_and_answers():
    s = make_session()
    s.dab([right_lateral_hip_vertex(s)], key=1)
    s.end_stroke()
    s.set_answers(qualities=["aching"], red_flags=["recent_trauma"], age=40)
    text = s.painmap().to_json()
    t = make_session()
    t.load(PainMap.from_json(text, t.labels))
    assert np.array_equal(t.intensity, s.intensity) and np.array_equal(t.quality, s.quality)
    assert t.answers == s.answers


def test_region_level_document_paints_whole_regions():
    s = make_session()
    pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1,
                            "regions": [{"region": "lateral_hip_trochanter", "side": "left", "intensity": 5}],
                            "qualities": ["burning"]})
    s.load(pm)
    i = REGION_IDS.index("lateral_hip_trochanter")
    mask = (s.labels.region == i) & (s.labels.side == 1)
    assert np.all(s.intensity[mask] == 5) and not s.intensity[~mask].any()
    assert np.all(s.quality[mask] == QUALITY_IDS.index("burning"))


def test_invalid_answers_are_rejected():
    s = make_session()
    with pytest.raises(PainMapError, match="aggravators"):
        s.set_answers(aggravators=["not_a_thing"])


def test_display_softens_the_edge_and_undo_clears_it():
    s = make_session()
    v = right_lateral_hip_vertex(s)
    changed = s.dab([v], key=1)
    s.end_stroke()
    idx, rgb = s.display(changed)
    ring = np.setdiff1d(idx, changed)
    assert ring.size and np.all(s.intensity[ring] == 0)
    base = s.base_rgb.astype(np.uint8)
    assert np.all(np.any(rgb[np.isin(idx, ring)] != base, axis=1))          # tinted, not bare skin
    assert np.array_equal(rgb[np.isin(idx, changed)], s.colours(np.sort(changed)))
    idx2, rgb2 = s.display(s.undo())
    assert np.all(rgb2 == base)                                              # everything back to skin
    assert set(ring) <= set(idx2)
