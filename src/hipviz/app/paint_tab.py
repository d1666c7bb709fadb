"""The Paint tab: look or paint, undo and redo, the eraser, and the brush (size, strength, quality).

Its controls show the session state (`BrushState`, `ViewState.paint_mode`); undo, redo and clear
act on the map, so they are the app's to wire.
"""

from __future__ import annotations

import panel as pn

from hipviz.app.html_pane import HTML
from hipviz.app.session import NO_QUALITY_COLOUR, QUALITY_COLOURS
from hipviz.app.state import SessionState, bind_widget
from hipviz.app.styles import BIG_BUTTONS, MODE_CSS, PANE_CSS, SLIDER_CSS, css
from hipviz.app.texts import texts
from hipviz.vocabulary import vocabulary

_W = {"sizing_mode": "stretch_width"}


def quality_css() -> str:
    dots = [f":host .bk-btn-group > .bk-btn:nth-child({i})::before {{ content: ''; position: absolute; left: 9px; top: 50%;"
            f" width: 20px; height: 20px; margin-top: -10px; border-radius: 50%; background: {colour}; border: 2px solid #fff;"
            " box-shadow: 0 0 0 1px #9995; }"
            for i, colour in enumerate([NO_QUALITY_COLOUR, *QUALITY_COLOURS.values()], start=1)]
    return "\n".join([css("quality"), *dots])


class PaintTab(pn.viewable.Viewer):
    def __init__(self, state: SessionState, **params):
        super().__init__(**params)
        t = texts()["paint_tab"]
        self.mode = pn.widgets.RadioButtonGroup(options={t["modes"]["look"]: False, t["modes"]["paint"]: True}, value=False,
                                                color="light", stylesheets=[MODE_CSS], label="Mode", **_W)
        self.radius = pn.widgets.FloatSlider(label=t["radius"], start=1, end=10, step=0.5, stylesheets=[SLIDER_CSS], **_W)
        self.intensity = pn.widgets.IntSlider(label=t["intensity"], start=0, end=10, stylesheets=[SLIDER_CSS], **_W)
        self.quality = pn.widgets.RadioButtonGroup(
            label=t["quality"], options={t["no_quality"]: "", **{label: q for q, label in vocabulary().qualities.items()}},
            color="light", stylesheets=[quality_css()], **_W)
        self.eraser = pn.widgets.Toggle(label=t["eraser"], color="warning", variant="outline", stylesheets=[BIG_BUTTONS], **_W)
        self.undo_btn = pn.widgets.Button(label=t["undo"], description=t["undo_hint"], disabled=True, stylesheets=[BIG_BUTTONS], **_W)
        self.redo_btn = pn.widgets.Button(label=t["redo"], disabled=True, stylesheets=[BIG_BUTTONS], **_W)
        self.clear_btn = pn.widgets.Button(label=t["clear"], color="danger", variant="outline", stylesheets=[BIG_BUTTONS], **_W)
        bind_widget(self.mode, state.view, "paint_mode")
        for name in ("radius", "intensity", "eraser"):
            bind_widget(getattr(self, name), state.brush, "radius_cm" if name == "radius" else name)
        # "" in the widget is "not sure" (None) in the state
        bind_widget(self.quality, state.brush, "quality", to_widget=lambda q: q or "", from_widget=lambda v: v or None)
        self._layout = pn.Column(
            self.mode,
            HTML(f"<p class='hv-help'><span class='hv-long'>{t['help_long']}</span><span class='hv-short'>{t['help_short']}</span></p>",
                 stylesheets=[PANE_CSS], **_W),
            pn.Row(self.undo_btn, self.redo_btn, **_W), pn.Row(self.eraser, self.clear_btn, **_W),
            self.radius, self.intensity,
            HTML(f"<h4 class='hv-h'>{t['quality']}</h4>", stylesheets=[PANE_CSS], **_W), self.quality,
            name=t["name"], scroll=True, **_W,
        )

    def __panel__(self) -> pn.Column:
        return self._layout
