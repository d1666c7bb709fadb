"""The atlas packed for the browser: one binary blob sent once, plus a small JSON index.

Per structure: points quantized to uint16 over the structure's bounding box (0.03 mm steps for a
2 m body) and triangles as uint16 (or uint32 when the mesh has more than 65,535 vertices). No
normals travel: the viewer computes them from the triangles (area-weighted, as `vertex_normals`
here). Triangle indices are coded against the highest index seen so far (code = highest + 1 -
index, as a wrapping integer): the atlas build numbers vertices in the order the triangles first
use them, so a new vertex codes as 0 and a recent one as a small number, which zlib compresses
well; the viewer undoes the coding. The whole blob is zlib-compressed and inflated in the browser
with the standard DecompressionStream.

Nothing here imports Panel; the payload is computed once per atlas and shared by every session.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

import numpy as np

from hipviz.app.overlay import overlay_style
from hipviz.atlas.catalog import catalog
from hipviz.normals import vertex_normals
from hipviz.render.views import body_presets, views

SKIN_ID = "skin"


@dataclass(frozen=True)
class ScenePayload:
    meta: dict          # JSON-able index: actors (ids, names, colours, part and offsets), views, bounds
    meta_json: str
    blob: bytes         # zlib-compressed geometry of the first part: the skin, all a first view shows
    raw_bytes: int      # geometry size before compression, both parts
    skin_points: int
    rest_blob: bytes = b""   # zlib-compressed geometry of everything else, sent when first shown

    def part(self, name: str) -> bytes:
        """The compressed geometry of one part ("first" or "rest")."""
        return self.blob if name == "first" else self.rest_blob


def _pad(buf: bytearray, align: int = 4) -> None:
    buf.extend(b"\0" * (-len(buf) % align))


def _triangles(pd) -> np.ndarray:
    faces = np.asarray(pd.faces)
    if faces.size and np.all(faces[0::4] == 3) and faces.size % 4 == 0:
        return faces.reshape(-1, 4)[:, 1:]
    tri = pd.triangulate()
    return np.asarray(tri.faces).reshape(-1, 4)[:, 1:]


def encode_indices(triangles: np.ndarray, wide: bool) -> np.ndarray:
    """High-water coding of the flattened triangle indices (see the module docstring)."""
    flat = np.asarray(triangles, np.int64).ravel()
    if flat.size == 0:
        return flat.astype("<u4" if wide else "<u2")
    high = np.maximum.accumulate(np.r_[-1, flat[:-1]])
    code = (high + 1 - flat) % (1 << (32 if wide else 16))
    return code.astype("<u4" if wide else "<u2")


def decode_indices(code: np.ndarray, wide: bool) -> np.ndarray:
    """Inverse of `encode_indices` (what the viewer does in JavaScript)."""
    mod = 1 << (32 if wide else 16)
    out = np.empty(len(code), np.int64)
    high = -1
    for i, c in enumerate(np.asarray(code, np.int64)):
        idx = (high + 1 - int(c)) % mod
        out[i] = idx
        high = max(high, idx)
    return out


def pack_mesh(points: np.ndarray, triangles: np.ndarray, buf: bytearray) -> dict:
    """Append one mesh to buf; returns its index entry (offsets, counts, dequantization)."""
    pts = np.asarray(points, np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    scale = np.where(hi > lo, (hi - lo) / 65535.0, 1.0)
    q = np.rint((pts - lo) / scale).clip(0, 65535).astype("<u2")
    entry = {"nverts": len(pts), "ntris": len(triangles),
             "origin": lo.tolist(), "scale": scale.tolist()}
    _pad(buf)
    entry["off_pts"] = len(buf)
    buf.extend(q.tobytes())
    _pad(buf)
    wide = len(pts) > 65535
    entry["idx_bytes"] = 4 if wide else 2
    entry["idx_coding"] = "high_water"
    entry["off_tri"] = len(buf)
    buf.extend(encode_indices(triangles, wide).tobytes())
    return entry


def build_payload(atlas) -> ScenePayload:
    cat = catalog()
    # two parts: the skin, which the first view shows alone, travels with the page; the inner
    # structures (four fifths of the bytes) only once one of them is shown
    bufs = {"first": bytearray(), "rest": bytearray()}
    actors = []
    lo_all, hi_all = np.full(3, np.inf), np.full(3, -np.inf)
    skin_points = 0
    for sid, info in atlas.manifest.items():
        pd = atlas.polydata(sid)
        pts = np.asarray(pd.points)
        tri = _triangles(pd)
        part = "first" if sid == SKIN_ID else "rest"
        entry = pack_mesh(pts, tri, bufs[part])
        entry["part"] = part
        try:
            structure, _side = cat.split(sid)
            what = structure.what
        except KeyError:
            what = ""
        entry.update({
            "id": sid, "name": info.name, "kind": info.kind, "layer": info.layer,
            "colour": info.colour, "opacity": float(info.opacity), "visible": bool(info.visible),
            "what": what,
        })
        actors.append(entry)
        lo_all, hi_all = np.minimum(lo_all, pts.min(0)), np.maximum(hi_all, pts.max(0))
        if sid == SKIN_ID:
            skin_points = len(pts)
    first, rest = bytes(bufs["first"]), bytes(bufs["rest"])
    meta = {
        "actors": actors,
        "skin_id": SKIN_ID,
        "views": {name: v.as_dict() for name, v in views().items()},
        "presets": body_presets(),
        "bounds": [lo_all.tolist(), hi_all.tolist()],
        "overlay": overlay_style(),
    }
    return ScenePayload(meta, json.dumps(meta, separators=(",", ":")), zlib.compress(first, 6), len(first) + len(rest),
                        skin_points, zlib.compress(rest, 6))


_CACHE: dict[int, tuple[object, ScenePayload]] = {}


def payload_for(atlas) -> ScenePayload:
    """The payload of an atlas object, built once per process."""
    hit = _CACHE.get(id(atlas))
    if hit is None or hit[0] is not atlas:
        hit = (atlas, build_payload(atlas))
        _CACHE[id(atlas)] = hit
    return hit[1]


def unpack_mesh(blob_raw: bytes, entry: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of pack_mesh (what the viewer does in JavaScript), for tests: points, triangles and
    the normals the viewer computes."""
    n, t = entry["nverts"], entry["ntris"]
    q = np.frombuffer(blob_raw, "<u2", n * 3, entry["off_pts"]).reshape(n, 3)
    pts = np.asarray(entry["origin"]) + q * np.asarray(entry["scale"])
    wide = entry["idx_bytes"] == 4
    code = np.frombuffer(blob_raw, "<u4" if wide else "<u2", t * 3, entry["off_tri"])
    tri = decode_indices(code, wide).reshape(t, 3)
    return pts, tri, vertex_normals(pts, tri)
