"""Two tabs, one map: a save based on an older version is refused by the store, and the page
merges the stored map into its own (stronger paint per vertex, questionnaire lists joined) before
saving again, so no stroke of either tab is lost. Runs on SQLite and PostgreSQL."""

import json

import numpy as np
import pytest
from test_app_fakes import fake_atlas
from test_app_session import make_session, right_lateral_hip_vertex

from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.store import Store
from hipviz.painmap import QUALITY_IDS, PainMap


def left_lateral_hip_vertex(s) -> int:
    target = np.array([0.07, -0.11, 0.19])
    return int(np.argmin(np.linalg.norm(s.points - target, axis=1)))


@pytest.fixture
def ctx(store_url):
    c = AppContext(fake_atlas(), Store(store_url))
    yield c
    c.store.close()


def paint_stroke(app: HipvizApp, vertices, stroke=1):
    app.viewer._handle_msg({"type": "dab", "stroke": stroke, "points": list(map(int, vertices))})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": stroke})


def test_merge_keeps_the_stronger_paint_and_joins_answers():
    mine, theirs = make_session(), make_session()
    r, l = right_lateral_hip_vertex(mine), left_lateral_hip_vertex(mine)
    mine.brush.intensity = 4
    mine.dab([r], key=1)
    mine.set_answers(aggravators=["stairs"], age=50, findings=["slr_positive"])
    theirs.brush.intensity, theirs.brush.quality = 8, "burning"
    theirs.dab([r, l], key=1)
    theirs.end_stroke()
    theirs.set_answers(aggravators=["lying_on_side", "stairs"], sex="female", negative_findings=["slr_positive", "c_sign"])
    before = mine.intensity.copy()
    changed = mine.merge(theirs.painmap())
    assert changed.size and np.all(mine.intensity == np.maximum(before, theirs.intensity))
    assert np.all(mine.quality[changed] == QUALITY_IDS.index("burning"))
    a = mine.answers
    assert a.aggravators == ["stairs", "lying_on_side"] and (a.age, a.sex) == (50, "female")
    assert a.findings == ["slr_positive"] and a.negative_findings == ["c_sign"]   # never both
    mine.undo()                                             # the merge is one undoable step
    assert np.array_equal(mine.intensity, before)
    weaker = make_session()
    weaker.brush.intensity = 1
    weaker.dab([r], key=1)
    assert mine.merge(weaker.painmap()).size == 0           # weaker paint changes nothing


def stored_tab(ctx) -> HipvizApp:
    """A page whose map is stored (a blank map is stored once something is answered)."""
    tab = HipvizApp(ctx)
    tab.q_sex.value = "female"
    assert tab.map_id is not None
    return tab


def test_two_tabs_painting_one_map_keep_both_strokes(ctx):
    tab_a = stored_tab(ctx)
    tab_b = HipvizApp(ctx, token=tab_a.token, map_id=tab_a.map_id)   # the same map in a second tab
    assert tab_b.map_id == tab_a.map_id
    r, l = right_lateral_hip_vertex(tab_a.session), left_lateral_hip_vertex(tab_a.session)
    paint_stroke(tab_a, [r])
    tab_b.q_aggravators.value = ["stairs"]     # B was based on the version before A's stroke
    assert "another tab" in tab_b.saved_msg.object
    paint_stroke(tab_b, [l])
    stored = ctx.store.get_map(tab_a.token, tab_a.map_id)
    pm = PainMap.from_json(stored.document, tab_a.session.labels)
    painted = set(pm.vertex_paint.vertices)
    assert r in painted and l in painted and pm.aggravators == ["stairs"]
    assert tab_b.session.intensity[r] > 0 and tab_b.session.intensity[l] > 0   # B shows A's stroke too
    assert np.array_equal(tab_b.viewer.skin_rgb[r], tab_b.session.colours([r])[0])
    # A saves again: it is now the stale one, and it takes in B's stroke and answer
    tab_a.q_relievers.value = ["rest"]
    final = json.loads(ctx.store.load_map(tab_a.token, tab_a.map_id))
    assert final["aggravators"] == ["stairs"] and final["relievers"] == ["rest"]
    assert {r, l} <= set(final["vertex_paint"]["vertices"])
    assert ctx.store.get_map(tab_a.token, tab_a.map_id).version == 5     # 1 + four saves, none lost


def test_a_reopened_tab_starts_from_the_newest_version(ctx):
    tab_a = HipvizApp(ctx)
    paint_stroke(tab_a, [right_lateral_hip_vertex(tab_a.session)])
    tab_b = HipvizApp(ctx, token=tab_a.token)
    assert tab_b.maps.version == ctx.store.map_version(tab_a.token, tab_a.map_id) == 1   # created with the stroke
    paint_stroke(tab_b, [left_lateral_hip_vertex(tab_b.session)])
    assert "another tab" not in tab_b.saved_msg.object and "Saved" in tab_b.saved_msg.object


def test_a_map_deleted_in_another_tab_is_kept_as_a_new_map(ctx):
    tab_a = stored_tab(ctx)
    tab_b = HipvizApp(ctx, token=tab_a.token, map_id=tab_a.map_id)
    old = tab_a.map_id
    tab_b.delete_btn.clicks += 1                 # B deletes the map (and opens a fresh one)
    tab_b.delete_yes.clicks += 1
    assert old not in {m.id for m in ctx.store.list_maps(tab_a.token)}
    paint_stroke(tab_a, [right_lateral_hip_vertex(tab_a.session)])
    assert tab_a.map_id != old and tab_a.map_id in {m.id for m in ctx.store.list_maps(tab_a.token)}
    assert json.loads(ctx.store.load_map(tab_a.token, tab_a.map_id))["vertex_paint"]["vertices"]
