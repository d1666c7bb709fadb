"""The packed scene round-trips: what the viewer decodes is the atlas geometry."""

import zlib

import numpy as np
from test_app_fakes import fake_atlas

from hipviz.app.scene import build_payload, unpack_mesh
from hipviz.normals import vertex_normals


def test_payload_round_trips_geometry():
    atlas = fake_atlas()
    p = build_payload(atlas)
    raw = {part: zlib.decompress(p.part(part)) for part in ("first", "rest")}
    assert len(raw["first"]) + len(raw["rest"]) == p.raw_bytes
    assert len(p.blob) + len(p.rest_blob) < 0.6 * p.raw_bytes
    ids = [a["id"] for a in p.meta["actors"]]
    assert ids == list(atlas.manifest)
    # the skin travels with the page, everything else once it is shown
    assert {a["id"]: a["part"] for a in p.meta["actors"]} == {i: "first" if i == "skin" else "rest" for i in ids}
    for entry in p.meta["actors"]:
        pd = atlas.polydata(entry["id"])
        pts, tri, nrm = unpack_mesh(raw[entry["part"]], entry)
        extent = np.ptp(pd.points, axis=0).max()
        assert np.abs(pts - pd.points).max() <= extent / 65535
        assert np.array_equal(tri, pd.faces.reshape(-1, 4)[:, 1:])
        # the viewer computes its own area-weighted normals from the decoded geometry
        src = vertex_normals(np.asarray(pd.points, float), pd.faces.reshape(-1, 4)[:, 1:])
        ok = np.linalg.norm(src, axis=1) > 0.5
        assert np.median(np.einsum("ij,ij->i", nrm[ok], src[ok])) > 0.99
        for off in ("off_pts", "off_tri"):
            assert entry[off] % 4 == 0
    assert set(p.meta["views"]) >= {"anterior", "posterior", "left", "right", "reset",
                                    "posterior_oblique_left", "posterior_oblique_right"}


def test_wide_meshes_use_32_bit_indices():
    from hipviz.app.scene import pack_mesh
    n = 70000
    pts = np.random.default_rng(0).random((n, 3))
    tri = np.stack([np.arange(n - 2), np.arange(1, n - 1), np.arange(2, n)], 1)
    buf = bytearray()
    e = pack_mesh(pts, tri, buf)
    assert e["idx_bytes"] == 4
    assert np.array_equal(unpack_mesh(bytes(buf), e)[1], tri)


def test_index_coding_round_trips_and_is_small_for_coherent_meshes():
    from hipviz.app.scene import decode_indices, encode_indices
    rng = np.random.default_rng(1)
    tri = rng.integers(0, 60000, size=(500, 3))
    for wide in (False, True):
        assert np.array_equal(decode_indices(encode_indices(tri, wide), wide).reshape(-1, 3), tri)
    strip = np.stack([np.arange(100), np.arange(1, 101), np.arange(2, 102)], 1)  # vertices in first-use order
    assert encode_indices(strip, False).max() <= 2


def test_shipped_scene_fits_the_wire_budget():
    """The default scene's geometry, quantised and compressed, is at most 2 MB on the wire, and
    what a first visit receives (the skin) a fifth of it or less."""
    from hipviz.atlas.meshes import load_atlas
    from hipviz.app.scene import payload_for
    p = payload_for(load_atlas())
    total = len(p.blob) + len(p.rest_blob)
    assert total <= 2 * 2**20, f"{total / 2**20:.2f} MB"
    assert len(p.blob) <= 0.2 * total, f"first part {len(p.blob) / 2**20:.2f} MB of {total / 2**20:.2f} MB"


def test_the_inner_structures_travel_once_something_under_the_skin_shows():
    from hipviz.app.viewer import Viewer
    p = build_payload(fake_atlas())
    v = Viewer(p)
    v._send_msg = lambda msg: None
    inner = next(a["id"] for a in p.meta["actors"] if a["id"] != "skin")
    v.set_actor(inner, colour="#ff0000")               # under a solid skin: nothing to see yet
    v.set_actor("skin", colour="#eebb99")
    assert v.geometry_rest is None
    v.set_actor("skin", opacity=0.3)                   # see-through: the inside shows
    assert v.geometry_rest == p.rest_blob
    v.set_actor("skin", opacity=1.0)
    v.set_actor("skin", opacity=0.3)
    assert v.geometry_rest is p.rest_blob              # sent once, kept for a rebuilt page
    alone = Viewer(p)
    alone._send_msg = lambda msg: None
    alone.set_actors({"skin": {"visible": False}, inner: {"visible": True}})   # one structure alone
    assert alone.geometry_rest == p.rest_blob
