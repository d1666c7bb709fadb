"""The skin colours of two maps seen together, free of any UI: the earlier map in one colour,
the later one in another, stripes of both where both are painted; colours and words come from
visits.yaml (next to this module).

Stripes run along the same body diagonal as the pattern hatch (overlay.py), so they read from
the front, the back and either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from hipviz.colours import hex_to_rgb

STYLE_FILE = Path(__file__).with_name("visits.yaml")
CSS_FILE = Path(__file__).with_name("visits.css")
SHOWS = ("both", "before", "after")
_DIAG = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)


@dataclass(frozen=True)
class VisitStyle:
    colours: dict[str, str]
    stripe_period_cm: float
    min_alpha: float
    per_point: float
    texts: dict[str, str]
    status: dict[str, dict[str, str]]


@cache
def visit_style() -> VisitStyle:
    raw = yaml.safe_load(STYLE_FILE.read_text(encoding="utf-8"))
    return VisitStyle(dict(raw["colours"]), float(raw["stripe_period_cm"]), float(raw["min_alpha"]),
                      float(raw["per_point"]), dict(raw["texts"]), {k: dict(v) for k, v in raw["status"].items()})


@cache
def visit_css() -> str:
    return CSS_FILE.read_text(encoding="utf-8")


def comparison_rgb(points: np.ndarray, before, after, show: str = "both", style: VisitStyle | None = None) -> np.ndarray:
    """uint8 RGB per skin vertex for two per-vertex intensities (0 = unpainted).

    show: "both" (earlier colour, later colour, stripes of both where both are painted),
    "before" or "after" (that map alone, in its colour)."""
    if show not in SHOWS:
        raise ValueError(f"show must be one of {', '.join(SHOWS)}, not {show!r}")
    st = style or visit_style()
    b = np.asarray(before, np.float32)
    a = np.asarray(after, np.float32)
    if b.shape != a.shape or b.shape != (len(points),):
        raise ValueError("before, after and points must have one entry per skin vertex")
    if show == "before":
        a = np.zeros_like(a)
    elif show == "after":
        b = np.zeros_like(b)
    skin, earlier, later = (np.array(hex_to_rgb(st.colours[k]), np.float32) for k in ("skin", "earlier", "later"))
    out = np.tile(skin, (len(b), 1))
    alpha_b = np.clip(st.min_alpha + st.per_point * b, 0, 1)[:, None]
    alpha_a = np.clip(st.min_alpha + st.per_point * a, 0, 1)[:, None]
    col_b = skin * (1 - alpha_b) + earlier * alpha_b
    col_a = skin * (1 - alpha_a) + later * alpha_a
    has_b, has_a = b > 0, a > 0
    s = (np.asarray(points, np.float64) @ _DIAG) * 100.0 / st.stripe_period_cm
    earlier_stripe = (s - np.floor(s)) < 0.5
    use_b = has_b & (~has_a | earlier_stripe)
    use_a = has_a & ~use_b
    out[use_b] = col_b[use_b]
    out[use_a] = col_a[use_a]
    return np.rint(out).clip(0, 255).astype(np.uint8)


__all__ = ["SHOWS", "VisitStyle", "comparison_rgb", "visit_css", "visit_style"]
