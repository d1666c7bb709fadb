"""`hipviz render`: an offscreen image of the atlas from a camera preset."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipviz.cli import UsageError


def register(sub) -> None:
    p = sub.add_parser("render", help="write an offscreen PNG of the atlas")
    p.add_argument("--view", default="posterior",
                   help="anterior, posterior, left, right, posterior_oblique_left/right, lateral_hip, deep_gluteal")
    p.add_argument("--layers", default=None,
                   help="comma-separated layers (default: all, or the layers a close-up view needs)")
    p.add_argument("--skin-opacity", type=float, default=0.35)
    p.add_argument("--size", default="900x1100", help="WIDTHxHEIGHT in pixels")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from hipviz.atlas.meshes import AtlasError, load_atlas
    from hipviz.render.offscreen import render
    from hipviz.render.views import views

    if args.view not in views():
        raise UsageError(f"unknown view {args.view!r}; choose from {', '.join(views())}")
    kw = {}
    if args.layers is not None:
        kw["layers"] = tuple(x.strip() for x in args.layers.split(",") if x.strip())
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 900x1100, not {args.size!r}") from None
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise UsageError("--size must be between 64 and 8192 pixels each way")
    if args.out.suffix.lower() != ".png":
        raise UsageError(f"--out must be a .png file, not {args.out}")
    try:
        render(load_atlas(), args.out, view=args.view, **kw, skin_opacity=args.skin_opacity, window=(w, h))
    except (ValueError, AtlasError) as e:
        raise UsageError(str(e)) from None
    print(f"wrote {args.out}")
    return 0
