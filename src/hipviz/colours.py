"""Colours as the data files write them ("#rrggbb"), read once for every renderer."""

from __future__ import annotations

import re

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """"#rrggbb" (or "rrggbb") -> (r, g, b) in 0..255; anything else is a ValueError naming it."""
    m = _HEX.match(colour.strip()) if isinstance(colour, str) else None
    if m is None:
        raise ValueError(f"not a colour of the form #rrggbb: {colour!r}")
    h = m.group(1)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def hex_to_unit_rgb(colour: str) -> tuple[float, float, float]:
    """"#rrggbb" -> (r, g, b) in 0..1 (VTK's colours)."""
    r, g, b = hex_to_rgb(colour)
    return r / 255, g / 255, b / 255


__all__ = ["hex_to_rgb", "hex_to_unit_rgb"]
