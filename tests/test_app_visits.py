"""Comparing two maps in the app without a browser: both on the body, the change table, the chart,
leaving restores the open map and its camera, and neither map is written."""

from __future__ import annotations

import numpy as np
import pytest
from test_app_fakes import fake_atlas
from test_app_layout import paint_stroke
from test_app_session import right_lateral_hip_vertex

from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.store import Store
from hipviz.app.visit_colours import visit_style
from hipviz.painmap import REGION_IDS, SIDE_NAMES


@pytest.fixture
def ctx(tmp_path):
    c = AppContext(fake_atlas(), Store(tmp_path / "app.sqlite3"))
    yield c
    c.store.close()


def _key(app, v):
    lab = app.session.labels
    return REGION_IDS[int(lab.region[v])], SIDE_NAMES[int(lab.side[v])]


def _far_vertex(app, v, region):
    """A vertex of `region` far (more than 15 cm) from vertex v."""
    lab, pts = app.session.labels, app.session.points
    idx = np.flatnonzero((lab.region == REGION_IDS.index(region)) & (np.linalg.norm(pts - pts[v], axis=1) > 0.15))
    return int(idx[0])


@pytest.fixture
def two_visits(ctx):
    """One person, two maps: the first paints the hip (6/10) and the low back, the second the hip
    stronger (9/10) and the other side's hip."""
    app = HipvizApp(ctx)
    app.view()
    hip = right_lateral_hip_vertex(app.session)
    back = _far_vertex(app, hip, "low_back_paraspinal")
    other = int(np.argmin(np.linalg.norm(app.session.points - app.session.points[hip] * [1, 1, -1], axis=1)))
    app.intensity.value = 6
    paint_stroke(app, [hip], 1)
    paint_stroke(app, [back], 2)
    first = app.map_id
    app.new_map_btn.clicks += 1
    app.intensity.value = 9
    paint_stroke(app, [hip], 3)
    paint_stroke(app, [other], 4)
    return app, first, app.map_id, {"hip": hip, "back": back, "other": other}


def test_two_maps_compare_on_the_body_and_in_the_table(ctx, two_visits):
    app, first, second, v = two_visits
    stored = {m: ctx.store.get_map(app.token, m) for m in (first, second)}
    own_rgb = app.viewer.skin_rgb.copy()
    app.viewer.set_view("anterior")
    cam = dict(app.viewer.camera)
    vis = app.visits
    assert (vis.earlier.value, vis.later.value) == (first, second)     # the open map and the one before
    assert vis.start() and vis.active and app.compare_box.visible and not app.results_box.visible

    rgb = app.viewer.skin_rgb.astype(int)
    assert rgb[v["back"], 2] > rgb[v["back"], 0] + 60          # earlier only: blue
    assert rgb[v["other"], 0] > rgb[v["other"], 2] + 60        # later only: orange
    both = (vis._before > 0) & (vis._after > 0)
    blueish = rgb[both, 2] > rgb[both, 0]
    assert blueish.any() and (~blueish).any()                  # painted on both: stripes of both colours

    rows = {(r.region, r.side): r for r in vis.comparison.regions}
    assert rows[_key(app, v["back"])].status == "gone"
    assert rows[_key(app, v["other"])].status == "new"
    hip = rows[_key(app, v["hip"])]
    assert (hip.worst_before, hip.worst_after, hip.status) == (6, 9, "worse")
    table = vis.table.object
    for word in ("gone", "new", "worse"):
        assert f"data-status='{word}'" in table and f"</span> {word}</td>" in table
    assert "6 → <b>9</b>" in table
    assert "earlier" in app.viewer.caption and "later" in app.viewer.caption
    assert "Pain map 1" in vis.title.object and "Pain map 2" in vis.title.object

    # the earlier or the later map alone
    vis.show_btn.value = "before"
    skin = np.array([int(visit_style().colours["skin"][i:i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(app.viewer.skin_rgb[v["other"]].astype(int) - skin).sum() < 6     # the later map's paint is hidden
    assert app.viewer.skin_rgb[v["back"], 2] > app.viewer.skin_rgb[v["back"], 0] + 60
    vis.show_btn.value = "both"
    assert np.array_equal(app.viewer.skin_rgb, rgb)
    assert vis.comparisons_made == 1                           # the same pair is compared once

    # the chart has both maps and marks the pair
    src = next(r.data_source for p, _, _ in vis.chart.object.children for r in p.renderers)
    assert src.data["map_id"] == [first, second] and src.data["worst"] == [6.0, 9.0]
    assert src.data["area"][0] > 0 and src.data["colour"][0] != src.data["colour"][1]

    vis.leave()
    assert np.array_equal(app.viewer.skin_rgb, own_rgb)       # the open map's own colours
    assert app.viewer.camera == cam and app.viewer.caption == ""
    assert app.results_box.visible and not app.compare_box.visible
    for m, s in stored.items():                                 # neither map was written
        now = ctx.store.get_map(app.token, m)
        assert (now.version, now.document, now.updated) == (s.version, s.document, s.updated)


def test_picking_the_pair(ctx, two_visits):
    app, first, second, v = two_visits
    vis = app.visits
    vis.earlier.value = second
    vis.later.value = first
    assert vis.start()
    assert (vis.earlier.value, vis.later.value) == (first, second)     # put in time order, and said so
    assert "swapped" in vis.section_note.object
    vis.later.value = first
    assert "two different maps" in vis.section_note.object and vis.pair == (first, second)
    third = ctx.store.create_map(app.token, ctx.store.load_map(app.token, first), title="Copy")
    vis.refresh()
    vis.later.value = third
    assert vis.pair == (first, third) and vis.comparisons_made == 2
    src = vis._chart_source()
    marked = {m: c for m, c in zip(src.data["map_id"], src.data["colour"])}
    assert marked[first] == visit_style().colours["earlier"] and marked[third] == visit_style().colours["later"]
    assert marked[second] == visit_style().colours["line"]         # the chart follows the pair
    assert all(r.status == "same" for r in vis.comparison.regions)


def test_painting_or_opening_another_map_ends_the_comparison(ctx, two_visits):
    app, first, second, v = two_visits
    vis = app.visits
    vis.start()
    app.mode.value = True                      # Paint
    assert not vis.active and app.viewer.caption == ""
    vis.start()
    assert app.mode.value is False             # comparing is looking, not painting
    app.maps_select.value = first
    assert not vis.active and app.map_id == first
    assert np.array_equal(app.viewer.skin_rgb[app.session.painted_indices()],
                          app.session.colours(app.session.painted_indices()))


def test_a_single_map_cannot_be_compared(ctx):
    app = HipvizApp(ctx)
    app.view()
    paint_stroke(app, [right_lateral_hip_vertex(app.session)])
    app.visits.refresh()
    assert app.visits.start_btn.disabled and "two maps" in app.visits.section_note.object
    assert not app.visits.start()


def test_the_summary_pdf_says_what_changed_since_the_previous_map(ctx, two_visits, monkeypatch):
    import hipviz.app.layout as layout

    app, first, second, v = two_visits
    seen = {}

    def fake_pdf(painmap, atlas, previous=None, previous_date=None):
        seen.update(painmap=painmap, previous=previous, previous_date=previous_date)
        return None

    monkeypatch.setattr(layout, "pdf_file", fake_pdf)
    app.pdf_file()
    assert seen["previous"] is not None and seen["previous_date"] is not None
    assert {(r.region, r.intensity) for r in seen["previous"].regions} >= {(_key(app, v["hip"])[0], 6)}
    app.maps_select.value = first
    app.pdf_file()
    assert seen["previous"] is None            # the first map has no "last time"
