"""`hipviz atlas check|info|build`: verify, summarise or rebuild the anatomical atlas."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipviz.cli import UsageError


def register(sub) -> None:
    p = sub.add_parser("atlas", help="verify, summarise or rebuild the anatomical atlas (meshes/)")
    asub = p.add_subparsers(dest="atlas_command", required=True, metavar="ACTION")
    c = asub.add_parser("check", help="verify every mesh file against the manifest")
    c.add_argument("--dir", type=Path, help="atlas directory (default: the shipped meshes/)")
    c.set_defaults(run=_check)
    i = asub.add_parser("info", help="list structures with triangle counts and file sizes")
    i.add_argument("--dir", type=Path)
    i.set_defaults(run=_info)
    b = asub.add_parser("build", help="rebuild meshes/ from the BodyParts3D pack (maintainers)")
    b.add_argument("--out", type=Path, default=Path("meshes"), help="output directory (default: ./meshes)")
    b.add_argument("--bodyparts3d", type=Path, default=None,
                   help="the BodyParts3D pack (default: ../shared/anatomy-meshes/bodyparts3d beside the checkout)")
    b.add_argument("--facts", type=Path, default=None, help=argparse.SUPPRESS)  # accepted for old scripts; unused
    b.add_argument("--cache", type=Path, default=None, help=argparse.SUPPRESS)  # accepted for old scripts; unused
    b.set_defaults(run=_build)


def _root(args) -> Path:
    from hipviz.paths import data_dir

    return args.dir if args.dir else data_dir("meshes")


def _check(args: argparse.Namespace) -> int:
    from hipviz.atlas.meshes import check_files

    root = _root(args)
    problems = check_files(root)
    if problems:
        raise UsageError(f"{root}: " + "; ".join(problems))
    print(f"ok: every file in {root} matches manifest.json")
    return 0


def _info(args: argparse.Namespace) -> int:
    from hipviz.atlas.meshes import AtlasError, Atlas

    try:
        atlas = Atlas(_root(args))
    except AtlasError as e:
        raise UsageError(str(e)) from None
    total_t = total_b = 0
    print(f"{'structure':42s} {'kind':7s} {'triangles':>9s} {'KB':>7s}")
    for s in atlas.manifest.values():
        size = (atlas.root / s.file).stat().st_size if (atlas.root / s.file).exists() else 0
        total_t, total_b = total_t + s.triangles, total_b + size
        print(f"{s.id:42s} {s.kind:7s} {s.triangles:9d} {size / 1024:7.0f}")
    print(f"{'total':42s} {'':7s} {total_t:9d} {total_b / 1024:7.0f}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from hipviz.atlas.build.bp3d import default_pack_dir
    from hipviz.atlas.build.pipeline import build

    pack = args.bodyparts3d
    if pack is None and args.facts is not None:  # ../shared/anatomy-facts given: the pack is beside it
        cand = args.facts.resolve().parent / "anatomy-meshes" / "bodyparts3d"
        pack = cand if (cand / "sources.json").is_file() else None
    pack = pack or default_pack_dir()
    if pack is None or not (pack / "sources.json").is_file():
        raise UsageError("BodyParts3D pack not found (looked in ../shared/anatomy-meshes/bodyparts3d); pass --bodyparts3d DIR")
    m = build(args.out.resolve(), pack.resolve())
    print(f"wrote {len(m['structures'])} structures, {sum(s['triangles'] for s in m['structures'])} triangles to {args.out}")
    return 0
