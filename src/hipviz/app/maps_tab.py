"""The My maps tab: pick, name, start and delete maps (deleting asks first and can be undone),
compare visits, save or open a map file, export for a record system, share with a clinic.

Its controls are the app's to wire: they act on the store and the session. The visits section
is filled in once the visits panel exists (`visits_slot`).
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from hipviz.app.file_open import FileOpen
from hipviz.app.html_pane import HTML
from hipviz.app.styles import BIG_BUTTONS, PANE_CSS
from hipviz.app.texts import texts

_W = {"sizing_mode": "stretch_width"}


def _h(text: str = "", **kw) -> HTML:
    return HTML(text, stylesheets=[PANE_CSS], **{**_W, **kw})


class MapsTab(pn.viewable.Viewer):
    def __init__(self, export_json: Callable, fhir_file: Callable, share: pn.viewable.Viewable, **params):
        super().__init__(**params)
        t = texts()["maps_tab"]

        def button(key: str, **kw) -> pn.widgets.Button:
            return pn.widgets.Button(label=t[key], stylesheets=[BIG_BUTTONS], **_W, **kw)

        self.maps_select = pn.widgets.Select(label=t["select"], options={}, **_W)
        self.new_map_btn = button("new", color="primary")
        self.title_input = pn.widgets.TextInput(label=t["title"], value="", **_W)
        self.delete_btn = button("delete", color="danger", variant="outline")
        self.delete_prompt = _h(visible=False)
        self.delete_yes = button("delete_yes", color="danger")
        self.delete_no = button("delete_no")
        self.delete_confirm = pn.Row(self.delete_yes, self.delete_no, visible=False, **_W)
        self.undo_delete_btn = button("undo_delete", visible=False)
        self.export_btn = pn.widgets.FileDownload(callback=export_json, filename="hipviz-painmap.json", label=t["export"],
                                                  color="success", stylesheets=[BIG_BUTTONS], **_W)
        self.fhir_btn = pn.widgets.FileDownload(callback=fhir_file, filename="hipviz-fhir-bundle.json", label=t["fhir"],
                                                stylesheets=[BIG_BUTTONS], **_W)
        self.import_input = FileOpen(label=t["open"], **_W)
        self.png_btn = button("png")
        self.import_msg = _h(visible=False)
        self.saved_msg = _h()
        self.share = share
        self.visits_slot = pn.Column(margin=0, **_W)
        self._layout = pn.Column(
            self.maps_select, self.title_input, pn.Row(self.new_map_btn, self.delete_btn, **_W),
            self.delete_prompt, self.delete_confirm, self.undo_delete_btn, self.visits_slot,
            _h(f"<h4 class='hv-h'>{t['files']}</h4>"), self.export_btn, self.fhir_btn,
            _h(f"<p class='hv-help'>{t['open_help']}</p>"), self.import_input, self.import_msg,
            self.png_btn, self.saved_msg, self.share,
            name=t["name"], scroll=True, **_W,
        )

    def __panel__(self) -> pn.Column:
        return self._layout
