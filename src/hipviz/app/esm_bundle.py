"""Join a page component's ES modules into the one module Panel loads.

Panel loads a component's ``_esm`` as a single module, so modules that import each other by
relative path cannot be served as they are. The modules here keep their ``import`` lines (they
say what each uses and let an editor follow them); joining drops those lines, keeps ``export``
only on the last module (the component's ``render``) and turns an import of a .css file into a
string constant. Dependencies come first in the list; a module whose relative import is not in
the list stops the build with a message naming both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

_IMPORT = re.compile(r'^import \{ *([\w, ]+?) *\} from "\./([\w./-]+)";[ \t]*\n', re.M)
_EXPORT = re.compile(r"^export (?=(?:async )?function |const |class )", re.M)


class BundleError(ValueError):
    pass


def bundle(folder: Path, order: Sequence[str]) -> str:
    """The modules ``order`` (file names in ``folder``; .css files become string constants where
    imported) joined into one ES module."""
    parts: list[str] = []
    seen: set[str] = set()
    css_done: set[str] = set()
    for i, name in enumerate(order):
        text = (folder / name).read_text("utf-8")
        consts: list[str] = []
        for m in _IMPORT.finditer(text):
            names, dep = [n.strip() for n in m.group(1).split(",") if n.strip()], m.group(2)
            if dep.endswith(".css"):
                if len(names) != 1:
                    raise BundleError(f"{name}: a .css import gives one name, not {names}")
                if dep not in css_done:
                    consts.append(f"const {names[0]} = {json.dumps((folder / dep).read_text('utf-8'))};")
                    css_done.add(dep)
            elif dep not in seen:
                raise BundleError(f"{name} imports ./{dep}, which is not bundled before it (order: {', '.join(order)})")
        text = _IMPORT.sub("", text)
        if i < len(order) - 1:
            text = _EXPORT.sub("", text)
        parts.append(f"// ---- {name} ----\n" + "\n".join(consts) + ("\n" if consts else "") + text)
        seen.add(name)
    return "\n".join(parts)


_HERE = Path(__file__).resolve().parent


@cache
def viewer_esm() -> str:
    """The 3D view's page code."""
    return bundle(_HERE / "viewer", ("common.js", "overlays.js", "skinshade.js", "camera.js", "scene.js", "pick.js", "paint.js", "main.js"))


@cache
def bodychart_esm() -> str:
    """The body chart's page code (it shares the viewer's helpers)."""
    return bundle(_HERE, ("viewer/common.js", "bodychart.js"))


__all__ = ["BundleError", "bodychart_esm", "bundle", "viewer_esm"]
