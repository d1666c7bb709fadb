"""The packed scene round-trips: what the viewer decodes is the atlas geometry."""

import zlib

import numpy as np
from test_app_fakes import fake_atlas

from hipviz.app.scene import _normals, build_payload, unpack_mesh


def test_payload_round_trips_geometry():
    atlas = fake_atlas()
    p = build_payload(atlas)
    raw = zlib.decompress(p.blob)
    assert len(raw) == p.raw_bytes
    assert len(p.blob) < 0.6 * p.raw_bytes
    ids = [a["id"] for a in p.meta["actors"]]
    assert ids == list(atlas.manifest)
    for entry in p.meta["actors"]:
        pd = atlas.polydata(entry["id"])
        pts, tri, nrm = unpack_mesh(raw, entry)
        extent = np.ptp(pd.points, axis=0).max()
        assert np.abs(pts - pd.points).max() <= extent / 65535
        assert np.array_equal(tri, pd.faces.reshape(-1, 4)[:, 1:])
        src = _normals(pd)
        ok = np.linalg.norm(src, axis=1) > 0.5
        assert np.allclose(nrm[ok], src[ok], atol=0.02)
        for off in ("off_pts", "off_nrm", "off_tri"):
            assert entry[off] % 4 == 0
    assert set(p.meta["views"]) >= {"anterior", "posterior", "left", "right", "reset",
                                    "posterior_oblique_left", "posterior_oblique_right"}


def test_wide_meshes_use_32_bit_indices():
    from hipviz.app.scene import pack_mesh
    n = 70000
    pts = np.random.default_rng(0).random((n, 3))
    tri = np.stack([np.arange(n - 2), np.arange(1, n - 1), np.arange(2, n)], 1)
    buf = bytearray()
    e = pack_mesh(pts, tri, np.tile([0, 0, 1.0], (n, 1)), buf)
    assert e["idx_bytes"] == 4
    assert np.array_equal(unpack_mesh(bytes(buf), e)[1], tri)
