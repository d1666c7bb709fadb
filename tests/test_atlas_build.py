"""The atlas build is reproducible: rebuilding from the BodyParts3D pack gives meshes/ byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from hipviz.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT.parent / "shared" / "anatomy-meshes" / "bodyparts3d"


@pytest.mark.slow
@pytest.mark.skipif(not (PACK / "sources.json").is_file(), reason="needs ../shared/anatomy-meshes/bodyparts3d beside the checkout")
def test_rebuild_matches_committed_meshes(tmp_path):
    out = tmp_path / "meshes"
    assert main(["atlas", "build", "--out", str(out), "--bodyparts3d", str(PACK)]) == 0
    committed = sorted(p.name for p in (ROOT / "meshes").iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    differ = [n for n in committed if (out / n).read_bytes() != (ROOT / "meshes" / n).read_bytes()]
    assert not differ, f"rebuilt files differ from meshes/: {differ}"
