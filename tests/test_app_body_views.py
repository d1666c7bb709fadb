"""The body chart and the region list without a browser: their messages paint through the same
paint session as the 3D brush, rank the same, and are bounded like the 3D view's."""

import numpy as np
import pytest
from test_app_fakes import fake_atlas
from test_app_session import right_lateral_hip_vertex

from hipviz import ddx
from hipviz.app.body_views import chart_for
from hipviz.app.chart_protocol import parse_chart_message
from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.protocol import ProtocolError
from hipviz.app.store import Store
from hipviz.painmap import PainMap


@pytest.fixture
def ctx(tmp_path):
    c = AppContext(fake_atlas(), Store(tmp_path / "app.sqlite3"))
    yield c
    c.store.close()


def _chart_messages(app):
    sent = []
    app.body_views.chart._send_msg = sent.append
    return sent


def test_the_chart_is_sent_only_when_shown(ctx):
    app = HipvizApp(ctx)
    assert app.body_views.chart.blob is None
    app.body_views.switch.value = "chart"
    assert app.body_views.chart.blob and len(app.body_views.chart.views_meta) == 4
    assert not app.view_area.visible and app.body_views.chart.visible and not app.body_views.list.visible
    app.body_views.switch.value = "3d"
    assert app.view_area.visible and not app.body_views.chart.visible


def test_a_tap_on_the_chart_paints_as_the_3d_brush_does(ctx):
    app = HipvizApp(ctx)
    app.body_views.switch.value = "chart"
    sent = _chart_messages(app)
    app.body_views.chart._handle_msg({"type": "ready"})
    chart, _ = chart_for(ctx)
    view = chart.views["right"]
    target = right_lateral_hip_vertex(app.session)
    col, row = view.locate(app.session.points[target])[0]
    app.body_views.chart._handle_msg({"type": "chart_dab", "stroke": 1, "view": "right", "points": [[col, row]]})
    app.body_views.chart._handle_msg({"type": "stroke_end", "stroke": 1})
    painted = app.session.painted_indices()
    assert painted.size
    # the 3D brush on the vertex the chart found paints exactly the same vertices
    other = HipvizApp(ctx)
    centre = view.vertices_at([col], [row])
    other.viewer._handle_msg({"type": "dab", "stroke": 1, "points": centre.tolist()})
    other.viewer._handle_msg({"type": "stroke_end", "stroke": 1})
    assert np.array_equal(other.session.painted_indices(), painted)
    # the chart got the same colour changes as the 3D view
    skin = [m for m in sent if m.get("type") == "skin"]
    idx = np.concatenate([np.frombuffer(m["idx"], "<u4") for m in skin])
    assert set(painted) <= set(idx.tolist())
    assert "gtps_gluteal_tendinopathy" in app.last_result.top(3)
    # a second finger takes the stroke back
    app.body_views.chart._handle_msg({"type": "chart_dab", "stroke": 2, "view": "right", "points": [[col, row + 20]]})
    before = app.session.painted_indices().size
    app.body_views.chart._handle_msg({"type": "stroke_cancel", "stroke": 2})
    assert app.session.painted_indices().size <= before
    assert np.array_equal(app.session.painted_indices(), painted)


def test_ticking_a_region_ranks_like_the_region_itself(ctx):
    app = HipvizApp(ctx)
    app.body_views.switch.value = "list"
    app.body_views.list._handle_msg({"type": "mark", "region": "lateral_hip_trochanter", "side": "right", "intensity": 7})
    regions = app.session.painmap(with_vertex_paint=False).regions
    assert [(r.region, r.side, r.intensity) for r in regions] == [("lateral_hip_trochanter", "right", 7)]
    assert app.body_views.list.marked == {"lateral_hip_trochanter:right": 7.0}
    expected = ddx.rank(PainMap.from_dict({"format": "hipviz-painmap", "version": 1, "qualities": ["aching"],
                                           "regions": [{"region": "lateral_hip_trochanter", "side": "right", "intensity": 7}]}))
    assert app.last_result.top(5) == expected.top(5)
    assert app.session.can_undo()
    # a new strength repaints it; unticking clears it
    app.body_views.list._handle_msg({"type": "mark", "region": "lateral_hip_trochanter", "side": "right", "intensity": 3})
    assert app.body_views.list.marked == {"lateral_hip_trochanter:right": 3.0}
    app.body_views.list._handle_msg({"type": "mark", "region": "lateral_hip_trochanter", "side": "right", "intensity": 0})
    assert not app.session.intensity.any()
    assert app.body_views.list.marked == {}


def test_the_list_follows_the_3d_paint(ctx):
    app = HipvizApp(ctx)
    app.body_views.switch.value = "list"
    v = right_lateral_hip_vertex(app.session)
    app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [v]})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": 1})
    assert "lateral_hip_trochanter:right" in app.body_views.list.marked


@pytest.mark.parametrize("msg", [
    {"type": "chart_dab", "stroke": 1, "view": "top", "points": [[1, 2]]},
    {"type": "chart_dab", "stroke": 1, "view": "front", "points": []},
    {"type": "chart_dab", "stroke": 1, "view": "front", "points": [[1, 2]] * 257},
    {"type": "chart_dab", "stroke": 1, "view": "front", "points": [[float("nan"), 2]]},
    {"type": "chart_dab", "stroke": -1, "view": "front", "points": [[1, 2]]},
    {"type": "chart_dab", "stroke": 1, "view": "front", "points": [[1, 2]], "extra": 1},
    {"type": "mark", "region": "coccyx", "side": "left", "intensity": 5},
    {"type": "mark", "region": "elbow", "side": "left", "intensity": 5},
    {"type": "mark", "region": "groin", "side": "left", "intensity": 11},
    {"type": "mark", "region": "groin", "side": "left", "intensity": "5"},
    ["not", "an", "object"],
])
def test_a_message_that_breaks_the_rules_is_dropped_whole(msg):
    with pytest.raises(ProtocolError):
        parse_chart_message(msg, views={"front", "back", "left", "right"})


def test_bad_messages_change_nothing_in_the_session(ctx):
    app = HipvizApp(ctx)
    app.body_views.switch.value = "chart"
    app.body_views.chart._handle_msg({"type": "chart_dab", "stroke": 1, "view": "nowhere", "points": [[10, 10]]})
    app.body_views.list._handle_msg({"type": "mark", "region": "groin", "side": "midline", "intensity": 5})
    assert app.body_views.chart.rejected == 1 and app.body_views.list.rejected == 1
    assert not app.session.intensity.any()
