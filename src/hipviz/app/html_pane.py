"""An HTML pane whose text changes cost what the text costs.

Panel sends every property of a markup pane again when its text changes, stylesheets included,
and rebuilds the stylesheet models it imports each time. Bokeh sees models in a changed property
and walks the whole document to recompute its set of models: 20 to 45 ms for the app's page, at
every change of the painted area, the ranking note or the save status, which under load was the
largest single cost of a finished stroke. This pane leaves the stylesheets out of an update when
they say the same as those the page already has.

It also keeps a pane's stylesheets on this server when its text changes while its tab is closed
(see `HTML._update`): Panel would resolve them against its CDN, and the page would fetch them
from there once the tab opened.
"""

from __future__ import annotations

import panel as pn
from bokeh.model import Model
from bokeh.models import ImportedStyleSheet, InlineStyleSheet


def _same_sheet(a: object, b: object) -> bool:
    """Whether two stylesheets say the same: the same text, or imports of the same address."""
    if a is b or (isinstance(a, str) and a == b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, ImportedStyleSheet):
        return a.url == b.url
    return isinstance(a, InlineStyleSheet) and a.css == b.css


class HTML(pn.pane.HTML):
    def _update(self, ref: str, model: Model) -> None:
        # a pane in a tab that is not open has a model outside the document; its stylesheets
        # are resolved against the session's document all the same, so they point at this
        # server and never at Panel's CDN (which they would without a document)
        props = self._get_properties(model.document or pn.state.curdoc)
        sheets, now = props.get("stylesheets"), model.stylesheets
        if sheets is not None and len(sheets) == len(now) and all(map(_same_sheet, sheets, now)):
            del props["stylesheets"]
        model.update(**props)
