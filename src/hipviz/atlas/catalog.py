"""The structure catalog (catalog.yaml): names, kinds, sides and anatomy facts per base id.

Pure data access; no mesh or rendering imports, so knowledge code can validate structure ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Structure:
    base_id: str
    name: str
    kind: str
    sided: bool
    colour: str
    layer: str
    default_visible: bool = True
    default_opacity: float = 1.0
    fma: int | None = None                      # FMA id of the structure (of the right one when sided)
    fma_sides: tuple[int, int] | None = None    # (right, left) FMA ids of a sided structure, where known
    innervation: str | None = None
    segments: tuple[str, ...] = ()
    origin: str | None = None
    insertion: str | None = None
    action: str | None = None
    what: str = ""

    def fma_of(self, side: str | None) -> int | None:
        """FMA id of this structure on a side ('left'/'right'), or of the structure itself."""
        if self.fma_sides and side in ("right", "left"):
            return self.fma_sides[0 if side == "right" else 1]
        return self.fma

    def ids(self) -> tuple[str, ...]:
        """Atlas ids of this structure: one per side, or the base id for a midline structure."""
        return (f"{self.base_id}_left", f"{self.base_id}_right") if self.sided else (self.base_id,)


@dataclass(frozen=True)
class Catalog:
    structures: dict[str, Structure] = field(default_factory=dict)

    def atlas_ids(self) -> list[str]:
        return [i for s in self.structures.values() for i in s.ids()]

    def resolve(self, base_id: str, side: str | None) -> str:
        """Atlas id of a base id on a side ('left', 'right'); midline structures ignore the side."""
        s = self.structures.get(base_id)
        if s is None:
            raise KeyError(f"unknown structure {base_id!r}; known: {', '.join(sorted(self.structures))}")
        if not s.sided:
            return base_id
        if side not in ("left", "right"):
            raise ValueError(f"structure {base_id!r} is sided: side must be 'left' or 'right', not {side!r}")
        return f"{base_id}_{side}"

    def split(self, atlas_id: str) -> tuple[Structure, str | None]:
        """Structure and side of an atlas id such as 'gluteus_medius_left'."""
        for side in ("left", "right"):
            suffix = f"_{side}"
            if atlas_id.endswith(suffix) and atlas_id[: -len(suffix)] in self.structures:
                s = self.structures[atlas_id[: -len(suffix)]]
                if s.sided:
                    return s, side
        s = self.structures.get(atlas_id)
        if s is None or s.sided:
            raise KeyError(f"unknown atlas structure id {atlas_id!r}")
        return s, None


def _fma(raw) -> tuple[int | None, tuple[int, int] | None]:
    """`fma: 123` (one id) or `fma: [right, left]` (per side)."""
    if isinstance(raw, list):
        return int(raw[0]), (int(raw[0]), int(raw[1]))
    return (int(raw) if raw is not None else None), None


#: The layers a structure belongs to (catalog.yaml defaults.layers), from the outside in: the
#: order the app lists them in.
LAYERS = ("skin", "muscles", "bones", "bursae", "nerves")


@cache
def catalog() -> Catalog:
    raw = yaml.safe_load(resources.files("hipviz.atlas").joinpath("catalog.yaml").read_text("utf-8"))
    colours, layers = raw["defaults"]["colours"], raw["defaults"]["layers"]
    out = {}
    for base_id, s in raw["structures"].items():
        kind = s["kind"]
        out[base_id] = Structure(
            base_id=base_id,
            name=s["name"],
            kind=kind,
            sided=bool(s["sided"]),
            colour=s.get("colour", colours[kind]),
            layer=layers[kind],
            default_visible=s.get("default_visible", True),
            default_opacity=float(s.get("default_opacity", 1.0)),
            fma=_fma(s.get("fma"))[0],
            fma_sides=_fma(s.get("fma"))[1],
            innervation=s.get("innervation"),
            segments=tuple(s.get("segments", ())),
            origin=s.get("origin"),
            insertion=s.get("insertion"),
            action=s.get("action"),
            what=s.get("what", ""),
        )
    return Catalog(out)
