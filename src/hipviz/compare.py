"""Compare two pain maps of one person (visit to visit): per body region and side, the change in
painted area (cm²) and in worst intensity (0-10).

`compare_intensities(before, after, labels)` is the pure core: two per-vertex intensity arrays on
the same labelled skin in, a `MapComparison` out (numpy only, no rendering). `compare_maps(before,
after, atlas=None)` does the same for two `PainMap`s, turning each into per-vertex intensity the
way the report and the app colour the body (vertex paint where the map has it; region entries
colour their whole region otherwise).

Domain code: imports no UI or rendering module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hipviz.painmap import REGION_IDS, SIDE_NAMES, PainMap, SkinLabels
from hipviz.vocabulary import vocabulary

__all__ = ["RegionChange", "MapComparison", "region_summary", "compare_intensities", "compare_maps"]

#: Changes smaller than these count as "same" (rounding noise of painting and of the mesh areas).
AREA_TOLERANCE_CM2 = 0.5
INTENSITY_TOLERANCE = 0.05


@dataclass(frozen=True)
class RegionChange:
    """One (region, side) painted in either map: painted area and worst intensity before and after."""

    region: str
    side: str
    label: str
    area_before_cm2: float
    area_after_cm2: float
    worst_before: float
    worst_after: float

    @property
    def area_change_cm2(self) -> float:
        return self.area_after_cm2 - self.area_before_cm2

    @property
    def worst_change(self) -> float:
        return self.worst_after - self.worst_before

    @property
    def status(self) -> str:
        """new (painted only after), gone (only before), better, worse, mixed or same."""
        if self.area_before_cm2 <= 0:
            return "new"
        if self.area_after_cm2 <= 0:
            return "gone"
        da = 0 if abs(self.area_change_cm2) < AREA_TOLERANCE_CM2 else np.sign(self.area_change_cm2)
        di = 0 if abs(self.worst_change) < INTENSITY_TOLERANCE else np.sign(self.worst_change)
        if da == 0 and di == 0:
            return "same"
        if da <= 0 and di <= 0:
            return "better"
        if da >= 0 and di >= 0:
            return "worse"
        return "mixed"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(area_change_cm2=self.area_change_cm2, worst_change=self.worst_change, status=self.status)
        return d


@dataclass(frozen=True)
class MapComparison:
    """The change between two maps: per region (worst pain first) and in total."""

    regions: tuple[RegionChange, ...]
    total_area_before_cm2: float
    total_area_after_cm2: float
    worst_before: float
    worst_after: float

    @property
    def total_area_change_cm2(self) -> float:
        return self.total_area_after_cm2 - self.total_area_before_cm2

    @property
    def worst_change(self) -> float:
        return self.worst_after - self.worst_before

    def to_dict(self) -> dict:
        return {
            "regions": [r.to_dict() for r in self.regions],
            "total_area_before_cm2": self.total_area_before_cm2,
            "total_area_after_cm2": self.total_area_after_cm2,
            "total_area_change_cm2": self.total_area_change_cm2,
            "worst_before": self.worst_before,
            "worst_after": self.worst_after,
            "worst_change": self.worst_change,
        }


def _check(intensity, labels: SkinLabels, name: str) -> np.ndarray:
    x = np.asarray(intensity, dtype=np.float64)
    if x.shape != (labels.vertex_count,):
        raise ValueError(f"{name}: expected one intensity per skin vertex ({labels.vertex_count}), got shape {x.shape}")
    if not np.all(np.isfinite(x)) or (x.size and (x.min() < 0 or x.max() > 10)):
        raise ValueError(f"{name}: intensities must be finite numbers from 0 to 10")
    return x


def region_summary(intensity, labels: SkinLabels) -> dict[tuple[str, str], tuple[float, float]]:
    """(painted area in cm², worst intensity) per painted (region, side) of a per-vertex intensity."""
    x = _check(intensity, labels, "intensity")
    sel = (x > 0) & (labels.region >= 0)
    key = labels._key[sel]
    n = 3 * len(REGION_IDS)
    area = np.bincount(key, weights=labels.vertex_area_cm2[sel], minlength=n)
    worst = np.zeros(n)
    np.maximum.at(worst, key, x[sel])
    return {(REGION_IDS[k // 3], SIDE_NAMES[k % 3]): (float(area[k]), float(worst[k])) for k in np.flatnonzero(worst > 0)}


def compare_intensities(before, after, labels: SkinLabels) -> MapComparison:
    """Compare two per-vertex intensities (0 = unpainted) on the same labelled skin."""
    b = _check(before, labels, "before")
    a = _check(after, labels, "after")
    sb, sa = region_summary(b, labels), region_summary(a, labels)
    v = vocabulary()
    changes = []
    for key in set(sb) | set(sa):
        region, side = key
        ab, wb = sb.get(key, (0.0, 0.0))
        aa, wa = sa.get(key, (0.0, 0.0))
        label = v.regions[region] + ("" if side == "midline" else f", {side}")
        changes.append(RegionChange(region, side, label, ab, aa, wb, wa))
    changes.sort(key=lambda c: (-max(c.worst_after, c.worst_before), -max(c.area_after_cm2, c.area_before_cm2), c.label))
    area = labels.vertex_area_cm2
    return MapComparison(
        regions=tuple(changes),
        total_area_before_cm2=float(area[b > 0].sum()),
        total_area_after_cm2=float(area[a > 0].sum()),
        worst_before=float(b.max(initial=0.0)),
        worst_after=float(a.max(initial=0.0)),
    )


def compare_maps(before: PainMap, after: PainMap, atlas=None) -> MapComparison:
    """Compare two pain maps of one person (`before` the earlier one) on the atlas skin."""
    from hipviz.referral import _atlas, painted_intensity

    a = _atlas(atlas)
    labels = a.skin_labels()
    return compare_intensities(painted_intensity(before, a), painted_intensity(after, a), labels)
