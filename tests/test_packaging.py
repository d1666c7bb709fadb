"""An installed wheel carries the atlas, the knowledge and the pain maps, and finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest


@pytest.mark.slow
def test_wheel_ships_data_and_finds_it(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist")], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    wheel = next((tmp_path / "dist").glob("hipviz-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "site")
    for required in ("hipviz/_data/meshes/manifest.json", "hipviz/_data/meshes/skin.ply",
                     "hipviz/_data/pain_maps/patterns/gtps_gluteal_tendinopathy.json",
                     "hipviz/vocabulary.yaml", "hipviz/fhir_codes.yaml", "hipviz/atlas/catalog.yaml", "hipviz/render/views.yaml",
                     "hipviz/knowledge/conditions/piriformis_syndrome.yaml", "hipviz/knowledge/self_care.yaml",
                     "hipviz/knowledge/conditions/hip_fracture.yaml",
                     "hipviz/_data/pain_maps/patterns/quadratus_lumborum_trigger_points.json",
                     "hipviz/app/migrations/env.py", "hipviz/app/migrations/versions/0001_people_and_maps.py"):
        assert required in names, required
    code = ("import hipviz, sys; from hipviz.atlas.meshes import load_atlas; from hipviz.knowledge.loader import knowledge;"
            "a = load_atlas(); a.polydata('skin'); assert str(a.root).startswith(sys.argv[1]), a.root;"
            "from hipviz.knowledge.loader import self_care_library; self_care_library();"
            "assert len(knowledge()) == 34;"
            "from hipviz.app.store import Store, MIGRATIONS; assert str(MIGRATIONS).startswith(sys.argv[1]);"
            "Store(sys.argv[1] + '/maps.sqlite3').close(); print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site")], capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}, cwd=str(tmp_path))
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
