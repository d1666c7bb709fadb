"""Offscreen PyVista renders of the atlas: the same colours, layers and camera presets as the app.

Deterministic settings (no anti-aliasing, no depth peeling) so images can be compared with
stored baselines. Overlays (per-vertex RGB on the skin) are composited by the caller.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hipviz.atlas.catalog import LAYERS
from hipviz.colours import hex_to_unit_rgb



def _pyvista():
    os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")
    import pyvista as pv

    pv.OFF_SCREEN = True
    return pv


def scene(atlas, layers=LAYERS, skin_opacity: float = 0.35, window=(900, 1100), skin_rgb: np.ndarray | None = None,
          highlight: set[str] | None = None, fade: float = 0.15, show_hidden: bool = False,
          actors: dict[str, dict] | None = None):
    """A Plotter with the chosen layers. `skin_rgb` (n, 3 uint8) colours the skin per vertex;
    `highlight` keeps those structures at full strength and fades the others; `actors` overrides
    the visibility or opacity of single structures (as a close-up preset does)."""
    pv = _pyvista()
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; choose from {', '.join(LAYERS)}")
    if not 0.0 <= skin_opacity <= 1.0 or not np.isfinite(skin_opacity):
        raise ValueError(f"skin opacity must be between 0 and 1, not {skin_opacity}")
    p = pv.Plotter(off_screen=True, window_size=list(window))
    p.set_background("white")
    p.disable_anti_aliasing()
    actors = actors or {}
    for sid, s in atlas.manifest.items():
        own = actors.get(sid, {})
        shown = s.visible or show_hidden or bool(highlight and sid in highlight)
        if s.layer not in layers or not own.get("visible", shown):
            continue
        mesh = atlas.polydata(sid)
        opacity = skin_opacity if s.kind == "skin" else float(own.get("opacity", s.opacity))
        kwargs = dict(smooth_shading=True, specular=0.15, opacity=opacity, name=sid)
        if highlight is not None and sid not in highlight and s.kind != "skin":
            kwargs["opacity"] = min(opacity, fade)
        if s.kind == "skin" and skin_rgb is not None:
            m = mesh.copy()
            m.point_data["rgb"] = skin_rgb
            p.add_mesh(m, scalars="rgb", rgb=True, **kwargs)
        else:
            p.add_mesh(mesh, color=hex_to_unit_rgb(s.colour), **kwargs)
    return p


def set_view(plotter, name: str) -> None:
    from hipviz.render.views import views

    v = views().get(name)
    if v is None:
        raise ValueError(f"unknown view {name!r}; choose from {', '.join(views())}")
    plotter.camera.position = v.position
    plotter.camera.focal_point = v.focal_point
    plotter.camera.up = v.view_up
    plotter.camera.view_angle = 30.0
    plotter.reset_camera_clipping_range()


def preset_scene(atlas, view: str, **kw):
    """A Plotter looking from a preset; a close-up brings its own layers and structure overrides
    (a caller's `layers` or `actors` win)."""
    from hipviz.render.views import views

    v = views().get(view)
    if v is not None and v.close_up:
        kw.setdefault("layers", v.layers)
        kw.setdefault("actors", v.actors)
    p = scene(atlas, **kw)
    set_view(p, view)
    return p


def render(atlas, out: Path, view: str = "posterior", **kw) -> Path:
    p = preset_scene(atlas, view, **kw)
    p.screenshot(str(out))
    p.close()
    return out
