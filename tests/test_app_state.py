"""The session state model: controls bound to one parameter each, panels reading the state, and
what derives from a change (document, ranking, painted area) computed once per change."""

import numpy as np
import pytest
from test_app_layout import ctx, paint_stroke  # noqa: F401 - ctx is the app fixture
from test_app_session import right_lateral_hip_vertex

from hipviz import ddx
from hipviz.app import state as state_mod
from hipviz.app.layout import HipvizApp
from hipviz.app.session import PaintSession
from hipviz.app.state import AnswersState, BrushState, ViewState, bind_widget


def test_a_finished_stroke_builds_the_document_ranking_and_area_once(ctx, monkeypatch):
    app = HipvizApp(ctx)
    calls = {"painmap": 0, "rank": 0, "summary": 0}

    def counting(name, fn):
        def wrapped(*a, **kw):
            calls[name] += 1
            return fn(*a, **kw)
        return wrapped

    monkeypatch.setattr(PaintSession, "painmap", counting("painmap", PaintSession.painmap))
    monkeypatch.setattr(PaintSession, "summary", counting("summary", PaintSession.summary))
    monkeypatch.setattr(state_mod.ddx, "rank", counting("rank", ddx.rank))
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    # the stored document and the ranked map are two documents (with and without the
    # per-vertex paint), each built once; the ranking and the painted area once
    assert calls == {"painmap": 2, "rank": 1, "summary": 1}, calls
    assert app.map_id is not None and "gtps_gluteal_tendinopathy" in app.last_result.top(3)
    # nothing changed, nothing is built again
    app.state.map.announce()
    app._map_changed()
    assert calls == {"painmap": 2, "rank": 1, "summary": 1}, calls


def test_controls_and_state_are_one_value(ctx):
    app = HipvizApp(ctx)
    st = app.state
    # a control changes the state, the state changes the control
    app.quality.value = "burning"
    assert st.brush.quality == "burning" and app.session.brush.quality == "burning"
    st.brush.radius_cm = 5.0
    assert app.radius.value == 5.0 and app.session.brush.radius_cm == 5.0
    # a stated age decides "aged over 50", in the state and in its tick box at once
    app.q_age.value = 62
    assert "age_over_50" in st.answers.red_flags and "age_over_50" in app.q_red_flags.value
    assert app.session.answers.red_flags == ["age_over_50"]
    app.q_age.value = 40
    assert "age_over_50" not in st.answers.red_flags and "age_over_50" not in app.q_red_flags.value
    # a quality painted with the brush shows ticked under Questions without a reload
    app.mode.value = True
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    assert "burning" in st.answers.qualities and "burning" in app.q_qualities.value
    # unticking a painted quality cannot hide it: the paint still says it
    app.q_qualities.value = []
    assert "burning" in app.q_qualities.value


def test_paint_mode_brings_the_skin_back_through_the_state(ctx):
    app = HipvizApp(ctx)
    view = app.state.view
    view.see_inside(True)
    assert app.skin_opacity.value == pytest.approx(0.3)
    app.isolate.value = "femur_right" if "femur_right" in app.isolate.options.values() else next(
        v for v in app.isolate.options.values() if v)
    app.mode.value = True
    assert view.paint_mode and app.viewer.paint_mode
    assert view.isolated == "" and app.isolate.value == ""
    assert view.skin_opacity == 1.0 and app.skin_opacity.value == 1.0
    assert "skin" in view.layers and "skin" in app.layer_toggle.value


def test_comparing_visits_leaves_paint_mode_in_the_state(ctx):
    app = HipvizApp(ctx)
    app.mode.value = True
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    app.maps.new_map()
    paint_stroke(app, [right_lateral_hip_vertex(app.session) + 1])
    assert app.state.view.paint_mode is True
    assert app.visits.start()
    assert app.state.view.paint_mode is False and app.mode.value is False


def test_bind_widget_keeps_both_sides_equal_without_a_loop():
    class W(ViewState):        # any Parameterized with a value stands in for a widget
        value = state_mod.param.Number(0.5)

    w, view = W(), ViewState(skin_opacity=0.7)
    seen = []
    view.param.watch(lambda e: seen.append(e.new), "skin_opacity")
    bind_widget(w, view, "skin_opacity")
    assert w.value == 0.7 and seen == []
    w.value = 0.4
    assert view.skin_opacity == 0.4 and seen == [0.4]
    view.skin_opacity = 0.9
    assert w.value == 0.9 and seen == [0.4, 0.9]


def test_answers_state_shows_in_one_event():
    a = AnswersState()
    events = []
    a.param.watch(lambda *ev: events.append(len(ev)), list(a.FIELDS))
    from hipviz.app.session import Answers
    a.show(Answers(aggravators=["stairs"], age=61, red_flags=["age_over_50"]), ["aching"])
    assert events == [4]
    a.show(Answers(aggravators=["stairs"], age=61, red_flags=["age_over_50"]), ["aching"])
    assert events == [4]            # nothing changed: no event
    assert BrushState().quality is None and "aching" in BrushState.param.quality.objects   # no feel until one is picked
    assert np.isclose(ViewState().skin_opacity, 1.0)
