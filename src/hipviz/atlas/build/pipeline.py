"""`hipviz atlas build`: the BodyParts3D pack in, meshes/ out, deterministically.

Writes one binary PLY per structure (float32 vertices, int32 triangles), the skin labels as a
.npy structured array, the vertex maps that carry paint from earlier skins onto this one,
manifest.json with provenance, licence and sha256 per file, the ATTRIBUTION and the
CC BY-SA 2.1 JP licence text of the BodyParts3D-derived files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import trimesh

from hipviz.atlas.build.bones import SIDES, build_skeleton
from hipviz.atlas.build.bp3d import ATTRIBUTION_LINE, FRAME, Pack
from hipviz.atlas.build.generated import Generated
from hipviz.atlas.build.geometry import coherent_order, fit_affine, inside, pull_inside, push_outside
from hipviz.atlas.build.labels import DERMATOMES, NERVE_TERRITORIES, label_skin
from hipviz.atlas.build.muscles import build_soft
from hipviz.atlas.build.skin import build_skin
from hipviz.atlas.catalog import catalog
from hipviz.atlas.meshes import file_sha256
from hipviz.vocabulary import vocabulary

ATLAS_FORMAT = "hipviz-atlas"
ATLAS_VERSION = 1
LABEL_DTYPE = np.dtype([("region", "<i2"), ("side", "i1"), ("dermatome", "i1"), ("dermatome_variable", "u1"), ("nerve", "i1")])
LICENCE = "CC-BY-SA-2.1-JP"
LICENCE_FILE = "LICENSE-CC-BY-SA-2.1-JP.txt"
SKIN_MARGIN = 0.002      # every structure at least this far inside the skin
MIGRATION_REACH = 0.03   # a new skin vertex farther than this from the old skin gets no paint

SOURCES = {
    "bp3d": "BodyParts3D 4.0, Database Center for Life Science (DBCLS), Japan",
    "generated": "hipviz, generated against the BodyParts3D 4.0 surfaces (textbook relations)",
}


def write_ply(path: Path, v: np.ndarray, f: np.ndarray) -> None:
    """Binary little-endian PLY: float32 xyz, uchar-counted int32 triangle lists."""
    v = np.ascontiguousarray(v, "<f4")
    f = np.ascontiguousarray(f, "<i4")
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment hipviz atlas, metres, hipviz body frame\n"
        f"comment {ATTRIBUTION_LINE}\n"
        f"element vertex {len(v)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(f)}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode("utf-8")
    faces = np.empty(len(f), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    faces["n"] = 3
    faces["i"] = f
    path.write_bytes(header + v.tobytes() + faces.tobytes())


def _round(v: np.ndarray) -> np.ndarray:
    """float32 as written, so checks made here hold for the files."""
    return np.asarray(np.asarray(v, "<f4"), np.float64)


def build(out: Path, pack_dir: Path) -> dict:
    pack = Pack(pack_dir)
    return finish(out, pack, *prepare(pack))


def prepare(pack: Pack):
    """The BodyParts3D structures in the atlas frame: skeleton, muscles (inside the skin), skin."""
    sk = build_skeleton(pack)
    soft = build_soft(pack)
    skin = build_skin(pack)
    skin = (_round(skin[0]), skin[1])
    # where muscles reach through the skin (medial knee and calf, lateral thigh), dent them in
    from scipy.spatial import cKDTree

    tree = cKDTree(skin[0])
    for aid, (v, f) in soft.items():
        soft[aid] = (pull_inside(v, f, *skin, margin=SKIN_MARGIN + 0.0005, tree=tree), f)
    # where a muscle dips more than a millimetre into a bone (the source meshes overlap a little
    # at some attachments), lift it back to the bone's surface
    boxes = {b: (bv.min(0) - 0.005, bv.max(0) + 0.005) for b, (bv, _) in sk.meshes.items()}
    for aid, (v, f) in soft.items():
        if catalog().split(aid)[0].kind != "muscle":
            continue
        for b, (lo, hi) in boxes.items():
            if np.all((v > lo) & (v < hi), axis=1).any():
                v = push_outside(v, f, *sk.meshes[b], allowed=0.001)
        soft[aid] = (v, f)
    return sk, soft, skin


def finish(out: Path, pack: Pack, sk, soft, skin) -> dict:
    skin = coherent_order(*skin)  # before anything indexes its vertices (labels, vertex maps)
    sk.landmarks["crotch"] = _crotch(skin, sk)
    for side in SIDES:
        mt = [pack.mesh(fma)[0] for fma in ((24507, 24509) if side == "right" else (24508, 24510))]
        tops = np.vstack([m[m[:, 1] > np.percentile(m[:, 1], 80)] for m in mt])
        sk.landmarks[f"first_web_space_{side}"] = np.array([tops[:, 0].max() - 0.01, tops[:, 1].mean(), (mt[0][:, 2].mean() + mt[1][:, 2].mean()) / 2])
    gen = Generated(pack, sk, soft, skin)
    generated = gen.build()
    meshes = {**sk.meshes, **soft, **generated, "skin": skin}
    labels = label_skin(*skin, sk)
    cat = catalog()
    missing = sorted(set(cat.atlas_ids()) - set(meshes))
    extra = sorted(set(meshes) - set(cat.atlas_ids()))
    if missing or extra:
        raise RuntimeError(f"built structures do not match the catalog: missing {missing}, unexpected {extra}")
    # anything still reaching the skin (bones of the toes, generated nerves) is kept inside it
    for aid in cat.atlas_ids():
        if aid == "skin":
            continue
        v, f = meshes[aid]
        v = _round(v)
        if not inside(v, *skin).all():
            v = _round(pull_inside(v, f, *skin, margin=SKIN_MARGIN))
        meshes[aid] = coherent_order(v, f)

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        stage = Path(tmp) / "meshes"
        stage.mkdir()
        entries = []
        for atlas_id in cat.atlas_ids():
            s, side = cat.split(atlas_id)
            v, f = meshes[atlas_id]
            name = f"{atlas_id}.ply"
            write_ply(stage / name, v, f)
            src = "generated" if atlas_id in generated else "bp3d"
            fmas = _fmas(atlas_id)
            entries.append({
                "id": atlas_id, "base_id": s.base_id, "name": s.name + (f" ({side})" if side else ""),
                "kind": s.kind, "side": side or "midline", "layer": s.layer, "file": name,
                "colour": s.colour, "default_visible": s.default_visible, "default_opacity": s.default_opacity,
                "fma": s.fma_of(side), "innervation": s.innervation, "segments": list(s.segments),
                "attachments": {"origin": s.origin, "insertion": s.insertion} if s.origin else None,
                "action": s.action, "source": SOURCES[src] + (f" (FMA{', FMA'.join(map(str, fmas))})" if fmas else ""),
                "licence": LICENCE,
                "vertices": int(len(v)), "triangles": int(len(f)), "sha256": file_sha256(stage / name),
            })
        lab = np.zeros(len(skin[0]), LABEL_DTYPE)
        for key in LABEL_DTYPE.names:
            lab[key] = labels[key]
        np.save(stage / "skin_labels.npy", lab)
        skin_sha = next(e["sha256"] for e in entries if e["id"] == "skin")
        migrations = _migrations(stage, skin, sk.landmarks)
        manifest = {
            "format": ATLAS_FORMAT,
            "version": ATLAS_VERSION,
            "frame": FRAME,
            "structures": entries,
            "skin_labels": {
                "file": "skin_labels.npy", "sha256": file_sha256(stage / "skin_labels.npy"),
                "skin_sha256": skin_sha,
                "regions": list(vocabulary().regions), "sides": ["midline", "left", "right"],
                "outside_region": -1,
                "dermatomes": list(DERMATOMES), "nerve_territories": list(NERVE_TERRITORIES),
                "dermatome_source": "Lee MW, McPhee RW, Stringer MD. An evidence-based approach to human dermatomes. Clin Anat 2008;21(5):363-373. doi:10.1002/ca.20636",
            },
            "skin_migrations": migrations,
            "landmarks": {k: np.round(np.asarray(p, float), 5).tolist()
                          for k, p in sorted({**sk.landmarks, **gen.landmarks}.items())},
            "paths": {k: np.round(p, 5).tolist() for k, p in sorted(gen.paths.items())},
            "inputs": {"bodyparts3d": {"version": "4.0", "sources_json_sha256": pack.sha256,
                                       "attribution": ATTRIBUTION_LINE}},
        }
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n")
        _write_notices(stage)
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(stage), str(out))
    return manifest


def _crotch(skin, sk) -> np.ndarray:
    """The perineum between the thighs: the lowest point where the skin crosses the midline plane
    behind the scrotum (the thighs themselves never reach the plane)."""
    v, f = skin
    hip_x = float(sk.landmarks["acetabulum_centre_right"][0])
    knee_y = float(sk.landmarks["knee_right"][1])
    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    a, b = v[e[:, 0]], v[e[:, 1]]
    cross = (a[:, 2] < 0) & (b[:, 2] >= 0)
    t = a[cross, 2] / (a[cross, 2] - b[cross, 2])
    pts = a[cross] + t[:, None] * (b[cross] - a[cross])
    # the thighs touch below it, so the skin crosses the plane all the way down: take the crossing
    # nearest to the point 4.5 cm below and just in front of the ischial tuberosities
    it = np.mean([sk.landmarks[f"ischial_tuberosity_{k}"] for k in SIDES], axis=0)
    guess = np.array([it[0] + 0.015, it[1] - 0.045, 0.0])
    pts = pts[(pts[:, 0] > hip_x - 0.07) & (pts[:, 0] < hip_x + 0.02) & (pts[:, 1] > knee_y + 0.1)]
    if not len(pts):
        return guess
    p = pts[np.argmin(np.linalg.norm(pts - guess, axis=1))]
    return np.array([p[0], p[1], 0.0])


def _fmas(atlas_id: str) -> tuple[int, ...]:
    from hipviz.atlas.build.bones import MIDLINE_BONES, SIDED_BONES
    from hipviz.atlas.build.muscles import MIDLINE_SOFT, SOFT

    if atlas_id == "skin":
        return (7163,)
    if atlas_id in MIDLINE_BONES:
        return MIDLINE_BONES[atlas_id]
    if atlas_id in MIDLINE_SOFT:
        return MIDLINE_SOFT[atlas_id][0]
    for side, k in (("right", 0), ("left", 1)):
        if atlas_id.endswith("_" + side):
            base = atlas_id[: -len(side) - 1]
            if base in SIDED_BONES:
                return SIDED_BONES[base][k]
            if base in SOFT:
                return SOFT[base][k]
    return ()


LEGACY_PAIRS = ("acetabulum_centre", "ASIS", "PSIS", "greater_trochanter_lateral", "iliac_crest_top",
                "ischial_tuberosity", "knee", "ankle")


def _migrations(stage: Path, skin, landmarks: dict) -> list[dict]:
    """Vertex maps from earlier skins to this one: for each vertex of this skin, the nearest vertex of
    the old skin once the old skin is moved onto this one (a landmark affine fit between the two
    bodies, refined by a few rounds of closest-point fitting), or -1 where the old skin did not
    reach (head, arms, chest)."""
    from scipy.spatial import cKDTree

    from hipviz.atlas.build.geometry import closest_points

    out = []
    legacy = resources.files("hipviz.atlas.build").joinpath("legacy")
    for meta_file in sorted(p for p in legacy.iterdir() if p.name.endswith(".json")):
        meta = json.loads(meta_file.read_text("utf-8"))
        old = trimesh.load(Path(str(legacy.joinpath(meta_file.name[:-5] + ".ply"))), file_type="ply", process=False)
        ov = np.asarray(old.vertices, float)
        src, dst = [], []
        for name in LEGACY_PAIRS:
            for side in SIDES:
                src.append(meta["landmarks"][f"{name}_{side}"])
                dst.append(landmarks[f"{name}_{side}"])
        T = fit_affine(np.asarray(src, float), np.asarray(dst, float))
        moved = ov @ T[:3, :3].T + T[:3, 3]
        for _ in range(4):  # closest-point refinement of the fit, over the old skin's extent
            d, c = closest_points(moved, *skin)
            ok = d < np.percentile(d, 90)
            T2 = fit_affine(moved[ok], c[ok])
            moved = moved @ T2[:3, :3].T + T2[:3, 3]
        d, idx = cKDTree(moved).query(skin[0])
        vmap = np.where(d < MIGRATION_REACH, idx, -1).astype("<i4")
        name = f"skin_migration_{meta['skin_sha256'][:12]}.npy"
        np.save(stage / name, vmap)
        out.append({"from_skin_sha256": meta["skin_sha256"], "from_vertex_count": int(len(ov)), "file": name,
                    "sha256": file_sha256(stage / name),
                    "method": "nearest vertex after a landmark affine fit and closest-point refinement between the two skins"})
    return out


def _write_notices(stage: Path) -> None:
    text = resources.files("hipviz.atlas.build").joinpath("licences", "CC-BY-SA-2.1-JP.txt").read_text("utf-8")
    head = ("Creative Commons Attribution-ShareAlike 2.1 Japan (CC BY-SA 2.1 JP), legal code\n"
            "https://creativecommons.org/licenses/by-sa/2.1/jp/legalcode\n"
            "Applies to every mesh, label and map file in this folder (see ATTRIBUTION.md).\n"
            "Text as published in the SPDX License List (CC-BY-SA-2.1-JP).\n\n")
    (stage / LICENCE_FILE).write_text(head + text, "utf-8")
    (stage / "ATTRIBUTION.md").write_text(ATTRIBUTION, "utf-8")


ATTRIBUTION = f"""# Anatomy data: sources, credits and licences

{ATTRIBUTION_LINE}

The files in this folder are built by `hipviz atlas build` from BodyParts3D 4.0, the whole-body
anatomical model of the Database Center for Life Science (DBCLS), Japan, modelled from MRI data
of an adult male (as packed in `../shared/anatomy-meshes/bodyparts3d/`: meshes taken from the
GitHub repository aHer-dev/3DAnatomy, which converted the BodyParts3D files; see its README and
sources.json for the commits, paths and checksums).

They are derived works of BodyParts3D and are distributed under the same licence, Creative
Commons Attribution-ShareAlike 2.1 Japan (CC BY-SA 2.1 JP); the licence text is in
`{LICENCE_FILE}`. You may share and adapt them if you give the attribution line above and share
your adaptations under the same licence.

## Bones, discs, muscles, ligaments, arteries, skin (BodyParts3D)
Each file names its FMA ids in `manifest.json` (`source`). Changes made: moved by one rigid
motion into the hipviz body frame (metres; +x anterior, +y superior, +z subject's right; origin
mid-ASIS); tiny flat fragments removed; left and right parts of a structure merged where the atlas
shows one mesh (foot bones, proximal hamstrings, gastrocnemius, adductor magnus with minimus);
coarse bones, discs and arteries subdivided and smoothed within about 1 mm; dense meshes reduced
by quadric decimation; muscles dented in where they reached through the skin. The skin is the
outer layer of the BodyParts3D double-shell skin, its holes closed, remeshed to about 8 mm edges.

## Nerves, bursae, hip capsule, sacroiliac and facet joints, coccyx, dural sac (generated)
BodyParts3D has none of these. hipviz generates them against the BodyParts3D surfaces from
textbook anatomical relations (nerve routes, bursa and joint positions). Educational geometry,
not patient-specific: positions are about 5 mm to 1 cm from where a dissection would put them.

## Skin labels (`skin_labels.npy`) and paint maps (`skin_migration_*.npy`)
Region, dermatome and cutaneous-nerve labels are hipviz's own; dermatomes follow Lee MW, McPhee
RW, Stringer MD. An evidence-based approach to human dermatomes. Clin Anat 2008;21(5):363-373.
The migration maps carry paint from the skin of earlier hipviz versions (a MakeHuman CC0 mesh)
onto this one.
"""
