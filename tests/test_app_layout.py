"""The app wiring without a browser: messages from the viewer paint, rank, save and restore."""

import html
import json
import re

import numpy as np
import pytest
from test_app_fakes import fake_atlas
from test_app_session import right_lateral_hip_vertex

from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.store import Store


@pytest.fixture
def ctx(tmp_path):
    c = AppContext(fake_atlas(), Store(tmp_path / "app.sqlite3"))
    yield c
    c.store.close()


def paint_stroke(app: HipvizApp, vertices, stroke=1):
    app.viewer._handle_msg({"type": "dab", "stroke": stroke, "points": list(map(int, vertices))})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": stroke})


def test_a_stroke_paints_ranks_and_saves(ctx):
    app = HipvizApp(ctx)
    v = right_lateral_hip_vertex(app.session)
    sent = app.viewer.bytes_sent
    paint_stroke(app, [v, v + 1])
    painted = app.session.painted_indices()
    assert v in painted
    assert np.array_equal(app.viewer.skin_rgb[painted], app.session.colours(painted))
    ring = np.setdiff1d(app.session.graph[painted].indices, painted)
    tinted = np.any(app.viewer.skin_rgb[ring] != app.session.base_rgb.astype(np.uint8), axis=1)
    assert tinted.all()                                                # a soft edge around the paint
    assert app.viewer.bytes_sent - sent < 8 * len(painted) + 1000     # only the changed vertices travel
    assert "gtps_gluteal_tendinopathy" in app.last_result.top(3)
    assert "gtps_gluteal_tendinopathy" in [it["id"] for it in app.ranking.items]
    assert re.search(r"\d+ cm²", app.painted.object), app.painted.object
    doc = json.loads(ctx.store.load_map(app.token, app.map_id))
    assert {"region": "lateral_hip_trochanter", "side": "right"}.items() <= doc["regions"][0].items()
    assert len(doc["vertex_paint"]["vertices"]) == len(painted)
    assert not app.undo_btn.disabled
    app.undo_btn.clicks += 1
    assert not app.session.intensity.any()
    assert not json.loads(ctx.store.load_map(app.token, app.map_id)).get("vertex_paint")


def test_reopening_the_session_restores_the_drawing(ctx):
    app = HipvizApp(ctx)
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    app.q_aggravators.value = ["lying_on_side"]
    again = HipvizApp(ctx, token=app.token)          # reload / server restart: same token
    assert again.map_id == app.map_id
    assert np.array_equal(again.session.intensity, app.session.intensity)
    assert np.array_equal(again.viewer.skin_rgb, app.viewer.skin_rgb)
    assert again.q_aggravators.value == ["lying_on_side"]
    # a restarted server has a new store object on the same file
    ctx2 = AppContext(fake_atlas(), Store(ctx.store.path))
    third = HipvizApp(ctx2, token=app.token)
    assert np.array_equal(third.session.intensity, app.session.intensity)


def test_sessions_are_isolated(ctx):
    alice, bob = HipvizApp(ctx), HipvizApp(ctx)
    assert alice.token != bob.token
    paint_stroke(alice, [right_lateral_hip_vertex(alice.session)])
    assert not bob.session.intensity.any()
    assert HipvizApp(ctx, token=bob.token).session.intensity.any() == False
    assert ctx.store.list_maps(bob.token) == []        # bob painted nothing: nothing stored for him
    bob.q_relievers.value = ["rest"]
    bobs, alices = ({m.id for m in ctx.store.list_maps(t)} for t in (bob.token, alice.token))
    assert bobs and alices and bobs.isdisjoint(alices)
    assert set(bob.maps_select.options.values()) == bobs
    # a session cannot open another person's map by id
    evil = HipvizApp(ctx, token=bob.token, map_id=alice.map_id)
    assert evil.map_id != alice.map_id and not evil.session.intensity.any()


def test_several_maps_and_import_export(ctx):
    app = HipvizApp(ctx)
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    first = app.map_id
    exported = app.maps.export_json().getvalue()
    app.new_map_btn.clicks += 1
    assert app.map_id is None and not app.session.intensity.any()     # blank until something is painted
    paint_stroke(app, [right_lateral_hip_vertex(app.session) + 3], stroke=2)
    assert app.map_id not in (None, first) and len(app.maps_select.options) == 2
    app.maps_select.value = first
    assert app.session.intensity.any()
    painted_first = app.session.intensity > 0
    err = app.maps.import_document(exported, "mine.json")
    assert err is None and len(ctx.store.list_maps(app.token)) == 3
    assert app.map_id not in (first,) and np.array_equal(app.session.intensity > 0, painted_first)
    bad = json.loads(exported)
    bad["regions"][0]["side"] = "up"
    err = app.maps.import_document(json.dumps(bad), "bad.json")
    assert err and "regions[0].side" in err
    assert len(ctx.store.list_maps(app.token)) == 3            # nothing half-loaded
    app.import_input._handle_msg({"type": "file", "name": "bad.json", "text": json.dumps({"format": "hipviz-painmap", "version": 99})})
    assert app.import_msg.visible and "version" in app.import_msg.object
    assert len(ctx.store.list_maps(app.token)) == 3


@pytest.mark.parametrize("msg, words", [
    ({"type": "rejected", "reason": "too_big", "name": "huge.json", "size": 50 * 2**20}, ["huge.json", "50.0 MB", "larger than 4.0 MB"]),
    ({"type": "rejected", "reason": "empty", "name": "empty.json"}, ["empty.json", "empty"]),
    ({"type": "file", "name": "blank.json", "text": "  \n"}, ["blank.json", "empty"]),
    ({"type": "file", "name": "forged.json", "text": "x" * (4 * 2**20 + 1)}, ["forged.json", "larger than 4.0 MB"]),
    ({"type": "file", "name": "x.json", "text": 12}, ["could not be read"]),
    ({"type": "rejected", "reason": "unreadable", "name": "locked.json"}, ["locked.json", "could not be read"]),
])
def test_a_file_that_cannot_be_a_pain_map_is_refused_with_a_message(ctx, msg, words):
    app = HipvizApp(ctx)
    maps = len(ctx.store.list_maps(app.token))
    app.import_input._handle_msg(msg)
    assert app.import_msg.visible, msg
    for w in words:
        assert w in app.import_msg.object, (w, app.import_msg.object)
    assert len(ctx.store.list_maps(app.token)) == maps


def test_red_flag_answer_shows_an_alert(ctx):
    app = HipvizApp(ctx)
    app.q_red_flags.value = ["saddle_anaesthesia"]
    assert app.alerts.visible and "medical care" in app.alerts.object.lower()
    assert app.last_result.alerts


def test_a_map_from_an_older_skin_keeps_its_regions(ctx):
    app = HipvizApp(ctx)
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    doc = json.loads(ctx.store.load_map(app.token, app.map_id))
    doc["vertex_paint"]["skin_sha256"] = "0" * 64          # as if the atlas had been rebuilt
    ctx.store.save_map(app.token, app.map_id, json.dumps(doc))
    again = HipvizApp(ctx, token=app.token)
    assert "earlier version" in again.saved_msg.object
    i = again.session.labels.region
    painted = again.session.painted_indices()
    from hipviz.painmap import REGION_IDS
    assert painted.size and np.all(i[painted] == REGION_IDS.index("lateral_hip_trochanter"))
    assert "gtps_gluteal_tendinopathy" in again.last_result.top(3)


def test_keyboard_undo_and_redo(ctx):
    app = HipvizApp(ctx)
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    painted = app.session.intensity.copy()
    app.viewer._handle_msg({"type": "key", "action": "undo"})
    assert not app.session.intensity.any() and not app.redo_btn.disabled
    app.viewer._handle_msg({"type": "key", "action": "redo"})
    assert np.array_equal(app.session.intensity, painted)
    app.viewer._handle_msg({"type": "key", "action": "rm -rf"})   # dropped: not an action
    assert np.array_equal(app.session.intensity, painted) and app.viewer.rejected == 1


def test_on_a_phone_the_results_are_a_tab(ctx):
    from hipviz.app.layout import PAGE_TEMPLATE, RESULTS_TAB
    app = HipvizApp(ctx)
    app.view()
    assert app.tools.objects[RESULTS_TAB].name == "Results"
    assert "viewport" in PAGE_TEMPLATE and "width=device-width" in PAGE_TEMPLATE
    assert "hv-has-results" not in app.tools.css_classes
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    assert "hv-has-results" in app.tools.css_classes          # a dot on the Results tab
    # a wide screen: the results have their own column, explaining does not switch tabs
    app.show_panel("explain")
    assert app.tools.active == 0
    app.show_panel("results")
    # a phone (the browser reports it): picking the Results tab shows them under the tab strip
    app.layout_watch.results_in_tab = True
    app.tools.active = RESULTS_TAB
    assert "hv-show-results" in app.main.css_classes and "hv-results-open" in app.tools.css_classes
    app.tools.active = 0
    assert app.main.css_classes == ["hv-main"] and "hv-results-open" not in app.tools.css_classes
    app.show_panel("explore")                                  # a click on a structure: its story shows
    assert app.tools.active == RESULTS_TAB
    app.set_presenter(True)
    assert app.tools.visible                                    # the way back stays reachable
    app.set_presenter(False)
    # turned to a wide screen: back to the tools' first tab (the Results tab is hidden there)
    app.layout_watch.results_in_tab = False
    assert app.tools.active == 0 and app.main.css_classes == ["hv-main"]
    app.set_presenter(True)
    assert not app.tools.visible



def test_duplicate_controls_agree(ctx):
    """The brush's quality ticks the questionnaire at once, a stated age sets "aged over 50",
    and Clear all leaves no ranking behind when nothing else was answered."""
    app = HipvizApp(ctx)
    app.quality.value = "burning"
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    assert app.q_qualities.value == ["burning"]
    app.q_age.value = 62
    assert "age_over_50" in app.q_red_flags.value and "age_over_50" in app.session.painmap().red_flags
    app.q_age.value = 41
    assert "age_over_50" not in app.q_red_flags.value and "age_over_50" not in app.session.painmap().red_flags
    app.q_age.value = None
    app.clear_btn.clicks += 1
    assert app.q_qualities.value == [] and app.session.painmap().qualities == []
    assert app.ranking.items == [] and not app.alerts.visible


def test_a_rejected_answer_changes_nothing(ctx):
    from hipviz.app.session import PainMapError
    app = HipvizApp(ctx)
    app.session.set_answers(aggravators=["stairs"])
    before = (app.session.answers, app.session.revision)
    with pytest.raises(PainMapError):
        app.session.set_answers(aggravators=["stairs", "juggling"])
    assert (app.session.answers, app.session.revision) == before


def test_delete_asks_first_and_can_be_undone(ctx):
    app = HipvizApp(ctx)
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    app.title_input.value = "Before physio"
    painted = app.session.intensity.copy()
    first = app.map_id
    app.delete_btn.clicks += 1                    # asks; nothing deleted yet
    assert app.delete_confirm.visible and "Before physio" in app.delete_prompt.object
    assert first in {m.id for m in ctx.store.list_maps(app.token)}
    app.delete_no.clicks += 1                     # keep it
    assert not app.delete_confirm.visible and app.map_id == first
    app.delete_btn.clicks += 1
    app.delete_yes.clicks += 1                    # now it goes
    assert first not in {m.id for m in ctx.store.list_maps(app.token)}
    assert not app.session.intensity.any() and app.undo_delete_btn.visible
    app.undo_delete_btn.clicks += 1               # and comes back, paint, title and all
    maps = {m.id: m.title for m in ctx.store.list_maps(app.token)}
    assert maps[app.map_id] == "Before physio"
    assert np.array_equal(app.session.intensity, painted) and not app.undo_delete_btn.visible


def test_a_cancelled_stroke_leaves_nothing(ctx):
    app = HipvizApp(ctx)
    v = right_lateral_hip_vertex(app.session)
    paint_stroke(app, [v], stroke=1)
    kept = app.session.intensity.copy()
    app.viewer._handle_msg({"type": "dab", "stroke": 2, "points": [v + 5, v + 6]})
    assert not np.array_equal(app.session.intensity, kept)
    app.viewer._handle_msg({"type": "stroke_cancel", "stroke": 2})
    assert np.array_equal(app.session.intensity, kept)
    assert np.array_equal(app.viewer.skin_rgb, app.skin_layers.display(np.arange(app.session.n_vertices))[1])
    app.viewer._handle_msg({"type": "key", "action": "undo"})     # the kept stroke is the one undone
    assert not app.session.intensity.any()
    app.viewer._handle_msg({"type": "stroke_cancel", "stroke": 7})  # nothing open: nothing happens
    assert not app.session.intensity.any()


def test_visits_store_nothing_until_something_is_painted_or_answered(ctx):
    """A page opened (or probed) a hundred times makes no person and no map; the first
    answer or stroke does."""
    apps = [HipvizApp(ctx) for _ in range(5)]
    import sqlalchemy as sa
    from hipviz.app.dbschema import people as people_table
    with ctx.store.transaction() as c:
        people = c.execute(sa.select(sa.func.count()).select_from(people_table)).scalar_one()
    assert people == 0 and all(a.map_id is None for a in apps)
    paint_stroke(apps[0], [right_lateral_hip_vertex(apps[0].session)])
    apps[1].q_age.value = 40
    assert [len(ctx.store.list_maps(a.token)) for a in apps] == [1, 1, 0, 0, 0]


def test_a_link_with_another_token_does_not_replace_the_cookie(ctx, monkeypatch):
    from hipviz.app import layout
    owner = HipvizApp(ctx)
    paint_stroke(owner, [right_lateral_hip_vertex(owner.session)])
    me = HipvizApp(ctx)
    me.q_relievers.value = ["rest"]
    # my browser has my cookie; the link carries the owner's token and map
    state_type = type(layout.pn.state)
    monkeypatch.setattr(state_type, "cookies", property(lambda self: {layout.COOKIE: me.token}))
    monkeypatch.setattr(layout, "_arg", lambda k: {"s": owner.token, "m": str(owner.map_id)}.get(k))
    opened = HipvizApp(ctx)
    assert opened.token == me.token and opened.map_id == me.map_id and not opened.session.intensity.any()
    # a browser without a cookie may open a map by its link (how a person moves to another device)
    monkeypatch.setattr(state_type, "cookies", property(lambda self: {}))
    moved = HipvizApp(ctx)
    assert moved.token == owner.token and moved.map_id == owner.map_id


def test_the_page_is_told_how_to_draw_a_dab_and_when_a_stroke_is_done(ctx):
    """The page draws each dab itself in the brush's colour and radius; the server's colours for
    the same vertex are the same, and `stroke_done` follows every colour of the stroke."""
    app = HipvizApp(ctx)
    app.radius.value, app.intensity.value = 4.0, 8
    assert app.viewer.brush["radius"] == pytest.approx(0.04)
    sent: list[dict] = []
    app.viewer._send_msg = sent.append
    v = right_lateral_hip_vertex(app.session)
    app.viewer._handle_msg({"type": "dab", "stroke": 7, "points": [int(v)]})
    assert app.session.intensity[v] > 0 and not [m for m in sent if m["type"] == "skin"]   # the page drew it
    app.viewer._handle_msg({"type": "stroke_end", "stroke": 7})
    assert list(app.viewer.skin_rgb[v]) == app.viewer.brush["rgb"]
    kinds = [m["type"] for m in sent]
    assert kinds[-1] == "stroke_done" and sent[-1]["stroke"] == 7 and "skin" in kinds
    app.viewer._handle_msg({"type": "stroke_cancel", "stroke": 8})
    assert sent[-1] == {"type": "stroke_done", "stroke": 8}
    app.eraser.value = True
    assert app.viewer.brush["rgb"] == list(app.session.base_rgb.round().astype(int))
    app.skin_layers.comparison = app.skin_layers.full()    # two maps compared: their colours, not the brush's
    app.sync_brush_preview()
    assert app.viewer.brush == {}



def _page_document(ctx):
    """A page built into a Bokeh document, as the server builds one for a browser."""
    import panel as pn
    from bokeh.document import Document

    from hipviz.app.layout import create_app

    doc = Document()
    pn.state.curdoc = doc
    try:
        doc.add_root(create_app(ctx).get_root(doc))
    finally:
        pn.state.curdoc = None
    return doc


def test_the_page_document_passes_bokehs_checks(ctx, caplog):
    """The server skips Bokeh's document checks on every page (build_server), so they run here."""
    import logging

    doc = _page_document(ctx)
    with caplog.at_level(logging.WARNING, logger="bokeh"):
        doc.validate()
    assert len(doc.models) > 50
    assert not [r for r in caplog.records if r.name.startswith("bokeh")], caplog.text


def test_the_page_components_are_imported_without_a_transform(ctx):
    """Every component of the page says its module is plain JavaScript (a non-null bundle key),
    so the browser imports it as written; two different modules never share a key."""
    from panel.models.esm import ReactiveESM as EsmModel

    esm = [m for m in _page_document(ctx).models if isinstance(m, EsmModel)]
    assert len(esm) >= 8
    keys = {}
    for m in esm:
        assert m.bundle and m.bundle.startswith("plain-"), (m.class_name, m.bundle)
        assert keys.setdefault(m.bundle, m.esm) == m.esm, m.class_name


def test_the_ranking_speaks_to_the_reader_the_card_is_for(ctx):
    """Patients read bands and reasons in words; after "For clinicians" (one setting, shared with
    the card) the same list shows each probability and each reason's factor on the odds. Risk
    factors ticked are listed as worth telling a clinician, and with nothing painted the list
    says it mostly reflects how common each condition is."""
    app = HipvizApp(ctx)
    app.state.answers.red_flags = ["age_over_50"]
    assert not app.alerts.visible
    assert "Aged over 50" in app.results_panel.worth_telling.object
    assert "Nothing painted yet" in app.ranking_note.object
    v = right_lateral_hip_vertex(app.session)
    paint_stroke(app, [v, v + 1])
    assert "Nothing painted yet" not in app.ranking_note.object
    patient = [it["sub"] for it in app.ranking.items]
    assert not any(re.search(r"\(x\d|\d%", s) for s in patient), patient
    assert not any(s.rstrip().endswith("·") for s in patient), patient
    app.teach.register.value = "clinician"
    assert app.state.view.register == "clinician"
    clinician = [it["sub"] for it in app.ranking.items]
    assert all(re.search(r"· \d+%", s) for s in clinician), clinician
    assert any("(x" in s for s in clinician), clinician
    app.state.view.register = "patient"           # either side may change it
    assert app.teach.register.value == "patient" and [it["sub"] for it in app.ranking.items] == patient


def test_a_patient_is_asked_what_they_can_answer(ctx):
    app = HipvizApp(ctx)
    v = right_lateral_hip_vertex(app.session)
    paint_stroke(app, [v, v + 1])
    asked = app.last_result.ask_next
    assert any(q.kind == "findings" for q in asked) and any(q.kind != "findings" for q in asked)
    first_for_patient = next(q for q in asked if q.kind != "findings")
    assert html.escape(first_for_patient.question) in app.ask_next.object
    app.state.view.register = "clinician"
    assert html.escape(asked[0].clinician_question) in app.ask_next.object


def test_the_panels_touch_only_what_the_page_offers(ctx):
    """teach.py and visits_panel.py reach the page only through the members app/page.py lists,
    and the page has every one of them."""
    import ast
    from pathlib import Path

    from hipviz.app import page

    offered = set(page.Page.__annotations__) | {n for n in vars(page.Page) if not n.startswith("_")}
    src = Path(page.__file__).parent
    for name in ("teach.py", "visits_panel.py"):
        tree = ast.parse((src / name).read_text("utf-8"))
        used = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                base = node.value
                if (isinstance(base, ast.Attribute) and base.attr == "app" and isinstance(base.value, ast.Name)
                        and base.value.id == "self") or (isinstance(base, ast.Name) and base.id == "app"):
                    used.add(node.attr)
        assert used and used <= offered, (name, sorted(used - offered))
    app = HipvizApp(ctx)
    assert all(hasattr(app, n) for n in offered), sorted(n for n in offered if not hasattr(app, n))


def test_on_a_phone_an_alert_keeps_its_level_and_signs_in_view_and_the_rest_a_tap_away(ctx):
    app = HipvizApp(ctx)
    app.view()
    app.state.answers.red_flags = ["saddle_anaesthesia"]
    full = app.alerts.object
    assert "Emergency: seek medical care now." in full and "call an ambulance" in full and "<details" not in full
    app.layout_watch.results_in_tab = True            # the page reports a phone layout
    compact = app.alerts.object
    assert compact.startswith("<details") and "<summary><b>Emergency: seek medical care now.</b> Numbness between the legs" in compact
    assert "call an ambulance" in compact and "role='alert'" in compact   # still there, a tap away
    app.layout_watch.results_in_tab = False
    assert app.alerts.object == full

