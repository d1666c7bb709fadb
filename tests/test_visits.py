"""Visits across time without the app: which maps are compared, which one came before, the chart's
figures, the body colours of two maps and the view that shows them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from hipviz.app.visit_colours import comparison_rgb, visit_style
from hipviz.app.visits_chart import chart_data, visits_chart
from hipviz.painmap import REGION_IDS, SkinLabels
from hipviz.visits import VisitPoint, default_pair, facing_view, in_visit_order, previous_of, visit_point


@dataclass
class M:
    id: int
    created: float


MAPS = [M(3, 300.0), M(1, 100.0), M(2, 200.0), M(4, 200.0)]


def test_visit_order_and_previous_map():
    assert [m.id for m in in_visit_order(MAPS)] == [1, 2, 4, 3]        # same start time: by id
    assert previous_of(MAPS, 3).id == 4
    assert previous_of(MAPS, 2).id == 1
    assert previous_of(MAPS, 1) is None                                 # the first visit has no "last time"
    assert previous_of(MAPS, 99) is None and previous_of(MAPS, None) is None


def test_default_pair_is_the_open_map_and_the_one_before():
    assert default_pair(MAPS, 2) == (1, 2)
    assert default_pair(MAPS, 1) == (4, 3)          # the first map open: the last two visits
    assert default_pair(MAPS, None) == (4, 3)
    assert default_pair(MAPS[:1], 3) is None


def _labels(n: int = 4) -> SkinLabels:
    g = REGION_IDS.index("groin")
    return SkinLabels("b" * 64, np.full(n, g), np.ones(n, np.uint8), np.array([1.0, 2.0, 3.0, 4.0][:n]))


def test_visit_point_area_and_worst():
    p = visit_point(7, "Visit", 12.0, [0, 5, 0, 2.5], _labels())
    assert (p.map_id, p.area_cm2, p.worst) == (7, 6.0, 5.0)
    assert visit_point(7, "Blank", 12.0, np.zeros(4), _labels()).area_cm2 == 0
    with pytest.raises(ValueError):
        visit_point(7, "Short", 12.0, [1, 2], _labels())


def test_facing_view_turns_to_the_painted_side():
    normals = np.array([[0, 1, 0], [0, 1, 0], [0, -1, 0], [1, 0, 0]], float)
    views = {"front": {"position": [0, -3, 0], "focal_point": [0, 0, 0]},
             "back": {"position": [0, 3, 0], "focal_point": [0, 0, 0]},
             "side": {"position": [3, 0, 0], "focal_point": [0, 0, 0]}}
    names = ("front", "back", "side")
    assert facing_view(normals, [1, 1, 0, 0], views, names) == "back"
    assert facing_view(normals, [0, 0, 1, 0], views, names) == "front"
    assert facing_view(normals, [0, 0, 1, 5], views, names) == "side"
    assert facing_view(normals, np.zeros(4), views, names) is None


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])


def test_two_maps_on_the_skin_colours_and_stripes():
    st = visit_style()
    # a row of vertices along the body diagonal, 0.5 cm apart: long enough for several stripes
    t = np.arange(40) * 0.005
    pts = np.stack([t, t, t], axis=1) / np.sqrt(3)
    before = np.zeros(40)
    after = np.zeros(40)
    before[:20] = 6           # 0-9 earlier only, 10-19 both, 20-29 later only, 30-39 neither
    after[10:30] = 6
    rgb = comparison_rgb(pts, before, after, style=st).astype(int)
    skin, blue, orange = _hex(st.colours["skin"]), _hex(st.colours["earlier"]), _hex(st.colours["later"])

    def nearest(c):
        return np.argmin([np.abs(c - x).sum() for x in (skin, blue, orange)])

    kinds = [nearest(c) for c in rgb]
    assert set(kinds[:10]) == {1} and set(kinds[20:30]) == {2} and set(kinds[30:]) == {0}
    assert set(kinds[10:20]) == {1, 2}          # overlap: stripes of both colours
    strong = comparison_rgb(pts, before * 1.5, after, style=st).astype(int)
    assert np.abs(strong[0] - blue).sum() < np.abs(rgb[0] - blue).sum()   # stronger pain, stronger colour
    only_before = comparison_rgb(pts, before, after, "before", st)
    assert {nearest(c) for c in only_before[10:20].astype(int)} == {1}
    assert {nearest(c) for c in only_before[20:30].astype(int)} == {0}
    with pytest.raises(ValueError):
        comparison_rgb(pts, before, after, "sideways", st)
    with pytest.raises(ValueError):
        comparison_rgb(pts, before[:5], after, "both", st)


def test_chart_data_marks_the_pair_and_orders_by_date():
    st = visit_style()
    pts = [VisitPoint(2, "Second", 2_000_000.0, 40.0, 7.0), VisitPoint(1, "First", 1_000_000.0, 80.0, 5.0),
           VisitPoint(3, "Third", 3_000_000.0, 10.0, 2.0)]
    d = chart_data(pts, earlier=1, later=3, style=st)
    assert d["map_id"] == [1, 2, 3] and d["area"] == [80.0, 40.0, 10.0] and d["worst"] == [5.0, 7.0, 2.0]
    assert d["colour"] == [st.colours["earlier"], st.colours["line"], st.colours["later"]]
    assert d["size"][0] > d["size"][1]
    grid = visits_chart(pts, 1, 3, st)
    sources = {r.data_source for p, _, _ in grid.children for r in p.renderers}
    assert len(sources) == 1 and sources.pop().data["area"] == [80.0, 40.0, 10.0]
    assert visits_chart(pts[:1]) is not None        # one map alone still draws
