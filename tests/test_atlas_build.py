"""The atlas build is reproducible: rebuilding from the BodyParts3D pack gives meshes/ again.

Every file must come back byte for byte, with one allowance: processors with different vector
units (AVX2, AVX-512) round some floating-point steps differently, so a mesh may come back with
vertices moved by a float32 rounding step (under a micrometre). Such a mesh must have the same
triangles and every vertex within 1 µm; the manifest must then differ only by that mesh's
checksum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from hipviz.atlas.meshes import file_sha256   # the checksum the build writes into the manifest
from hipviz.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT.parent / "shared" / "anatomy-meshes" / "bodyparts3d"
#: the largest vertex movement (metres) accepted as floating-point rounding
ROUNDING_M = 1e-6


def _same_mesh_within_rounding(a: Path, b: Path) -> bool:
    ma, mb = trimesh.load(a, process=False), trimesh.load(b, process=False)
    return (ma.faces.shape == mb.faces.shape and bool((ma.faces == mb.faces).all())
            and ma.vertices.shape == mb.vertices.shape
            and bool(np.abs(ma.vertices - mb.vertices).max(initial=0.0) <= ROUNDING_M))


@pytest.mark.slow
@pytest.mark.skipif(not (PACK / "sources.json").is_file(), reason="needs ../shared/anatomy-meshes/bodyparts3d beside the checkout")
def test_rebuild_matches_committed_meshes(tmp_path):
    out = tmp_path / "meshes"
    assert main(["atlas", "build", "--out", str(out), "--bodyparts3d", str(PACK)]) == 0
    committed_dir = ROOT / "meshes"
    committed = sorted(p.name for p in committed_dir.iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    rounded: dict[str, str] = {}      # rebuilt checksum -> committed checksum, for meshes within rounding
    differ = []
    for name in committed:
        if name == "manifest.json" or (out / name).read_bytes() == (committed_dir / name).read_bytes():
            continue
        if name.endswith(".ply") and _same_mesh_within_rounding(out / name, committed_dir / name):
            rounded[file_sha256(out / name)] = file_sha256(committed_dir / name)
        else:
            differ.append(name)
    assert not differ, f"rebuilt files differ from meshes/: {differ}"
    manifest = (out / "manifest.json").read_text("utf-8")
    for rebuilt_sha, committed_sha in rounded.items():
        manifest = manifest.replace(rebuilt_sha, committed_sha)
    assert manifest == (committed_dir / "manifest.json").read_text("utf-8"), (
        "the rebuilt manifest differs from meshes/manifest.json beyond the checksums of "
        f"meshes within rounding: {sorted(rounded)}")


def test_a_mesh_moved_beyond_rounding_is_a_difference(tmp_path):
    """The allowance covers rounding only: a vertex moved by 2 µm, or a changed triangle, is a
    different mesh."""
    tri = trimesh.Trimesh(vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0]], faces=[[0, 1, 2]], process=False)
    tri.export(tmp_path / "a.ply")
    near = tri.copy()
    near.vertices[1, 0] += ROUNDING_M / 2
    near.export(tmp_path / "near.ply")
    far = tri.copy()
    far.vertices[1, 0] += 2 * ROUNDING_M
    far.export(tmp_path / "far.ply")
    flipped = trimesh.Trimesh(vertices=tri.vertices, faces=[[0, 2, 1]], process=False)
    flipped.export(tmp_path / "flipped.ply")
    assert _same_mesh_within_rounding(tmp_path / "a.ply", tmp_path / "near.ply")
    assert not _same_mesh_within_rounding(tmp_path / "a.ply", tmp_path / "far.ply")
    assert not _same_mesh_within_rounding(tmp_path / "a.ply", tmp_path / "flipped.ply")
