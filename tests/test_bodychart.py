"""The 2D body chart on the shipped skin: what each flat view shows, and that a point on a view
paints the skin vertices under it, on the right side of the body."""

import numpy as np
import pytest

from hipviz.app.session import PaintSession, edge_graph
from hipviz.bodychart import BodyChart
from hipviz.normals import vertex_normals
from hipviz.painmap import REGION_IDS, SIDE_CODES

BACK_REGIONS = ("low_back_central", "low_back_paraspinal", "sacroiliac", "coccyx", "buttock_upper",
                "buttock_lower_medial", "posterior_thigh", "knee_posterior", "posterior_calf", "heel")
FRONT_REGIONS = ("lower_abdomen", "groin", "anterior_thigh", "knee_anterior", "anterior_shin")


@pytest.fixture(scope="module")
def skin():
    meshes = pytest.importorskip("hipviz.atlas.meshes")
    try:
        atlas = meshes.load_atlas()
    except FileNotFoundError:
        pytest.skip("the shipped atlas is not present")
    pd = atlas.polydata("skin")
    tri = np.asarray(pd.faces).reshape(-1, 4)[:, 1:]
    pts = np.asarray(pd.points, np.float64)
    labels = atlas.skin_labels()
    chart = BodyChart.build(pts, vertex_normals(pts, tri), np.flatnonzero(labels.region >= 0))
    return pts, tri, labels, chart


def _in(labels, idx, regions, side=None) -> np.ndarray:
    codes = [REGION_IDS.index(r) for r in regions]
    ok = np.isin(labels.region[idx], codes)
    if side is not None:
        ok &= labels.side[idx] == SIDE_CODES[side]
    return ok


def _all_cells(view):
    rows, cols = view.shape
    rr, cc = np.mgrid[0:rows, 0:cols]
    return cc.ravel() + 0.5, rr.ravel() + 0.5


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_point_on_the_back_of_the_buttock_paints_that_buttock(skin, side):
    pts, tri, labels, chart = skin
    back = chart.views["back"]
    target = pts[_in(labels, np.arange(len(pts)), ("buttock_upper",), side)]
    # the middle of the upper buttock, on the skin
    centre = target[np.argmin(np.linalg.norm(target - target.mean(0), axis=1))]
    col, row = back.locate(centre)[0]
    hit = back.vertices_at([col], [row])
    assert hit.size == 1
    assert _in(labels, hit, ("buttock_upper", "buttock_lateral", "buttock_lower_medial"), side).all()

    s = PaintSession(pts, tri, labels, graph=edge_graph(pts, tri))
    s.brush.radius_cm = 3.0
    s.dab(hit, key=1)
    s.end_stroke()
    painted = {(r.region, r.side) for r in s.painmap(with_vertex_paint=False).regions}
    other = "left" if side == "right" else "right"
    assert painted and all(sd != other for _, sd in painted)
    assert any(r.startswith("buttock") for r, _ in painted)


def test_the_front_view_never_paints_the_back_of_the_body(skin):
    pts, tri, labels, chart = skin
    front = chart.views["front"]
    hit = front.vertices_at(*_all_cells(front))
    assert hit.size > 1000
    assert not _in(labels, hit, BACK_REGIONS).any()
    assert (vertex_normals(pts, tri)[hit, 0] > 0).all()      # every one faces forwards (+x)
    # and the back view never paints the front
    back = chart.views["back"]
    assert not _in(labels, back.vertices_at(*_all_cells(back)), FRONT_REGIONS).any()
    # the front regions are all within reach of the front view
    shown = {REGION_IDS[r] for r in labels.region[hit]}
    assert set(FRONT_REGIONS) <= shown


@pytest.mark.parametrize("view,far_side", [("left", "right"), ("right", "left")])
def test_a_side_view_shows_only_its_own_side(skin, view, far_side):
    pts, _, labels, chart = skin
    v = chart.views[view]
    hit = v.vertices_at(*_all_cells(v))
    assert hit.size > 500
    assert not (labels.side[hit] == SIDE_CODES[far_side]).any()
    lateral = _in(labels, hit, ("lateral_hip_trochanter", "lateral_thigh"), "right" if far_side == "left" else "left")
    assert lateral.sum() > 100


def test_each_cell_shows_the_vertex_a_tap_on_it_paints(skin):
    _, _, _, chart = skin
    for view in chart.views.values():
        rr, cc = np.nonzero(view.cells >= 0)
        pick = np.linspace(0, rr.size - 1, 200).astype(int)
        for r, c in zip(rr[pick], cc[pick]):
            assert view.vertices_at([c + 0.5], [r + 0.5]).tolist() == [view.cells[r, c]]
        # off the body (a corner of the chart) nothing is painted
        assert view.vertices_at([0.0], [0.0]).size == 0


def test_the_wire_form_round_trips(skin):
    import zlib
    _, _, _, chart = skin
    raw = zlib.decompress(chart.wire_blob())
    at = 0
    for meta, view in zip(chart.wire_meta(), chart.views.values()):
        n = meta["rows"] * meta["cols"]
        cells = np.frombuffer(raw[at:at + 4 * n], "<i4").reshape(meta["rows"], meta["cols"])
        at += 5 * n
        assert np.array_equal(cells, view.cells)
    assert at == len(raw)
