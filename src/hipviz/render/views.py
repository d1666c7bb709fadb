"""Camera presets (views.yaml) as plain data, for offscreen renders and the web viewer alike."""

from __future__ import annotations

from dataclasses import dataclass
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

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "position": list(self.position),
                "focal_point": list(self.focal_point), "view_up": list(self.view_up)}


@cache
def views() -> dict[str, View]:
    raw = yaml.safe_load(resources.files("hipviz.render").joinpath("views.yaml").read_text("utf-8"))
    out = {}
    for name, v in raw["views"].items():
        focal = np.asarray(v.get("focal_point", raw["focal_point"]), float)
        d = np.asarray(v["direction"], float)
        pos = focal + d / np.linalg.norm(d) * float(v["distance"])
        out[name] = View(name, v["label"], tuple(pos.round(4).tolist()), tuple(focal.tolist()), tuple(map(float, v["view_up"])))
    out["reset"] = View("reset", "Reset", *[getattr(out[raw["reset"]], f) for f in ("position", "focal_point", "view_up")])
    return out
