"""The clinician's page (/clinic): the pain maps patients shared with them, and nothing else.

Who is signed in comes from the HttpOnly cookie of the request that opened this page
(`clinic_web.clinician_cookie`). Each map opened, downloaded or shown on the body is read through
`Clinic.read_shared_map`, which writes the access log entry in the same transaction.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import logging
from dataclasses import dataclass

import panel as pn

from hipviz.app.clinic import Clinic, ClinicError, Clinician, format_code
from hipviz.app.clinic_web import clinician_cookie
from hipviz.app.html_pane import HTML
from hipviz.app.store import StoreError
from hipviz.app.texts import texts
from hipviz.painmap import PainMap, PainMapError

log = logging.getLogger(__name__)


def _when(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%d %b %Y, %H:%M")


class ClinicPage(pn.viewable.Viewer):
    def __init__(self, ctx, clinic: Clinic, clinician: Clinician, stylesheets=(), pane_css: str = "", **params):
        super().__init__(**params)
        self.ctx, self.clinic, self.clinician = ctx, clinic, clinician
        t = self.t = texts()["clinic_page"]
        ss = list(stylesheets)
        html_kw = {"sizing_mode": "stretch_width", "stylesheets": [pane_css] if pane_css else []}
        self.code_input = pn.widgets.TextInput(name=t["enter_code"], placeholder="KX4M-9TQC", max_length=20,
                                               sizing_mode="stretch_width")
        self.add_btn = pn.widgets.Button(name=t["add_code"], button_type="primary", width=100, align="end", stylesheets=ss)
        self.msg = HTML("", **html_kw)
        self.maps = pn.widgets.Select(name=t["pick"], options={}, sizing_mode="stretch_width")
        self.listing = HTML("", **html_kw)
        self.open_link = HTML("", **html_kw)
        self.pdf_btn = pn.widgets.FileDownload(callback=self._pdf, filename="hipviz-summary.pdf", label=t["pdf"],
                                               sizing_mode="stretch_width", stylesheets=ss)
        self.fhir_btn = pn.widgets.FileDownload(callback=self._fhir, filename="hipviz-bundle.json", label=t["fhir"],
                                                sizing_mode="stretch_width", stylesheets=ss)
        self.add_btn.on_click(self._add)
        if "enter_pressed" in self.code_input.param:      # Enter in the box adds the code too
            self.code_input.param.watch(self._add, "enter_pressed")
        self.maps.param.watch(self._on_pick, "value")
        name = html.escape(clinician.display_name or clinician.username)
        header = HTML(
            f"<div class='hv-header'><span class='hv-logo'>hipviz</span><span class='hv-tagline hv-clinic-tag'>{html.escape(t['title'])}</span>"
            f"<span class='hv-save'>{html.escape(t['signed_in']).replace('{name}', f'<b>{name}</b>')}</span>"
            "<form method='post' action='clinic/signout' class='hv-signout'><button type='submit'>Sign out</button></form></div>",
            margin=0, **html_kw)
        self._layout = pn.Column(
            header,
            pn.Column(pn.Row(self.code_input, self.add_btn, sizing_mode="stretch_width"), self.msg, self.maps, self.listing, self.open_link,
                      pn.Row(self.pdf_btn, self.fhir_btn, sizing_mode="stretch_width"),
                      HTML(f"<p class='hv-muted'>{html.escape(t['logged'])}</p>", **html_kw),
                      max_width=760, sizing_mode="stretch_width", margin=(10, 18)),
            sizing_mode="stretch_width", margin=0)
        self.refresh()

    def __panel__(self):
        return self._layout

    def refresh(self, select: int | None = None) -> None:
        shared = self.clinic.shared_maps(self.clinician.id)
        self.maps.options = {f"{m.title} — {_when(m.updated)} (code {format_code(m.code)})": m.map_id for m in shared}
        if select is not None:
            self.maps.value = select
        elif shared and self.maps.value not in {m.map_id for m in shared}:
            self.maps.value = shared[0].map_id
        self.maps.visible = self.pdf_btn.visible = self.fhir_btn.visible = bool(shared)
        if not shared:
            self.listing.object = f"<p class='hv-help'>{html.escape(self.t['none_yet'])}</p>"
            self.open_link.object = ""
        else:
            self._on_pick()

    def _add(self, event=None) -> None:
        code = (self.code_input.value or "").strip()
        if not code:
            return
        try:
            m = self.clinic.claim(self.clinician.id, code)
        except (ClinicError, StoreError) as e:
            msg = getattr(e, "user_message", None) if isinstance(e, StoreError) else str(e)
            self.msg.object = f"<p class='hv-error' role='alert'>{html.escape(msg)}</p>"
            return
        self.code_input.value = ""
        self.msg.object = f"<p class='hv-muted' role='status'>{html.escape(self.t['added'].format(title=m.title))}</p>"
        self.refresh(select=m.map_id)

    def _read(self) -> PainMap | None:
        """The picked map's document (a logged read), or None with the reason shown."""
        map_id = self.maps.value
        if map_id is None:
            return None
        try:
            text = self.clinic.read_shared_map(self.clinician.id, int(map_id))
            try:
                return PainMap.from_json(text, self.ctx.labels)
            except PainMapError:
                return PainMap.from_json(text).model_copy(update={"vertex_paint": None})
        except (KeyError, StoreError, PainMapError) as e:
            msg = getattr(e, "user_message", None) or str(e)
            self.msg.object = f"<p class='hv-error' role='alert'>{html.escape(self.t['unreadable'].format(why=msg))}</p>"
            self.refresh()
            return None

    def _on_pick(self, event=None) -> None:
        map_id = self.maps.value
        self.listing.object = ""
        self.open_link.object = (f"<p><a class='hv-open' href='hipviz?shared={int(map_id)}' target='_blank' rel='noopener'>"
                                 f"{html.escape(self.t['open'])}</a></p>") if map_id is not None else ""

    def _pdf(self) -> io.BytesIO | None:
        from hipviz.app.summary_pdf import pdf_file
        pm = self._read()
        return pdf_file(pm, self.ctx.atlas) if pm is not None else None

    def _fhir(self) -> io.BytesIO | None:
        from hipviz.fhir import bundle_json_bytes
        pm = self._read()
        return io.BytesIO(bundle_json_bytes(pm, atlas=self.ctx.atlas)) if pm is not None else None


def signed_in_clinician(clinic: Clinic) -> Clinician | None:
    doc = pn.state.curdoc
    ctx = getattr(doc, "session_context", None) if doc is not None else None
    return clinic.clinician_for(clinician_cookie(ctx)) if ctx is not None else None


def sign_in_prompt(pane_css: str = "") -> pn.viewable.Viewable:
    t = texts()["clinic_page"]
    return HTML(f"<div class='hv-header'><span class='hv-logo'>hipviz</span></div>"
                        f"<p class='hv-help' style='margin:18px'>{html.escape(t['sign_in_first'])} "
                        "<a class='hv-open' href='clinic/signin?note=expired'>Sign in</a></p>", sizing_mode="stretch_width", margin=0,
                        stylesheets=[pane_css] if pane_css else [])


@dataclass(frozen=True)
class SharedDocument:
    """A shared map a signed-in clinician opened on the body (read only in the app)."""

    map_id: int
    title: str
    text: str


def shared_document(clinic: Clinic, map_arg: str | None) -> SharedDocument | None:
    """The map `?shared=ID` names, if a signed-in clinician may read it (the read is logged)."""
    if not map_arg or not map_arg.isdigit():
        return None
    clinician = signed_in_clinician(clinic)
    if clinician is None:
        return None
    map_id = int(map_arg)
    entry = next((m for m in clinic.shared_maps(clinician.id) if m.map_id == map_id), None)
    if entry is None:
        return None
    try:
        return SharedDocument(map_id, entry.title, clinic.read_shared_map(clinician.id, map_id))
    except (KeyError, StoreError) as e:
        log.warning("shared map %s: %s", map_id, e)
        return None
