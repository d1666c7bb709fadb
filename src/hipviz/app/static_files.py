"""The app's own static files (app/static/), served by the app's server under STATIC_ROUTE."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_ROUTE = "hipviz-static"
#: vtk.js: the classes the 3D view uses, built by js/vtk (see js/vtk/build.mjs)
VTK_BUNDLE = STATIC_DIR / "vtk-hipviz.js"


@cache
def static_version(path: Path) -> str:
    """A short checksum of a static file, for its URL's query (a new file, a new URL)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_dirs() -> dict[str, str]:
    """`static_dirs` for `pn.serve`: any server that shows the 3D view must serve these."""
    return {STATIC_ROUTE: str(STATIC_DIR)}
