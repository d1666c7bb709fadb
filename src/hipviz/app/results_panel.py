"""The results: what was painted, the warning-sign alerts, the ranking and the question that
would help most. Read from the map state and refreshed by its revision event, so every change
(a stroke, an answer, a merge, an opened map) shows the same way, computed once.

The alerts are a pane of their own: the page shows them under the header, on every layout.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import panel as pn
import param

from hipviz.app.html_pane import HTML
from hipviz.app.session import region_label
from hipviz.app.state import MapState, ViewState
from hipviz.app.styles import BIG_BUTTONS, PANE_CSS, RESULTS_BOX_CSS
from hipviz.app.texts import texts
from hipviz.app.widgets import ClickList

_W = {"sizing_mode": "stretch_width"}
TOP = 8                   # candidates listed


def _h(text: str = "", **kw) -> HTML:
    return HTML(text, stylesheets=[PANE_CSS], **{**_W, **kw})


class ResultsPanel(pn.viewable.Viewer):
    compact = param.Boolean(False, doc="A phone: alerts show their level and signs, the rest a tap away")
    def __init__(self, map_state: MapState, view: ViewState, on_select: Callable[[str], None], pdf_callback: Callable,
                 **params):
        super().__init__(**params)
        self.map, self.view = map_state, view
        t = self.t = texts()["results"]
        self.alerts = _h(visible=False, css_classes=["hv-alerts"], margin=(6, 10, 0, 10))
        self.painted = _h(css_classes=["hv-later"])
        self.ranking = ClickList(item_class="hv-cand", data_key="condition", **_W)
        self.ranking.on_click(on_select)
        self.ranking_note = _h()
        self.ask_next = _h()
        self.worth_telling = _h()
        self.pdf_btn = pn.widgets.FileDownload(callback=pdf_callback, filename="hipviz-summary.pdf", label=t["pdf"],
                                               color="success", stylesheets=[BIG_BUTTONS], css_classes=["hv-later"], **_W)
        self._box = pn.Column(
            _h(f"<h3 class='hv-h'>{t['painted_heading']}</h3>", css_classes=["hv-later"]), self.painted,
            _h(f"<h3 class='hv-h'>{t['ranking_heading']}</h3>"), self.ranking_note, self.ranking, self.worth_telling, self.ask_next,
            self.pdf_btn,
            margin=0, stylesheets=[RESULTS_BOX_CSS], **_W,
        )
        map_state.param.watch(self.refresh, "revision")     # the app announces the map it opens
        view.param.watch(self.refresh, "register")
        self._alerts_shown = ()
        self.param.watch(lambda e: self._show_alerts(self._alerts_shown), "compact")

    def __panel__(self) -> pn.Column:
        return self._box

    def refresh_painted(self) -> None:
        """The painted area by region (also refreshed on its own during a long stroke)."""
        t, s = self.t, self.map.summary()
        if s["total_cm2"] <= 0:
            self.painted.object = f"<p class='hv-muted'>{t['nothing_painted']}</p>"
            return
        items = "".join(
            f"<li>{html.escape(region_label(r['region'], r['side']))}: {r['area_cm2']:.0f} cm²"
            + (f" · {r['intensity']:g}/10" if r["intensity"] is not None else f" <span class='hv-muted'>{t['too_small']}</span>")
            + "</li>"
            for r in s["regions"][:10]
        )
        outside = s.get("outside_cm2", 0.0)
        if outside >= 1:
            items += f"<li class='hv-outside'>{t['outside'].format(area=f'{outside:.0f}')}</li>"
        area = t["painted_area"].format(area=f"{s['total_cm2']:.0f}")
        self.painted.object = (f"<div class='hv-painted' data-area='{s['total_cm2']:.1f}'><p><b>{area}</b></p>"
                               f"<ul class='hv-regions'>{items}</ul></div>")

    def _show_alerts(self, alerts) -> None:
        """The alerts under the header. On a phone (``compact``) each shows its level and its
        warning signs, with the why and the what-to-do a tap away, so the page keeps room for the
        results; elsewhere in full."""
        self._alerts_shown = alerts
        parts = []
        for a in alerts:
            signs, _, rest = a.message.partition(". ")
            head = f"<b>{html.escape(a.title)}.</b> {html.escape(signs)}{'.' if rest else ''}"
            if self.compact and rest:
                parts.append(f"<details class='hv-alert hv-{a.level}' role='alert'><summary>{head}</summary>"
                             f"{html.escape(rest)}</details>")
            else:
                parts.append(f"<div class='hv-alert hv-{a.level}' role='alert'>{head} {html.escape(rest)}</div>")
        self.alerts.object = "".join(parts)
        self.alerts.visible = bool(alerts)

    def refresh(self, *events) -> None:
        t = self.t
        self.refresh_painted()
        pm, result = self.map.ranked_map(), self.map.ranking()
        self._show_alerts(result.alerts)
        has_input = pm.has_pain or any(getattr(pm, k) for k in ("qualities", "aggravators", "relievers", "red_flags", "findings",
                                                                 "negative_findings"))
        if not has_input:
            self.ranking.items = []
            self.ranking_note.object = f"<p class='hv-muted'>{t['no_input']}</p>"
            self.ask_next.object = self.worth_telling.object = ""
            return
        clinician = self.view.register == "clinician"

        def sub(c) -> str:
            # patients read a band ("Strong match") and the reasons in words; clinicians the
            # probability and each reason's factor on the odds
            head = [c.band_label] + ([f"{100 * c.probability:.0f}%"] if clinician else [])
            reasons = "; ".join(r.text if clinician else (r.plain or r.text) for r in c.why[:2])
            return " · ".join(head + ([reasons] if reasons else []))

        self.ranking.items = [
            {"id": c.condition, "rank": i + 1, "title": c.clinician_name if clinician else c.name, "band": c.band,
             "side": c.side if c.side in ("left", "right", "both") else "", "sub": sub(c)}
            for i, c in enumerate(result.candidates[:TOP])
        ]
        hints = [t["tap_hint"]] + ([t["clinician_hint"]] if clinician else []) + ([] if pm.has_pain else [t["no_pain_hint"]])
        self.ranking_note.object = "".join(f"<p class='hv-help'>{h}</p>" for h in hints)
        self.worth_telling.object = (
            f"<div class='hv-worth'><b>{t['worth_telling']}</b><ul>"
            + "".join(f"<li>{html.escape(w.label)}</li>" for w in result.worth_telling) + "</ul></div>"
            if result.worth_telling else "")
        # a patient is asked what they can answer; examination findings are for the clinician
        q = next((q for q in result.ask_next if clinician or q.kind != "findings"), None)
        asked = (q.clinician_question or q.question) if clinician and q else q.question if q else ""
        self.ask_next.object = f"<div class='hv-ask'><b>{t['ask']}</b> {html.escape(asked)}</div>" if q else ""
