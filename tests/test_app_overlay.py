"""The skin layers the page draws per pixel: territory slots, pattern weights, and what the
viewer sends for them (bad fields are refused before anything is sent)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from test_app_fakes import fake_atlas

from hipviz.app.overlay import NO_TERRITORY, SLOTS, Territories, overlay_style, pattern_zone, territory_slots
from hipviz.app.scene import build_payload
from hipviz.app.session import edge_graph
from hipviz.app.viewer import Viewer
from hipviz.colours import hex_to_rgb


def _grid(nx: int, ny: int) -> tuple[np.ndarray, csr_matrix]:
    """Vertices of an nx x ny grid and its 4-neighbour graph."""
    idx = np.arange(nx * ny).reshape(ny, nx)
    pairs = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1].ravel(), idx[1:].ravel()], 1)])
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return idx, csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(nx * ny, nx * ny))


def _meeting_patches_differ(codes, slots, graph) -> bool:
    coo = graph.tocoo()
    a, b = codes[coo.row], codes[coo.col]
    meet = (a != b) & (a >= 0) & (b >= 0)
    return bool(np.all(slots[coo.row[meet]] != slots[coo.col[meet]]))


def test_territories_that_meet_get_different_slots():
    idx, g = _grid(12, 12)
    codes = (idx // 3 % 4 * 4 + idx % 12 // 3).ravel()      # a 4x4 chequer of 16 territories
    slots = territory_slots(codes, g)
    assert slots.max() < SLOTS and _meeting_patches_differ(codes, slots, g)


def test_one_territory_in_two_places_takes_a_slot_per_patch():
    # the same code on the left and on the right, each surrounded by its own neighbours: with one
    # slot per code this map needs five slots; with one per connected patch four are enough
    idx, g = _grid(16, 4)
    col = idx % 16
    codes = np.select([col < 2, col < 4, col < 6, col < 8, col < 10, col < 12, col < 14], [0, 1, 2, 3, 4, 1, 2], 0).ravel()
    codes[(idx >= 40).ravel() & ((idx % 16) >= 14).ravel()] = 5
    slots = territory_slots(codes, g)
    assert _meeting_patches_differ(codes, slots, g)


def test_no_territory_and_too_many_codes():
    _, g = _grid(4, 4)
    codes = np.full(16, -1)
    codes[:4] = 0
    t = Territories.of(codes, g)
    wire_codes, wire_slots = t.wire()
    assert np.frombuffer(wire_codes, np.uint8)[4:].tolist() == [NO_TERRITORY] * 12
    assert len(wire_slots) == 16
    with pytest.raises(ValueError, match="at most 255"):
        Territories.of(np.full(16, 300), g)


def test_the_style_file_is_complete_and_its_colours_parse():
    st = overlay_style()
    assert 0 < st["pattern"]["threshold"] < 1 and 0 < st["pattern"]["duty"] < 1
    assert all(len(hex_to_rgb(c)) == 3 for c in st["territory"]["colours"])
    assert set(st["smoothing"]) == {"paint", "territory", "pattern"}
    assert pattern_zone(np.array([0.0, st["pattern"]["threshold"], 1.0])).tolist() == [False, True, True]


@pytest.fixture(scope="module")
def viewer_and_graph():
    atlas = fake_atlas()
    skin = atlas.polydata("skin")
    return Viewer(build_payload(atlas)), edge_graph(np.asarray(skin.points), skin.faces.reshape(-1, 4)[:, 1:])


def test_the_viewer_sends_each_layer_once_and_refuses_bad_fields(viewer_and_graph):
    v, g = viewer_and_graph
    sent: list[dict] = []
    v._send_msg = sent.append
    n = len(v.skin_rgb)
    w = np.linspace(0, 1, n)
    v.set_overlay(w)
    assert [m["type"] for m in sent] == ["overlay"] and len(sent[0]["pattern"]) == n and sent[0]["territory"] is None
    v.set_overlay(w.copy())
    assert len(sent) == 1                                           # nothing changed: nothing sent
    codes = np.where(np.arange(n) % 3 == 0, 1, -1)
    t = Territories.of(codes, g)
    v.set_overlay(None, t)
    assert len(sent) == 2 and sent[1]["pattern"] is None and len(sent[1]["territory"]) == n
    for bad in (np.zeros(n + 1), np.zeros((n, 2))):
        with pytest.raises(ValueError, match="one weight per skin vertex"):
            v.set_overlay(bad)
    assert v.territories is t and len(sent) == 2                   # a refused layer changed nothing
    v.set_overlay(np.full(n, np.nan))                               # NaN draws nothing rather than everything
    assert not pattern_zone(v.pattern).any()
