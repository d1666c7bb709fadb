"""The Body tab: camera presets, see inside, layers, skin opacity and one structure alone.

Its controls show `ViewState`; the camera presets and the click information are the viewer's,
so the app passes them in.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from hipviz.app.html_pane import HTML
from hipviz.atlas.catalog import LAYERS
from hipviz.app.state import SessionState, bind_widget
from hipviz.app.styles import BIG_BUTTONS, LAYER_CSS, PANE_CSS, SLIDER_CSS, css
from hipviz.app.texts import texts

_W = {"sizing_mode": "stretch_width"}


class BodyTab(pn.viewable.Viewer):
    def __init__(self, state: SessionState, meta: dict, set_view: Callable[[str], None], **params):
        super().__init__(**params)
        t = texts()["body_tab"]
        view = state.view
        self.view_buttons = []
        for name in [*meta["presets"], "reset"]:     # two buttons to a row
            if name in meta["views"]:
                b = pn.widgets.Button(label=meta["views"][name]["label"], stylesheets=[BIG_BUTTONS, css("view_button")],
                                      min_width=60, **_W)
                b.on_click(lambda e, n=name: set_view(n))
                self.view_buttons.append(b)
        self.layer_toggle = pn.widgets.CheckButtonGroup(
            label=t["layers_heading"], options={t["layer_labels"][layer]: layer for layer in LAYERS}, color="light",
            orientation="vertical", stylesheets=[LAYER_CSS], **_W)
        self.skin_opacity = pn.widgets.FloatSlider(label=t["opacity"], start=0.05, end=1.0, step=0.05, stylesheets=[SLIDER_CSS], **_W)
        structures = {a["name"]: a["id"] for a in sorted(meta["actors"], key=lambda a: a["name"])}
        self.isolate = pn.widgets.Select(label=t["isolate"], options={t["everything"]: "", **structures}, **_W)
        self.see_inside_btn = pn.widgets.Button(label=t["see_inside"], color="primary", stylesheets=[BIG_BUTTONS], **_W)
        self.solid_btn = pn.widgets.Button(label=t["solid"], stylesheets=[BIG_BUTTONS], **_W)
        self.show_all = pn.widgets.Button(label=t["show_all"], stylesheets=[BIG_BUTTONS], **_W)
        self.info = HTML(f"<p class='hv-muted'>{t['click_hint']}</p>", stylesheets=[PANE_CSS], **_W)
        self.alone_btn = pn.widgets.Button(label=t["alone"], visible=False, stylesheets=[BIG_BUTTONS], **_W)
        for widget, name in ((self.layer_toggle, "layers"), (self.skin_opacity, "skin_opacity"), (self.isolate, "isolated")):
            bind_widget(widget, view, name)
        self.see_inside_btn.on_click(lambda e: view.see_inside(True))
        self.solid_btn.on_click(lambda e: view.see_inside(False))
        self.show_all.on_click(lambda e: setattr(view, "isolated", ""))
        self.alone_btn.on_click(lambda e: self._alone(view))

        def h(text: str) -> HTML:
            return HTML(text, stylesheets=[PANE_CSS], **_W)

        self._layout = pn.Column(
            h(f"<h4 class='hv-h'>{t['turn_to']}</h4>"),
            *[pn.Row(*self.view_buttons[i:i + 2], **_W) for i in range(0, len(self.view_buttons), 2)],
            pn.Row(self.see_inside_btn, self.solid_btn, **_W), self.info, self.alone_btn,
            h(f"<h4 class='hv-h'>{t['layers_heading']}</h4>"), self.skin_opacity, self.layer_toggle,
            h(f"<p class='hv-help'>{t['layers_help']}</p>"), self.isolate, self.show_all,
            name=t["name"], scroll=True, **_W,
        )

    def _alone(self, view) -> None:
        if view.picked:
            view.isolated = view.picked
            self.alone_btn.visible = False

    def __panel__(self) -> pn.Column:
        return self._layout
