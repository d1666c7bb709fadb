"""The patient's side of clinic mode, under My maps: make a share code for the open map, see who
it is shared with and who opened it, and stop sharing. No account is needed: the person is the
one who holds the map (their token)."""

from __future__ import annotations

import datetime as _dt
import html
import logging
from collections.abc import Callable

import panel as pn

from hipviz.app.clinic import Clinic, ClinicError, format_code
from hipviz.app.html_pane import HTML
from hipviz.app.store import StoreError
from hipviz.app.texts import texts

log = logging.getLogger(__name__)


def _when(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%d %b %Y, %H:%M")


class SharePanel(pn.viewable.Viewer):
    """`who()` gives (token, map_id) of the open map; map_id is None while nothing is stored."""

    def __init__(self, clinic: Clinic, who: Callable[[], tuple[str, int | None]], stylesheets=(), visible: bool = True,
                 **params):
        super().__init__(**params)
        self.clinic = clinic
        self.who = who
        t = self.t = texts()["share"]
        self.make_btn = pn.widgets.Button(label=t["make"], color="primary", sizing_mode="stretch_width",
                                          stylesheets=list(stylesheets))
        self.stop_select = pn.widgets.Select(label="", options={}, visible=False, sizing_mode="stretch_width")
        self.stop_btn = pn.widgets.Button(label="", color="light", visible=False, sizing_mode="stretch_width",
                                          stylesheets=list(stylesheets))
        self.status = HTML("", sizing_mode="stretch_width")
        self.listing = HTML("", sizing_mode="stretch_width")
        self.make_btn.on_click(self._make)
        self.stop_btn.on_click(self._stop)
        self.stop_select.param.watch(self._label_stop, "value")
        self._layout = pn.Column(
            HTML(f"<h4 class='hv-h'>{html.escape(t['heading'])}</h4><p class='hv-help'>{html.escape(t['explain'])}</p>",
                         sizing_mode="stretch_width"),
            self.make_btn, self.status, self.listing, self.stop_select, self.stop_btn, sizing_mode="stretch_width", margin=0,
            visible=visible)

    def __panel__(self):
        return self._layout

    def refresh(self) -> list:
        """Show the shares and reads of the open map (call when another map opens); returns its
        shares."""
        token, map_id = self.who()
        self.status.object = ""
        if map_id is None:
            self.listing.object = ""
            self.stop_select.visible = self.stop_btn.visible = False
            return []
        try:
            shares = [s for s in self.clinic.shares_of(token) if s.map_id == map_id]
            reads = [e for e in self.clinic.reads_of(token, map_id) if e.action == "read"]
        except (StoreError, KeyError) as e:
            log.warning("shares of map %s: %s", map_id, e)
            self.listing.object = ""
            return []
        t = self.t
        items = []
        for s in shares:
            if s.revoked:
                state = t["revoked"].format(when=_when(s.revoked))
            elif s.clinician:
                state = t["claimed"].format(who=html.escape(s.clinician), when=_when(s.claimed))
            else:
                state = t["waiting"].format(until=_when(s.expires))
            items.append(f"<li><b>{format_code(s.code)}</b>: {state}</li>")
        read_items = [f"<li>{html.escape(t['reads'].format(who=e.clinician or '?', when=_when(e.at)))}</li>" for e in reads[-10:]]
        reads_html = f"<ul class='hv-regions'>{''.join(read_items)}</ul>" if read_items else f"<p class='hv-muted'>{html.escape(t['no_reads'])}</p>"
        self.listing.object = (f"<ul class='hv-regions'>{''.join(items)}</ul>" if items else "") + (reads_html if shares else "")
        active = {format_code(s.code): s.code for s in shares if not s.revoked}
        self.stop_select.options = active
        self.stop_select.visible = len(active) > 1
        self.stop_btn.visible = bool(active)
        self._label_stop()
        return shares

    def _label_stop(self, event=None) -> None:
        code = self.stop_select.value
        self.stop_btn.label = self.t["stop"].format(code=format_code(code)) if code else ""

    def _make(self, event=None) -> None:
        token, map_id = self.who()
        if map_id is None:
            self.status.object = f"<p class='hv-muted'>{html.escape(self.t['save_first'])}</p>"
            return
        try:
            code = self.clinic.share_map(token, map_id)
        except (StoreError, KeyError, ClinicError) as e:
            msg = getattr(e, "user_message", None) or str(e)
            self.status.object = f"<p class='hv-error' role='alert'>{html.escape(msg)}</p>"
            return
        share = next(s for s in self.refresh() if s.code == code)
        self.status.object = (f"<p class='hv-code' role='status'>"
                              f"{html.escape(self.t['code'].format(code=format_code(code), until=_when(share.expires)))}</p>")

    def _stop(self, event=None) -> None:
        token, _ = self.who()
        code = self.stop_select.value
        if not code:
            return
        try:
            self.clinic.revoke_share(token, code)
        except StoreError as e:
            self.status.object = f"<p class='hv-error' role='alert'>{html.escape(e.user_message)}</p>"
            return
        self.refresh()
        self.status.object = f"<p class='hv-muted' role='status'>{html.escape(self.t['stopped'].format(code=format_code(code)))}</p>"
