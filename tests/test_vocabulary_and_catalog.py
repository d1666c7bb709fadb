"""The identifier contract and the structure catalog match DESIGN.md section 4."""

import ast
import pathlib

import pytest

from hipviz.atlas.catalog import catalog
from hipviz.vocabulary import vocabulary

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "hipviz"


def test_contract_sizes():
    v = vocabulary()
    assert len(v.regions) == 30
    assert len(v.conditions) == 34 and len(set(v.conditions)) == 34
    assert len(v.qualities) == 11
    assert len(v.red_flags) == 35  # 27, the risk factors for infection, stress fracture and arterial disease, new sexual dysfunction
    assert {"low_back_central", "coccyx", "perineum"} == set(v.regions) - v.sided_regions


def test_catalog_resolves_sides():
    cat = catalog()
    assert cat.resolve("gluteus_medius", "left") == "gluteus_medius_left"
    assert cat.resolve("sacrum", "right") == "sacrum"
    s, side = cat.split("nerve_root_l5_right")
    assert (s.base_id, side) == ("nerve_root_l5", "right")
    with pytest.raises(KeyError, match="unknown structure"):
        cat.resolve("gluteus_medius_typo", "left")
    with pytest.raises(ValueError, match="sided"):
        cat.resolve("femur", None)


def test_catalog_covers_required_structures():
    ids = set(catalog().atlas_ids())
    for required in [
        "gluteus_medius_left", "gluteus_minimus_right", "piriformis_left", "femur_right", "hip_bone_left",
        "sacrum", "vertebra_l1", "vertebra_l5", "trochanteric_bursa_right", "nerve_root_l2_left",
        "nerve_root_s1_right", "femoral_nerve_left", "lateral_femoral_cutaneous_nerve_right",
        "obturator_nerve_left", "sciatic_nerve_right", "superior_gluteal_nerve_left",
        "superior_cluneal_nerves_right", "skin",
    ]:
        assert required in ids


DOMAIN = ["vocabulary.py", "paths.py", "painmap.py", "ddx.py", "referral.py", "explain.py", "compare.py", "visits.py", "normals.py", "bodychart.py", "knowledge", "atlas"]
FORBIDDEN = {"panel", "pyvista", "vtk", "bokeh", "hipviz.app", "hipviz.render"}


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_domain_code_imports_no_ui_or_rendering():
    """Atlas, pain map, ranking and knowledge stay usable without a UI or a renderer.

    The atlas mesh loader may convert to PyVista only inside atlas/meshes.py and atlas/build/."""
    allowed_pyvista = {"atlas/meshes.py"}
    files = []
    for entry in DOMAIN:
        p = SRC / entry
        files += sorted(p.rglob("*.py")) if p.is_dir() else ([p] if p.exists() else [])
    assert files
    for f in files:
        rel = f.relative_to(SRC).as_posix()
        if rel in allowed_pyvista or rel.startswith("atlas/build/"):
            continue
        bad = [m for m in _imports(f) if m.split(".")[0] in FORBIDDEN or any(m.startswith(x) for x in FORBIDDEN)]
        assert not bad, f"{rel} imports {bad}"
