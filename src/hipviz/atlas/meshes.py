"""Load the built atlas: manifest, meshes (trimesh -> PyVista) and the labelled skin.

Files are checked against the manifest's sha256 when loaded, so a missing or corrupt file is
reported by name (AtlasError) instead of surfacing as a parser traceback. Derived data (normals,
PyVista conversions, skin vertex areas) is cached per process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from hipviz.paths import data_dir

ATLAS_FORMAT = "hipviz-atlas"
ATLAS_VERSION = 1


class AtlasError(RuntimeError):
    """The atlas on disk is missing, corrupt or of an unsupported version; names the file."""


@dataclass(frozen=True)
class StructureInfo:
    id: str
    base_id: str
    name: str
    kind: str
    side: str
    layer: str
    file: str
    colour: str
    visible: bool
    opacity: float
    triangles: int
    vertices: int
    sha256: str
    fma: int | None
    innervation: str | None
    segments: tuple[str, ...]
    attachments: dict | None
    action: str | None
    source: str
    licence: str


def file_sha256(path: Path) -> str:
    """A file's SHA-256, read in 1 MiB chunks (the atlas build writes it, the loader checks it)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(root: Path) -> dict:
    path = root / "manifest.json"
    if not path.is_file():
        raise AtlasError(f"atlas manifest missing: {path}")
    try:
        m = json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AtlasError(f"atlas manifest {path} is not valid JSON: {e}") from None
    if m.get("format") != ATLAS_FORMAT:
        raise AtlasError(f"{path}: format must be {ATLAS_FORMAT!r}, not {m.get('format')!r}")
    if m.get("version") != ATLAS_VERSION:
        raise AtlasError(f"{path}: atlas version {m.get('version')!r} is not supported (this hipviz reads {ATLAS_VERSION})")
    return m


def check_files(root: Path) -> list[str]:
    """Problems found verifying every file against the manifest (empty when all is well)."""
    try:
        m = read_manifest(root)
    except AtlasError as e:
        return [str(e)]
    problems = []
    files = [(s["file"], s["sha256"]) for s in m["structures"]]
    files.append((m["skin_labels"]["file"], m["skin_labels"]["sha256"]))
    files += [(g["file"], g["sha256"]) for g in m.get("skin_migrations", [])]
    for name, sha in files:
        p = root / name
        if not p.is_file():
            problems.append(f"{name}: missing")
        elif file_sha256(p) != sha:
            problems.append(f"{name}: checksum mismatch (file is corrupt or was changed)")
    return problems


class Atlas:
    """The built atlas. Meshes load lazily and are cached; every file is verified on first read."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else data_dir("meshes")
        raw = read_manifest(self.root)
        self.raw = raw
        self.manifest: dict[str, StructureInfo] = {}
        for s in raw["structures"]:
            self.manifest[s["id"]] = StructureInfo(
                id=s["id"], base_id=s["base_id"], name=s["name"], kind=s["kind"], side=s["side"],
                layer=s["layer"], file=s["file"], colour=s["colour"], visible=s["default_visible"],
                opacity=s["default_opacity"], triangles=s["triangles"], vertices=s["vertices"], sha256=s["sha256"],
                fma=s.get("fma"), innervation=s.get("innervation"), segments=tuple(s.get("segments") or ()),
                attachments=s.get("attachments"), action=s.get("action"), source=s["source"], licence=s["licence"],
            )
        self.landmarks = {k: np.asarray(v) for k, v in raw.get("landmarks", {}).items()}
        self.paths = {k: np.asarray(v) for k, v in raw.get("paths", {}).items()}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._polydata: dict = {}

    def info(self, atlas_id: str) -> StructureInfo:
        try:
            return self.manifest[atlas_id]
        except KeyError:
            raise KeyError(f"unknown atlas structure {atlas_id!r}") from None

    def _verified(self, name: str, sha: str) -> Path:
        p = self.root / name
        if not p.is_file():
            raise AtlasError(f"atlas file missing: {p}")
        if file_sha256(p) != sha:
            raise AtlasError(f"atlas file corrupt (checksum mismatch): {p}")
        return p

    def arrays(self, atlas_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(vertices float32 (n, 3), triangles int32 (m, 3)) of one structure, read with trimesh."""
        if atlas_id not in self._arrays:
            import trimesh

            info = self.info(atlas_id)
            path = self._verified(info.file, info.sha256)
            try:
                m = trimesh.load(path, file_type="ply", process=False, force="mesh")
            except Exception as e:  # a parser error on a file that passed its checksum
                raise AtlasError(f"atlas file unreadable: {path}: {e}") from None
            v = np.asarray(m.vertices, np.float32)
            f = np.asarray(m.faces, np.int32)
            if len(v) != info.vertices or len(f) != info.triangles:
                raise AtlasError(f"atlas file {path} has {len(v)} vertices/{len(f)} triangles, manifest says {info.vertices}/{info.triangles}")
            self._arrays[atlas_id] = (v, f)
        return self._arrays[atlas_id]

    def trimesh(self, atlas_id: str):
        import trimesh

        return trimesh.Trimesh(*self.arrays(atlas_id), process=False)

    def polydata(self, atlas_id: str):
        """A PyVista PolyData with point normals (computed once and cached)."""
        if atlas_id not in self._polydata:
            import pyvista as pv

            v, f = self.arrays(atlas_id)
            cells = np.hstack([np.full((len(f), 1), 3, np.int32), f]).ravel()
            pd = pv.PolyData(v, cells)
            pd.point_data["Normals"] = np.asarray(self.trimesh(atlas_id).vertex_normals, np.float32)
            self._polydata[atlas_id] = pd
        return self._polydata[atlas_id]

    @cached_property
    def skin_label_arrays(self) -> np.ndarray:
        meta = self.raw["skin_labels"]
        p = self._verified(meta["file"], meta["sha256"])
        lab = np.load(p, allow_pickle=False)
        if len(lab) != self.info("skin").vertices:
            raise AtlasError(f"{p}: {len(lab)} labels for {self.info('skin').vertices} skin vertices")
        return lab

    @cached_property
    def skin_vertex_area_cm2(self) -> np.ndarray:
        v, f = self.arrays("skin")
        v = v.astype(np.float64)
        area = 0.5 * np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1) * 1e4
        return np.bincount(f.ravel(), np.repeat(area / 3.0, 3), minlength=len(v))

    def skin_labels(self):
        """The skin's region/side labels and vertex areas for the pain map (hipviz.painmap.SkinLabels)."""
        from hipviz.painmap import SkinLabels

        lab = self.skin_label_arrays
        return SkinLabels(checksum=self.info("skin").sha256, region=lab["region"], side=lab["side"],
                          vertex_area_cm2=self.skin_vertex_area_cm2)

    def skin_migration(self, from_skin_sha256: str) -> tuple[np.ndarray, int] | None:
        """The vertex map from an earlier skin to this one, if this atlas ships one: for each vertex of
        this skin, the index of the old skin's vertex whose paint it takes (-1: none), and the old
        skin's vertex count."""
        for m in self.raw.get("skin_migrations", []):
            if m["from_skin_sha256"] == from_skin_sha256:
                p = self._verified(m["file"], m["sha256"])
                vmap = np.load(p, allow_pickle=False)
                if vmap.shape != (self.info("skin").vertices,):
                    raise AtlasError(f"{p}: {len(vmap)} entries for {self.info('skin').vertices} skin vertices")
                return vmap, int(m["from_vertex_count"])
        return None

    def ids(self, layer: str | None = None, kind: str | None = None) -> list[str]:
        return [i for i, s in self.manifest.items() if (layer is None or s.layer == layer) and (kind is None or s.kind == kind)]


@cache
def load_atlas(root: str | None = None) -> Atlas:
    """The shipped atlas (cached per process); pass a directory to load another build."""
    return Atlas(Path(root) if root else None)
