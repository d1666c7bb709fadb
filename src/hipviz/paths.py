"""Where the shipped data lives, from a checkout or from an installed wheel.

A wheel carries meshes/ and pain_maps/ under hipviz/_data/; a checkout (or an editable install)
reads them at the repository root. No network, no writes.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory `name` ('meshes' or 'pain_maps'), whichever install layout is present."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"hipviz data directory {name!r} not found (looked in {_PACKAGE / '_data'} and {_PACKAGE.parents[1]}); "
        "reinstall hipviz or run from a full checkout"
    )
