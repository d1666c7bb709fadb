"""An HTML pane whose text changes cost what the text costs.

Panel sends every property of a markup pane again when its text changes, stylesheets included,
and rebuilds the stylesheet models it imports each time. Bokeh sees models in a changed property
and walks the whole document to recompute its set of models: 20 to 45 ms for the app's page, at
every change of the painted area, the ranking note or the save status, which under load was the
largest single cost of a finished stroke. This pane leaves the stylesheets out of an update when
they say the same as those the page already has.
"""

from __future__ import annotations

import panel as pn
from bokeh.model import Model


def _sheet_key(sheet: object) -> object:
    """What a stylesheet says: its text, or the address it imports."""
    if isinstance(sheet, Model):
        return (type(sheet).__name__, getattr(sheet, "url", None), getattr(sheet, "css", None))
    return sheet


class HTML(pn.pane.HTML):
    def _update(self, ref: str, model: Model) -> None:
        props = self._get_properties(model.document)
        sheets = props.get("stylesheets")
        if sheets is not None and [_sheet_key(s) for s in sheets] == [_sheet_key(s) for s in model.stylesheets]:
            del props["stylesheets"]
        model.update(**props)
