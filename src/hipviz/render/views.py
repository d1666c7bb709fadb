"""Camera presets (views.yaml) as plain data, for offscreen renders and the web viewer alike.

A close-up preset also says what it needs to show: its layers and per structure visibility or
opacity (e.g. a see-through iliotibial tract over the bursa), so the same data drives the
offscreen render and the app's buttons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
import yaml


@dataclass(frozen=True)
class View:
    name: str
    label: str
    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float]
    layers: tuple[str, ...] | None = None        # None: the view leaves the layers as they are
    actors: dict[str, dict] = field(default_factory=dict)   # structure id -> {visible, opacity}
    description: str = ""

    @property
    def close_up(self) -> bool:
        return self.layers is not None

    def as_dict(self) -> dict:
        out = {"name": self.name, "label": self.label, "position": list(self.position),
               "focal_point": list(self.focal_point), "view_up": list(self.view_up)}
        if self.close_up:
            out.update(layers=list(self.layers), actors={k: dict(v) for k, v in self.actors.items()}, description=self.description)
        return out


def _actors(raw: dict) -> dict[str, dict]:
    out: dict[str, dict] = {sid: {"visible": False} for sid in raw.get("hide", [])}
    for sid, opacity in (raw.get("opacity") or {}).items():
        out[sid] = {"visible": True, "opacity": float(opacity)}
    for sid in raw.get("show", []):
        out.setdefault(sid, {"visible": True})
    return out


@cache
def views() -> dict[str, View]:
    raw = yaml.safe_load(resources.files("hipviz.render").joinpath("views.yaml").read_text("utf-8"))
    out = {}
    for name, v in raw["views"].items():
        focal = np.asarray(v.get("focal_point", raw["focal_point"]), float)
        d = np.asarray(v["direction"], float)
        pos = focal + d / np.linalg.norm(d) * float(v["distance"])
        layers = tuple(v["layers"]) if "layers" in v else None
        out[name] = View(name, v["label"], tuple(pos.round(4).tolist()), tuple(focal.tolist()), tuple(map(float, v["view_up"])),
                         layers=layers, actors=_actors(v), description=v.get("description", ""))
    out["reset"] = View("reset", "Reset", *[getattr(out[raw["reset"]], f) for f in ("position", "focal_point", "view_up")])
    return out


def body_presets() -> list[str]:
    """Names of the whole-body and one-hip presets (not the close-ups, not "reset"), in the order
    the data file gives them: the order of the buttons that turn the body."""
    return [n for n, v in views().items() if not v.close_up and n != "reset"]


def close_ups() -> list[str]:
    """Names of the close-up presets, in the order the data file gives them."""
    return [n for n, v in views().items() if v.close_up]
