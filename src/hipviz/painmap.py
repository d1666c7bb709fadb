"""The pain map: what the patient painted and answered, as a validated document.

Two layers live in one JSON document (DESIGN.md section 4):

* the region level, which `hipviz ddx FILE` reads: ``regions`` [{region, side, intensity 0-10}],
  ``qualities``, ``aggravators``, ``relievers``, ``red_flags``, ``findings``,
  ``negative_findings``, ``age`` and ``sex``;
* an optional per-vertex layer, ``vertex_paint``, for paint on the 3D skin: sparse arrays of the
  painted skin vertices with their intensity and quality, tied to the skin mesh by its SHA-256.

`SkinLabels` says which body region and side each skin vertex belongs to (the atlas builds it from
the labelled skin mesh). `VertexPaint` is the dense per-vertex paint; `VertexPaint.to_regions`
turns it into region entries with numpy only (np.bincount), so painting never waits on Python
loops. `PainMap.from_json` validates everything strictly and either returns a complete object
or raises `PainMapError` naming the field path and what is allowed: nothing is half-loaded.

Domain code: imports no UI or rendering module.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from hipviz.vocabulary import SIDES, vocabulary

__all__ = [
    "FORMAT",
    "VERSION",
    "MAX_DOCUMENT_BYTES",
    "REGION_IDS",
    "QUALITY_IDS",
    "SIDE_NAMES",
    "SIDE_CODES",
    "MIN_REGION_AREA_CM2",
    "MIN_REGION_FRACTION",
    "PainMapError",
    "SkinLabels",
    "VertexPaint",
    "RegionEntry",
    "SparsePaint",
    "PainMap",
    "merge_regions",
    "migrate_vertex_paint",
]

FORMAT = "hipviz-painmap"
VERSION = 1
#: Documents larger than this are refused before parsing (a 50k-vertex paint is about 1 MB).
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
#: Upper bound on `vertex_paint.vertex_count`: far above any skin mesh hipviz ships.
MAX_VERTEX_COUNT = 5_000_000

_V = vocabulary()
REGION_IDS: tuple[str, ...] = tuple(_V.regions)
QUALITY_IDS: tuple[str, ...] = tuple(_V.qualities)
#: Side codes used in per-vertex arrays: 0 midline, 1 left, 2 right.
SIDE_NAMES: tuple[str, str, str] = ("midline", "left", "right")
SIDE_CODES: dict[str, int] = {s: i for i, s in enumerate(SIDE_NAMES)}
_SIDED = np.array([r in _V.sided_regions for r in REGION_IDS], dtype=bool)
_N_KEYS = 3 * len(REGION_IDS)  # region index * 3 + side code

#: A region counts as painted when the painted area there reaches 1 cm² ...
MIN_REGION_AREA_CM2 = 1.0
#: ... or 5 % of the region's area (small regions such as the big toe).
MIN_REGION_FRACTION = 0.05

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PainMapError(ValueError):
    """A pain map document was rejected. The message names the field path and what is allowed."""


def _one_of(values: Iterable[str]) -> str:
    return ", ".join(values)


# --------------------------------------------------------------------------------------------
# Per-vertex labels and paint
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SkinLabels:
    """Which body region and side each skin vertex belongs to, and the area it stands for.

    ``region``: int16 per vertex, an index into `REGION_IDS` (-1 = no region, e.g. the scalp);
    ``side``: int8 per vertex (0 midline, 1 left, 2 right), which must agree with the region
    (sided regions are left or right, midline regions are midline);
    ``vertex_area_cm2``: float64 per vertex, a third of the area of the adjacent triangles;
    ``checksum``: the SHA-256 (64 lowercase hex digits) of the skin mesh these labels belong to.
    The arrays are stored read-only. Compared by identity (arrays have no single truth value).
    """

    checksum: str
    region: np.ndarray
    side: np.ndarray
    vertex_area_cm2: np.ndarray

    def __post_init__(self):
        if not isinstance(self.checksum, str) or not _SHA256.match(self.checksum):
            raise ValueError("SkinLabels.checksum must be a SHA-256 hex digest (64 lowercase hex digits)")
        region = np.ascontiguousarray(self.region, dtype=np.int16)
        side = np.ascontiguousarray(self.side, dtype=np.int8)
        area = np.ascontiguousarray(self.vertex_area_cm2, dtype=np.float64)
        n = region.shape[0] if region.ndim == 1 else -1
        if region.ndim != 1 or side.shape != (n,) or area.shape != (n,) or n == 0:
            raise ValueError("SkinLabels: region, side and vertex_area_cm2 must be 1-D arrays of the same, non-zero length")
        if region.min() < -1 or region.max() >= len(REGION_IDS):
            raise ValueError(f"SkinLabels.region: values must be -1 or an index below {len(REGION_IDS)}")
        if side.min() < 0 or side.max() > 2:
            raise ValueError("SkinLabels.side: values must be 0 (midline), 1 (left) or 2 (right)")
        if not np.all(np.isfinite(area)) or area.min() < 0:
            raise ValueError("SkinLabels.vertex_area_cm2: values must be finite and >= 0")
        labelled = region >= 0
        sided = np.zeros(n, dtype=bool)
        sided[labelled] = _SIDED[region[labelled]]
        bad = np.flatnonzero(labelled & (sided != (side > 0)))
        if bad.size:
            v = int(bad[0])
            raise ValueError(
                f"SkinLabels: vertex {v} is in region {REGION_IDS[region[v]]} with side {SIDE_NAMES[side[v]]}; "
                "sided regions take left/right, midline regions take midline"
            )
        key = np.where(labelled, region.astype(np.int32) * 3 + side, -1).astype(np.int32)
        key_area = np.bincount(key[labelled], weights=area[labelled], minlength=_N_KEYS)
        for name, arr in (("region", region), ("side", side), ("vertex_area_cm2", area), ("_key", key), ("_key_area", key_area)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def vertex_count(self) -> int:
        return int(self.region.shape[0])

    def region_area_cm2(self) -> dict[tuple[str, str], float]:
        """Total skin area of each (region, side) present in the labels."""
        nz = np.flatnonzero(self._key_area)
        return {(REGION_IDS[k // 3], SIDE_NAMES[k % 3]): float(self._key_area[k]) for k in nz}


class VertexPaint:
    """Dense per-vertex paint on one skin mesh.

    ``intensity``: float32 per vertex, 0 = unpainted, otherwise 0 < x <= 10;
    ``quality``: int8 per vertex, an index into `QUALITY_IDS` or -1 for none;
    ``checksum``: the `SkinLabels.checksum` of the skin it was painted on.
    """

    __slots__ = ("checksum", "intensity", "quality")

    def __init__(self, checksum: str, intensity, quality=None):
        if not isinstance(checksum, str) or not _SHA256.match(checksum):
            raise PainMapError("vertex_paint.skin_sha256: must be a SHA-256 hex digest (64 lowercase hex digits)")
        intensity = np.array(intensity, dtype=np.float32)
        if intensity.ndim != 1 or intensity.size == 0:
            raise PainMapError("vertex_paint.intensity: must be a non-empty 1-D array")
        if not np.all(np.isfinite(intensity)) or intensity.min() < 0 or intensity.max() > 10:
            raise PainMapError("vertex_paint.intensity: values must be finite numbers from 0 to 10")
        if quality is None:
            quality = np.full(intensity.shape, -1, dtype=np.int8)
        else:
            quality = np.array(quality, dtype=np.int8)
            if quality.shape != intensity.shape:
                raise PainMapError("vertex_paint.quality: must have one entry per vertex, like intensity")
            if quality.min() < -1 or quality.max() >= len(QUALITY_IDS):
                raise PainMapError(f"vertex_paint.quality: values must be -1 or an index below {len(QUALITY_IDS)}")
        self.checksum = checksum
        self.intensity = intensity
        self.quality = quality

    @classmethod
    def empty(cls, labels: SkinLabels) -> VertexPaint:
        return cls(labels.checksum, np.zeros(labels.vertex_count, dtype=np.float32))

    @property
    def vertex_count(self) -> int:
        return int(self.intensity.shape[0])

    def painted_vertices(self) -> np.ndarray:
        return np.flatnonzero(self.intensity > 0)

    def __eq__(self, other):
        if not isinstance(other, VertexPaint):
            return NotImplemented
        return (
            self.checksum == other.checksum
            and np.array_equal(self.intensity, other.intensity)
            and np.array_equal(self.quality, other.quality)
        )

    __hash__ = None

    def __repr__(self):
        return f"VertexPaint({self.vertex_count} vertices, {self.painted_vertices().size} painted)"

    # -- against a labelled skin ------------------------------------------------------------

    def check(self, labels: SkinLabels) -> None:
        """Raise PainMapError unless this paint belongs to the skin the labels describe."""
        if self.checksum != labels.checksum:
            raise PainMapError(
                f"vertex_paint.skin_sha256: {self.checksum[:12]}… does not match the loaded skin mesh "
                f"({labels.checksum[:12]}…); the paint was made on a different skin"
            )
        if self.vertex_count != labels.vertex_count:
            raise PainMapError(
                f"vertex_paint.vertex_count: {self.vertex_count} does not match the skin mesh ({labels.vertex_count} vertices)"
            )

    def _area_and_weighted(self, labels: SkinLabels) -> tuple[np.ndarray, np.ndarray]:
        self.check(labels)
        sel = (self.intensity > 0) & (labels._key >= 0)
        key = labels._key[sel]
        area = labels.vertex_area_cm2[sel]
        painted = np.bincount(key, weights=area, minlength=_N_KEYS)
        weighted = np.bincount(key, weights=area * self.intensity[sel], minlength=_N_KEYS)
        return painted, weighted

    def painted_area_cm2(self, labels: SkinLabels) -> dict[tuple[str, str], float]:
        """Painted skin area per (region, side), in cm²; only (region, side) pairs with paint."""
        painted, _ = self._area_and_weighted(labels)
        nz = np.flatnonzero(painted)
        return {(REGION_IDS[k // 3], SIDE_NAMES[k % 3]): float(painted[k]) for k in nz}

    def total_painted_area_cm2(self, labels: SkinLabels) -> float:
        """All painted skin area, in cm² (vertices outside any region included)."""
        self.check(labels)
        return float(labels.vertex_area_cm2[self.intensity > 0].sum())

    def to_regions(self, labels: SkinLabels) -> list[RegionEntry]:
        """Region entries for the painted regions, in vocabulary order (left before right).

        A (region, side) counts when its painted area reaches `MIN_REGION_AREA_CM2` or
        `MIN_REGION_FRACTION` of that region's area. Its intensity is the area-weighted mean
        intensity of its painted vertices, rounded to one decimal (at least 0.1).
        """
        painted, weighted = self._area_and_weighted(labels)
        counts = (painted > 0) & ((painted >= MIN_REGION_AREA_CM2) | (painted >= MIN_REGION_FRACTION * labels._key_area))
        keys = np.flatnonzero(counts)
        if keys.size == 0:
            return []
        mean = np.clip(np.round(weighted[keys] / painted[keys], 1), 0.1, 10.0)
        return [
            RegionEntry.model_construct(region=REGION_IDS[k // 3], side=SIDE_NAMES[k % 3], intensity=float(x))
            for k, x in zip(keys.tolist(), mean.tolist(), strict=True)
        ]

    def qualities_present(self) -> list[str]:
        """Quality ids painted on at least one painted vertex, in vocabulary order."""
        q = self.quality[(self.intensity > 0) & (self.quality >= 0)]
        if q.size == 0:
            return []
        return [QUALITY_IDS[i] for i in np.flatnonzero(np.bincount(q, minlength=len(QUALITY_IDS)))]

    def mirrored(self, vertex_mirror) -> VertexPaint:
        """Paint moved to the mirror-image vertices; ``vertex_mirror[i]`` is the mirror of vertex i."""
        m = np.asarray(vertex_mirror)
        n = self.vertex_count
        if m.shape != (n,) or m.dtype.kind not in "iu" or not np.array_equal(np.sort(m), np.arange(n)):
            raise PainMapError("mirrored: vertex_mirror must be a permutation of the skin's vertex indices")
        intensity = np.empty_like(self.intensity)
        quality = np.empty_like(self.quality)
        intensity[m] = self.intensity
        quality[m] = self.quality
        return VertexPaint(self.checksum, intensity, quality)

    # -- sparse JSON form ---------------------------------------------------------------------

    def to_sparse(self) -> dict[str, Any]:
        """The `vertex_paint` JSON object: only painted vertices, ascending; intensity to 3 decimals."""
        idx = self.painted_vertices()
        q = self.quality[idx]
        names = np.array((None, *QUALITY_IDS), dtype=object)[q.astype(np.int16) + 1]
        return {
            "skin_sha256": self.checksum,
            "vertex_count": self.vertex_count,
            "vertices": idx.tolist(),
            "intensity": np.round(self.intensity[idx].astype(np.float64), 3).tolist(),
            "quality": names.tolist(),
        }

    @classmethod
    def from_sparse(cls, data: SparsePaint | Mapping[str, Any], labels: SkinLabels | None = None) -> VertexPaint:
        """Dense paint from the sparse JSON object (validated); checked against `labels` if given."""
        if not isinstance(data, SparsePaint):
            data = _validate(SparsePaint, data, prefix=("vertex_paint",))
        n = data.vertex_count
        idx = np.asarray(data.vertices, dtype=np.int64)
        intensity = np.zeros(n, dtype=np.float32)
        intensity[idx] = np.asarray(data.intensity, dtype=np.float32)
        quality = np.full(n, -1, dtype=np.int8)
        if data.quality:
            lookup = {q: i for i, q in enumerate(QUALITY_IDS)}
            lookup[None] = -1
            quality[idx] = np.fromiter((lookup[q] for q in data.quality), dtype=np.int8, count=len(data.quality))
        paint = cls(data.skin_sha256, intensity, quality)
        if labels is not None:
            paint.check(labels)
        return paint


# --------------------------------------------------------------------------------------------
# The document (pydantic, strict)
# --------------------------------------------------------------------------------------------


def _id_check(allowed: Iterable[str], what: str):
    allowed = tuple(allowed)
    allowed_set = frozenset(allowed)

    def check(v: str) -> str:
        if v not in allowed_set:
            raise ValueError(f"{v!r} is not a known {what}; allowed: {_one_of(allowed)}")
        return v

    return AfterValidator(check)


def _unique(kind: str):
    def check(values: list) -> list:
        seen: dict = {}
        for i, v in enumerate(values):
            if v in seen:
                raise PydanticCustomError(
                    "painmap_field", "{msg}", {"sub": f"[{i}]", "msg": f"{v!r} is listed twice (also at [{seen[v]}]); list each {kind} once"}
                )
            seen[v] = i
        return values

    return AfterValidator(check)


RegionId = Annotated[str, _id_check(REGION_IDS, "region")]
QualityId = Annotated[str, _id_check(QUALITY_IDS, "quality")]
AggravatorId = Annotated[str, _id_check(_V.aggravators, "aggravator")]
RelieverId = Annotated[str, _id_check(_V.relievers, "reliever")]
RedFlagId = Annotated[str, _id_check(_V.red_flags, "red flag")]
FindingId = Annotated[str, _id_check(_V.findings, "finding")]


def _side_check(v: str) -> str:
    if v not in SIDES:
        raise ValueError(f"{v!r} is not one of {_one_of(SIDES)}")
    return v


def _sex_check(v: str) -> str:
    if v not in _V.sexes:
        raise ValueError(f"{v!r} is not one of {_one_of(_V.sexes)}")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class RegionEntry(_Strict):
    """One painted body region: region id, side (left/right for sided regions, else midline), 0-10."""

    region: RegionId
    side: Annotated[str, AfterValidator(_side_check)]
    intensity: float = Field(ge=0, le=10)

    @model_validator(mode="after")
    def _side_fits_region(self):
        allowed = _V.region_sides(self.region)
        if self.side not in allowed:
            kind = "a sided region" if self.region in _V.sided_regions else "a midline region"
            raise PydanticCustomError(
                "painmap_field",
                "{msg}",
                {"sub": ".side", "msg": f"{self.side!r} is not allowed for {self.region} ({kind}); allowed: {_one_of(allowed)}"},
            )
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.region, self.side)


class SparsePaint(_Strict):
    """The `vertex_paint` object: painted vertices only, with parallel intensity and quality lists."""

    skin_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    vertex_count: int = Field(ge=1, le=MAX_VERTEX_COUNT)
    vertices: list[int]
    intensity: list[float]
    quality: list[str | None]

    @model_validator(mode="after")
    def _consistent(self):
        n = len(self.vertices)
        for name in ("intensity", "quality"):
            m = len(getattr(self, name))
            if m != n:
                raise PydanticCustomError(
                    "painmap_field", "{msg}", {"sub": f".{name}", "msg": f"has {m} entries but vertices has {n}; they must match one to one"}
                )
        if n == 0:
            return self
        idx = np.asarray(self.vertices, dtype=np.int64)
        bad = np.flatnonzero((idx < 0) | (idx >= self.vertex_count))
        if bad.size:
            i = int(bad[0])
            raise PydanticCustomError(
                "painmap_field", "{msg}",
                {"sub": f".vertices[{i}]", "msg": f"{int(idx[i])} is out of range; allowed: 0 to {self.vertex_count - 1}"},
            )
        order = np.argsort(idx, kind="stable")
        dup = np.flatnonzero(idx[order][1:] == idx[order][:-1])
        if dup.size:
            i = int(order[dup[0] + 1])
            raise PydanticCustomError(
                "painmap_field", "{msg}", {"sub": f".vertices[{i}]", "msg": f"vertex {int(idx[i])} is listed twice; list each vertex once"}
            )
        x = np.asarray(self.intensity, dtype=np.float64)
        bad = np.flatnonzero((x < 0) | (x > 10))
        if bad.size:
            i = int(bad[0])
            raise PydanticCustomError(
                "painmap_field", "{msg}", {"sub": f".intensity[{i}]", "msg": f"{self.intensity[i]!r} is out of range; allowed: 0 to 10"}
            )
        unknown = set(self.quality) - _QUALITY_OR_NONE
        if unknown:
            i = next(i for i, q in enumerate(self.quality) if q in unknown)
            raise PydanticCustomError(
                "painmap_field", "{msg}",
                {"sub": f".quality[{i}]", "msg": f"{self.quality[i]!r} is not a known quality; allowed: null, {_one_of(QUALITY_IDS)}"},
            )
        return self


_QUALITY_OR_NONE = frozenset((None, *QUALITY_IDS))


class PainMap(_Strict):
    """The pain map document (format "hipviz-painmap", version 1). Build it with `from_json` or
    `from_dict`, which validate strictly and raise `PainMapError`.

    ``regions`` are the painted regions; when the document carries ``vertex_paint`` and the
    skin labels are given to `from_json`, the regions derived from the paint are merged in
    (`merge_regions`: the higher intensity wins), so ``regions`` is always what the ranking uses.
    """

    format: Literal["hipviz-painmap"] = FORMAT
    version: int = VERSION
    regions: Annotated[list[RegionEntry], AfterValidator(lambda v: _unique_regions(v))] = []
    qualities: Annotated[list[QualityId], _unique("quality")] = []
    aggravators: Annotated[list[AggravatorId], _unique("aggravator")] = []
    relievers: Annotated[list[RelieverId], _unique("reliever")] = []
    red_flags: Annotated[list[RedFlagId], _unique("red flag")] = []
    findings: Annotated[list[FindingId], _unique("finding")] = []
    negative_findings: Annotated[list[FindingId], _unique("finding")] = []
    age: int | None = Field(default=None, ge=0, le=120)
    sex: Annotated[str, AfterValidator(_sex_check)] | None = None
    vertex_paint: SparsePaint | None = None

    @model_validator(mode="after")
    def _findings_consistent(self):
        if self.version != VERSION:
            raise PydanticCustomError("painmap_field", "{msg}", {"sub": "version", "msg": f"{self.version} is not supported; allowed: {VERSION}"})
        both = set(self.findings) & set(self.negative_findings)
        if both:
            f = next(x for x in self.negative_findings if x in both)
            i = self.negative_findings.index(f)
            raise PydanticCustomError(
                "painmap_field", "{msg}",
                {"sub": f"negative_findings[{i}]", "msg": f"{f!r} is also listed in findings; a finding is either present or absent"},
            )
        return self

    # -- reading --------------------------------------------------------------------------

    @classmethod
    def from_json(cls, text_or_bytes: str | bytes | bytearray, labels: SkinLabels | None = None) -> PainMap:
        """Parse and validate a document; with `labels`, check and merge its vertex paint."""
        if isinstance(text_or_bytes, (bytes, bytearray)):
            size = len(text_or_bytes)
        elif isinstance(text_or_bytes, str):
            size = len(text_or_bytes) if text_or_bytes.isascii() else len(text_or_bytes.encode("utf-8", "surrogatepass"))
        else:
            raise PainMapError(f"document: expected JSON text (str or bytes), got {type(text_or_bytes).__name__}")
        if size > MAX_DOCUMENT_BYTES:
            raise PainMapError(f"document: {size} bytes is over the size limit ({MAX_DOCUMENT_BYTES} bytes)")
        if isinstance(text_or_bytes, (bytes, bytearray)):
            try:
                text_or_bytes = bytes(text_or_bytes).decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise PainMapError(f"document: not UTF-8 text ({e.reason} at byte {e.start})") from None
        try:
            data = json.loads(text_or_bytes, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as e:
            raise PainMapError(f"document: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
        except _DuplicateKey as e:
            raise PainMapError(f"document: key {e.args[0]!r} appears twice in one object") from None
        except RecursionError:
            raise PainMapError("document: JSON nested too deeply") from None
        return cls.from_dict(data, labels)

    @classmethod
    def from_file(cls, path: str | os.PathLike, labels: SkinLabels | None = None) -> PainMap:
        """Read a document from a file; the size limit is checked before reading."""
        try:
            size = os.stat(path).st_size
            if size > MAX_DOCUMENT_BYTES:
                raise PainMapError(f"document: {size} bytes is over the size limit ({MAX_DOCUMENT_BYTES} bytes)")
            with open(path, "rb") as f:
                raw = f.read(MAX_DOCUMENT_BYTES + 1)
        except PainMapError:
            raise
        except IsADirectoryError:
            raise PainMapError(f"{os.fspath(path)}: is a directory, not a pain map file") from None
        except OSError as e:
            raise PainMapError(f"{os.fspath(path)}: cannot read ({e.strerror or e})") from None
        return cls.from_json(raw, labels)

    @classmethod
    def from_dict(cls, data: Any, labels: SkinLabels | None = None) -> PainMap:
        """Validate an already-parsed document (dict); with `labels`, check and merge its paint."""
        if not isinstance(data, dict):
            raise PainMapError(f"document: must be a JSON object, not {_json_type(data)}")
        if "format" not in data:
            raise PainMapError(f"format: is required; allowed: {FORMAT!r}")
        if data["format"] != FORMAT:
            raise PainMapError(f"format: {data['format']!r} is not a pain map; allowed: {FORMAT!r}")
        if "version" not in data:
            raise PainMapError(f"version: is required; allowed: {VERSION}")
        version = data["version"]
        if type(version) is not int:
            raise PainMapError(f"version: {version!r} is not a whole number; allowed: {VERSION}")
        if version > VERSION:
            raise PainMapError(f"version: version {version} is newer than this hipviz supports ({VERSION})")
        pm = _validate(cls, data)
        if pm.vertex_paint is not None and labels is not None:
            paint = VertexPaint.from_sparse(pm.vertex_paint, labels)
            pm = pm._merged(paint.to_regions(labels), paint.qualities_present())
        return pm

    # -- writing --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "regions": [{"region": r.region, "side": r.side, "intensity": _num(r.intensity)} for r in self.regions],
        }
        for name in ("qualities", "aggravators", "relievers", "red_flags", "findings", "negative_findings"):
            out[name] = list(getattr(self, name))
        if self.age is not None:
            out["age"] = self.age
        if self.sex is not None:
            out["sex"] = self.sex
        if self.vertex_paint is not None:
            out["vertex_paint"] = self.vertex_paint.model_dump()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    # -- transformations --------------------------------------------------------------------

    def paint(self, labels: SkinLabels) -> VertexPaint | None:
        """The dense vertex paint on the given skin (None when the document has none)."""
        if self.vertex_paint is None:
            return None
        return VertexPaint.from_sparse(self.vertex_paint, labels)

    def with_vertex_paint(self, paint: VertexPaint | None, labels: SkinLabels) -> PainMap:
        """A copy carrying `paint` (sparse) with the regions and qualities derived from it merged in.

        Merging takes the higher intensity per (region, side), so it is idempotent: saving and
        reloading a painted map gives the same regions.
        """
        if paint is None:
            return self.model_copy(update={"vertex_paint": None})
        paint.check(labels)
        sparse = SparsePaint.model_validate(paint.to_sparse())
        pm = self._merged(paint.to_regions(labels), paint.qualities_present())
        return pm.model_copy(update={"vertex_paint": sparse})

    def with_paint_regions(self, paint: VertexPaint, labels: SkinLabels) -> PainMap:
        """A copy with the regions and qualities derived from `paint` merged in, without storing
        the per-vertex data (what the ranking needs while painting)."""
        return self.merged(paint.to_regions(labels), paint.qualities_present())

    def merged(self, regions: Iterable[RegionEntry], qualities: Iterable[str] = ()) -> PainMap:
        """A copy with `regions` merged in (`merge_regions`: higher intensity wins) and
        `qualities` added (validated ids; duplicates skipped)."""
        regions = list(regions)
        for r in regions:
            if not isinstance(r, RegionEntry):
                raise PainMapError(f"regions: expected RegionEntry objects, got {type(r).__name__}")
        merged_q = list(self.qualities)
        for q in qualities:
            if q not in _QUALITY_OR_NONE or q is None:
                raise PainMapError(f"qualities: {q!r} is not a known quality; allowed: {_one_of(QUALITY_IDS)}")
            if q not in merged_q:
                merged_q.append(q)
        return self.model_copy(update={"regions": merge_regions(self.regions, regions), "qualities": merged_q})

    _merged = merged  # earlier private name, kept for callers

    def mirrored(self, vertex_mirror=None) -> PainMap:
        """The same map with left and right swapped (midline unchanged).

        Vertex paint can only be mirrored with the skin's mirror map (``vertex_mirror[i]`` is the
        vertex mirroring vertex i); without one, a map carrying vertex paint is refused.
        """
        swap = {"left": "right", "right": "left", "midline": "midline"}
        regions = [RegionEntry.model_construct(region=r.region, side=swap[r.side], intensity=r.intensity) for r in self.regions]
        update: dict[str, Any] = {"regions": regions}
        if self.vertex_paint is not None:
            if vertex_mirror is None:
                raise PainMapError("mirrored: this map has vertex_paint; pass the skin's vertex_mirror map to mirror it")
            paint = VertexPaint.from_sparse(self.vertex_paint).mirrored(vertex_mirror)
            update["vertex_paint"] = SparsePaint.model_validate(paint.to_sparse())
        return self.model_copy(update=update)

    # -- conveniences -----------------------------------------------------------------------

    @property
    def painted(self) -> list[RegionEntry]:
        """Region entries with intensity above 0 (an entry with 0 means "marked, no pain")."""
        return [r for r in self.regions if r.intensity > 0]

    @property
    def has_pain(self) -> bool:
        return any(r.intensity > 0 for r in self.regions)


def merge_regions(a: Iterable[RegionEntry], b: Iterable[RegionEntry]) -> list[RegionEntry]:
    """Region entries of `a` and `b` with one entry per (region, side): the higher intensity wins.

    Order: `a`'s entries first, then new ones from `b`. Idempotent: merge(merge(a, b), b) == merge(a, b).
    """
    out: dict[tuple[str, str], RegionEntry] = {}
    for r in (*a, *b):
        old = out.get(r.key)
        if old is None or r.intensity > old.intensity:
            out[r.key] = r
    return list(out.values())


def _unique_regions(regions: list[RegionEntry]) -> list[RegionEntry]:
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(regions):
        if r.key in seen:
            raise PydanticCustomError(
                "painmap_field", "{msg}",
                {"sub": f"[{i}]", "msg": f"{r.region} ({r.side}) is listed twice (also at regions[{seen[r.key]}]); list each region and side once"},
            )
        seen[r.key] = i
    return regions


# --------------------------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


_FIELD_HINTS = {
    "intensity": "a number from 0 to 10",
    "age": "a whole number from 0 to 120",
    "sex": f"one of {_one_of(_V.sexes)}",
    "side": f"one of {_one_of(SIDES)}",
    "region": "a region id",
    "version": str(VERSION),
    "vertex_count": f"a whole number from 1 to {MAX_VERTEX_COUNT}",
    "vertices": "a list of vertex indices",
    "skin_sha256": "64 lowercase hex digits",
    "quality": "a list of quality ids or null",
}
_LIST_FIELDS = ("regions", "qualities", "aggravators", "relievers", "red_flags", "findings", "negative_findings")
_ALLOWED_FIELDS = {
    "PainMap": "format, version, regions, qualities, aggravators, relievers, red_flags, findings, negative_findings, age, sex, vertex_paint",
    "RegionEntry": "region, side, intensity",
    "SparsePaint": "skin_sha256, vertex_count, vertices, intensity, quality",
}


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(err: dict[str, Any], loc: tuple) -> str:
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    names = [p for p in loc if isinstance(p, str)]
    field = names[-1] if names else ""
    hint = _FIELD_HINTS.get(field, "")
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "missing":
        return "is required" + (f"; allowed: {hint}" if hint else "")
    if kind == "extra_forbidden":
        owner = "RegionEntry" if len(loc) >= 3 and loc[0] == "regions" else "SparsePaint" if loc and loc[0] == "vertex_paint" else "PainMap"
        return f"unknown field; allowed fields: {_ALLOWED_FIELDS[owner]}"
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        return f"{value!r} is out of range; allowed: {hint or err['msg']}"
    if kind == "finite_number":
        return f"{value!r} is not a finite number; allowed: {hint or 'a finite number'}"
    if kind in ("float_type", "float_parsing"):
        return f"{value!r} is not a number; allowed: {hint or 'a number'}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"{value!r} is not a whole number; allowed: {hint or 'a whole number'}"
    if kind == "string_type":
        return f"{value!r} is not a string; allowed: {hint or 'a string'}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not valid; allowed: {hint or err['msg']}"
    if kind == "list_type":
        return f"must be a list, not {_json_type(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be an object, not {_json_type(value)}"
    if kind == "literal_error":
        return f"{value!r} is not allowed; {err['msg'].replace('Input should be', 'allowed:')}"
    return f"{err['msg']} (got {value!r})"


def _format_error(err: dict[str, Any], prefix: tuple = ()) -> str:
    loc = tuple(prefix) + tuple(err["loc"])
    if err["type"] == "painmap_field":
        ctx = err["ctx"]
        sub = ctx["sub"]
        base = _path(loc)
        if sub and not sub.startswith(("[", ".")):
            path = f"{base}.{sub}" if base else sub
        else:
            path = base + sub
        return f"{path}: {ctx['msg']}"
    # For a list of ids the item path reads better than "qualities[1]" alone: keep it.
    return f"{_path(loc) or 'document'}: {_describe(err, loc)}"


def _validate(model: type[BaseModel], data: Any, prefix: tuple = ()):
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        msg = _format_error(errors[0], prefix)
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise PainMapError(msg) from None


def migrate_vertex_paint(pm: PainMap, vertex_map, from_vertex_count: int, labels: SkinLabels) -> PainMap:
    """A map painted on an earlier skin, carried onto the skin `labels` describes.

    ``vertex_map[i]`` is the old skin's vertex whose paint vertex i of the new skin takes (-1 for
    none; see `Atlas.skin_migration`). The document's regions stay as they were: paint carried
    across a region border by the transfer is dropped, so the map still says where it hurts in the
    same regions and sides.
    """
    if pm.vertex_paint is None:
        return pm
    old = VertexPaint.from_sparse(pm.vertex_paint)
    if old.vertex_count != from_vertex_count:
        raise PainMapError(
            f"vertex_paint.vertex_count: {old.vertex_count} does not match the earlier skin ({from_vertex_count} vertices)")
    vmap = np.asarray(vertex_map, np.int64)
    if vmap.shape != (labels.vertex_count,):
        raise PainMapError("vertex map: must have one entry per vertex of the new skin")
    ok = vmap >= 0
    intensity = np.zeros(labels.vertex_count, np.float32)
    quality = np.full(labels.vertex_count, -1, np.int8)
    intensity[ok] = old.intensity[vmap[ok]]
    quality[ok] = old.quality[vmap[ok]]
    if pm.regions:
        keep = np.zeros(_N_KEYS, bool)
        for r in pm.regions:
            keep[REGION_IDS.index(r.region) * 3 + SIDE_CODES[r.side]] = True
        key = labels._key
        outside = (key < 0) | ~keep[np.clip(key, 0, _N_KEYS - 1)]
        intensity[outside] = 0
        quality[outside] = -1
    paint = VertexPaint(labels.checksum, intensity, quality)
    if not np.any(intensity > 0):
        return pm.model_copy(update={"vertex_paint": None})
    return pm.model_copy(update={"vertex_paint": SparsePaint.model_validate(paint.to_sparse())})

