"""The identifier contract (regions, conditions, symptoms, findings) loaded from vocabulary.yaml.

Every module that accepts an id checks it here, so the allowed values live in one data file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

SIDES = ("left", "right", "midline")


@dataclass(frozen=True)
class Vocabulary:
    regions: dict[str, str]
    sided_regions: frozenset[str]
    conditions: tuple[str, ...]
    qualities: dict[str, str]
    aggravators: dict[str, str]
    relievers: dict[str, str]
    red_flags: dict[str, str]
    findings: dict[str, str]
    sexes: tuple[str, ...]

    def region_sides(self, region: str) -> tuple[str, ...]:
        """The sides a region can be painted on: left/right for sided regions, midline otherwise."""
        return ("left", "right") if region in self.sided_regions else ("midline",)


@cache
def vocabulary() -> Vocabulary:
    raw = yaml.safe_load(resources.files("hipviz").joinpath("vocabulary.yaml").read_text("utf-8"))
    regions = raw["regions"]
    return Vocabulary(
        regions={k: v["label"] for k, v in regions.items()},
        sided_regions=frozenset(k for k, v in regions.items() if v["sided"]),
        conditions=tuple(raw["conditions"]),
        qualities=dict(raw["qualities"]),
        aggravators=dict(raw["aggravators"]),
        relievers=dict(raw["relievers"]),
        red_flags=dict(raw["red_flags"]),
        findings=dict(raw["findings"]),
        sexes=tuple(raw["sexes"]),
    )
