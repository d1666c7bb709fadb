"""The base of the page's own components: Panel's JSComponent, told that its module is plain
JavaScript.

Panel runs every component's module through a TypeScript transform in the browser before
importing it, unless the model says the module is already compiled (a non-null ``bundle``).
The modules here are plain ES modules, so the transform only costs time on every page load.
"""

from __future__ import annotations

import hashlib
from typing import Any

from panel.custom import JSComponent


class PlainJSComponent(JSComponent):
    """A JSComponent whose ``_esm`` is imported as written (no TypeScript transform)."""

    def _get_properties(self, doc) -> dict[str, Any]:
        props = super()._get_properties(doc)
        if props.get("bundle") is None and isinstance(props.get("esm"), str):
            # the browser keeps one imported module per distinct key: one per module text
            props["bundle"] = "plain-" + hashlib.sha256(props["esm"].encode("utf-8")).hexdigest()[:24]
        return props
