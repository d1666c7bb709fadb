"""The BodyParts3D 4.0 pack (../shared/anatomy-meshes/bodyparts3d): reading, checking and the frame.

The pack's own frame is BodyParts3D's (metres; +x subject's left, +y posterior, +z superior).
The atlas uses the hipviz body frame: metres, +x anterior, +y superior, +z subject's right, origin
at the mid-point of the two anterior superior iliac spines (ASIS) of the BodyParts3D hip bones,
axes those of the model's standing pose (no pelvic-tilt correction). It is a rigid motion of the
pack's frame, so every structure keeps its place relative to every other.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path

import numpy as np
import trimesh

# rows: the atlas axes written in pack axes (anterior = -posterior, up = up, right = -left)
ROTATION = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
ATTRIBUTION_LINE = "BodyParts3D, © The Database Center for Life Science licensed under CC Attribution-Share Alike 2.1 Japan"
FRAME = ("hipviz body frame: metres; +x anterior, +y superior, +z subject's right; origin the mid-point of the two "
         "ASIS; axes of the BodyParts3D 4.0 standing pose (pack frame rotated: x = -y_bp, y = z_bp, z = -x_bp)")


def default_pack_dir() -> Path | None:
    """../shared/anatomy-meshes/bodyparts3d beside the checkout, if it is there."""
    root = Path(__file__).resolve().parents[4]
    for cand in (root.parent / "shared" / "anatomy-meshes" / "bodyparts3d", root / ".." / "shared" / "anatomy-meshes" / "bodyparts3d"):
        if (cand / "sources.json").is_file():
            return cand.resolve()
    return None


class Pack:
    """The pack's meshes by FMA id, checked against sources.json and moved into the atlas frame."""

    def __init__(self, root: Path):
        self.root = Path(root)
        raw = json.loads((self.root / "sources.json").read_text("utf-8"))
        self.sources = raw
        self.files = {int(f["fma"]): f for f in raw["files"]}
        self._origin: np.ndarray | None = None

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256((self.root / "sources.json").read_bytes()).hexdigest()

    def raw(self, fma: int) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and faces in the pack's frame, after checking the file's SHA-256."""
        entry = self.files[fma]
        path = self.root / entry["file"]
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise RuntimeError(f"{path}: SHA-256 differs from sources.json")
        m = trimesh.load(path, file_type="ply", process=False)
        return np.asarray(m.vertices, np.float64), np.asarray(m.faces, np.int64)

    @property
    def origin(self) -> np.ndarray:
        """Mid-point of the two ASIS, in pack coordinates."""
        if self._origin is None:
            pts = []
            for fma in (16586, 16587):
                v, _ = self.raw(fma)
                up = v[v[:, 2] > np.percentile(v[:, 2], 70)]
                pts.append(up[np.argmin(up[:, 1])])  # most anterior point of the upper ilium
            self._origin = (pts[0] + pts[1]) / 2
        return self._origin

    def to_atlas(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, float) - self.origin) @ ROTATION.T

    def mesh(self, fma: int, drop_flat: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """One structure in the atlas frame, with its tiny flat fragments (no volume) removed."""
        v, f = self.raw(fma)
        v = self.to_atlas(v)  # a rotation: orientation and outward normals are kept
        if drop_flat:
            v, f = drop_flat_fragments(v, f)
        return v, f

    def meshes(self, fmas) -> tuple[np.ndarray, np.ndarray]:
        parts = [self.mesh(k) for k in fmas]
        return merge(parts)


def merge(parts):
    vs, fs, off = [], [], 0
    for v, f in parts:
        vs.append(np.asarray(v, float))
        fs.append(np.asarray(f, np.int64) + off)
        off += len(v)
    return np.vstack(vs), np.vstack(fs)


def drop_flat_fragments(v: np.ndarray, f: np.ndarray, min_volume: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Remove closed pieces that enclose (almost) no volume, such as two triangles back to back."""
    m = trimesh.Trimesh(v, f, process=False)
    labels = trimesh.graph.connected_component_labels(m.face_adjacency, node_count=len(f))
    if labels.max() == 0:
        return v, f
    keep = np.zeros(len(f), bool)
    for c in range(labels.max() + 1):
        sel = labels == c
        part = trimesh.Trimesh(v, f[sel], process=False)
        if abs(part.volume) > min_volume:
            keep |= sel
    used, inv = np.unique(f[keep], return_inverse=True)
    return v[used], inv.reshape(-1, 3)
