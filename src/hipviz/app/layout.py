"""The hipviz web app: the 3D viewer with its paint tools, view controls, questionnaire, maps and
results, wired to a PaintSession and the local SQLite store.

One `AppContext` per server process holds what all sessions share (the atlas, its packed scene,
the skin graph, the store); one `HipvizApp` per browser session holds that person's state.
"""

from __future__ import annotations

import html
import io
import logging
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import panel as pn
import param

from hipviz.app.a11y import AriaNames
from hipviz.app.body_views import BodyViews
from hipviz.app.clinic import Clinic
from hipviz.app.clinic_page import SharedDocument, shared_document
from hipviz.app.connection import ConnectionWatch
from hipviz.app.html_pane import HTML
from hipviz.app.plain_js import PlainJSComponent
from hipviz.app.results_panel import ResultsPanel
from hipviz.app.map_keeper import MapKeeper
from hipviz.app.maps_tab import MapsTab
from hipviz.app.share_panel import SharePanel
from hipviz.app.state import SessionState
from hipviz.app.texts import texts
from hipviz.app.overlay import SkinLayers
from hipviz.app.body_tab import BodyTab
from hipviz.app.paint_tab import PaintTab
from hipviz.app.questions_tab import QuestionsTab
from hipviz.app.scene import SKIN_ID, ScenePayload, payload_for
from hipviz.app.session import Answers, PaintSession, edge_graph, region_label
from hipviz.app.store import Store, new_token, valid_token
from hipviz.app.styles import (
    BASE_CSS, BIG_BUTTONS, GLOBAL_CSS, MAIN_CSS, PAGE_CSS, PANE_CSS, RESULTS_CSS, RESULTS_IN_TAB, RESULTS_TAB,
    TABS_CSS, VIEW_AREA_CSS,
)
from hipviz.app.summary_pdf import pdf_file
from hipviz.app.teach import TeachPanel
from hipviz.app.protocol import Dab, Pick
from hipviz.app.viewer import Viewer
from hipviz.app.visits_panel import VisitsPanel
from hipviz.normals import vertex_normals
from hipviz.painmap import PainMapError

log = logging.getLogger(__name__)

COOKIE = "hipviz_session"
LIVE_SUMMARY_S = 1.0      # during a long stroke, the painted area is refreshed once it is this stale


# a phone shows the page at its own width (without this it draws a 980 px page, shrunk)
PAGE_TEMPLATE = """{% block postamble %}<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#1f2a38">{% endblock %}"""


def page_template(vtk_url: str) -> str:
    """The page's template: PAGE_TEMPLATE, and vtk.js starting to load with the page (the 3D view
    waits for this script instead of loading vtk.js only once its own code runs)."""
    script = (f'<script async data-hipviz-vtk src="{html.escape(vtk_url, quote=True)}" '
              "onload=\"this.dataset.state='loaded'\" onerror=\"this.dataset.state='error'\"></script>")
    return PAGE_TEMPLATE.replace("{% endblock %}", script + "{% endblock %}")


class LayoutWatch(PlainJSComponent):
    """Tells Python whether the results are a tab of the tools on this screen (phones, narrow
    landscape windows), following rotation and resizing."""

    query = param.String(default=RESULTS_IN_TAB)
    results_in_tab = param.Boolean(default=False)

    _esm = """
    export function render({ model }) {
      const mq = window.matchMedia(model.query);
      const update = () => { if (model.results_in_tab !== mq.matches) model.results_in_tab = mq.matches; };
      update();
      mq.addEventListener("change", update);
      model.on("remove", () => mq.removeEventListener("change", update));
      const d = document.createElement("div");
      d.style.display = "none";
      return d;
    }
    """


class SessionKeeper(PlainJSComponent):
    """Keeps the session token in the page URL (?s=...&m=...) and in a cookie."""

    token = param.String(default="")
    map_id = param.Integer(default=None, allow_None=True, doc="None: a blank map, not stored yet")

    _esm = """
    export function render({ model }) {
      function apply() {
        const t = model.token;
        if (!t) return;
        document.cookie = `hipviz_session=${t}; Max-Age=31536000; Path=/; SameSite=Strict`;
        const url = new URL(window.location.href);
        url.searchParams.set("s", t);
        if (model.map_id) url.searchParams.set("m", String(model.map_id));
        else url.searchParams.delete("m");
        window.history.replaceState(null, "", url.toString());
      }
      apply();
      model.on("token", apply);
      model.on("map_id", apply);
      const d = document.createElement("div");
      d.style.display = "none";
      return d;
    }
    """


@dataclass
class AppContext:
    """What every session of one server shares."""

    atlas: object
    store: Store

    @cached_property
    def payload(self) -> ScenePayload:
        return payload_for(self.atlas)

    @cached_property
    def skin(self) -> tuple[np.ndarray, np.ndarray]:
        pd = self.atlas.polydata(SKIN_ID)
        tri = np.asarray(pd.faces).reshape(-1, 4)[:, 1:]
        return np.asarray(pd.points, np.float64), tri

    @cached_property
    def labels(self):
        return self.atlas.skin_labels()

    @cached_property
    def graph(self):
        return edge_graph(*self.skin)

    @cached_property
    def skin_normals(self) -> np.ndarray:
        """Outward unit normals of the skin vertices."""
        return vertex_normals(*self.skin)

    @cached_property
    def skin_colour(self) -> str:
        return self.atlas.manifest[SKIN_ID].colour

    @cached_property
    def clinic(self) -> Clinic:
        """Clinic mode on this store, one per process (its dummy hash for unknown user names is
        made once, so a sign-in costs the same whether or not the name exists)."""
        return Clinic(self.store)

    def new_session(self) -> PaintSession:
        pts, tri = self.skin
        return PaintSession(pts, tri, self.labels, base_colour=self.skin_colour, graph=self.graph)

    def warm_up(self) -> None:
        """Build the shared pieces (and the ranking model) before the first page is served."""
        _ = self.payload, self.graph, self.labels
        self.new_session().rank()


def _html(obj: str = "", **kw) -> HTML:
    kw.setdefault("stylesheets", [PANE_CSS])
    return HTML(obj, **kw)


def _doc_timers() -> dict:
    """Timer functions of the current server document (for debounced saves), or none outside a server."""
    doc = pn.state.curdoc
    if doc is None or getattr(doc, "session_context", None) is None:
        return {}

    def schedule(delay: float, fn):
        return doc.add_timeout_callback(fn, int(delay * 1000))

    return {"schedule": schedule, "cancel": doc.remove_timeout_callback}


def _arg(name: str) -> str | None:
    args = pn.state.session_args or {}
    v = args.get(name)
    if not v:
        return None
    v = v[0]
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


class HipvizApp:
    """One browser session."""

    def __init__(self, ctx: AppContext, token: str | None = None, map_id: int | None = None,
                 shared: SharedDocument | None = None):
        self.ctx = ctx
        self.shared = shared               # a map shared with a clinician: shown, never saved
        self.store = ctx.store
        self.session = ctx.new_session()
        skin_entry = next(a for a in ctx.payload.meta["actors"] if a["id"] == SKIN_ID)
        self.state = SessionState(self.session, skin_opacity=float(skin_entry["opacity"]))
        self.skin_layers = SkinLayers(self.session)
        self._stroke_key = None
        self._unshown_since: float | None = None     # when paint not yet in the painted area was made
        self._unconfirmed: list[np.ndarray] = []     # painted vertices whose colours the page drew itself
        self._presenter = False
        self._save_note = ""               # the header's save status (html)
        self.token, self.state.map.map_id = (new_token(), None) if shared else self._resolve_session(token, map_id)
        self._build_widgets()
        self.maps = MapKeeper(store=self.store, token=self.token, session=self.session, state=self.state, viewer=self.viewer,
                              tab=self.maps_tab, atlas=ctx.atlas, read_only=shared is not None, loaded=self._on_loaded,
                              set_save_note=self._set_save_note, timers=_doc_timers())
        self.teach = TeachPanel(self)
        self.visits = VisitsPanel(self, pane_css=PANE_CSS, button_css=BIG_BUTTONS)
        self._build_columns()
        self._wire()
        doc = pn.state.curdoc
        if doc is not None and getattr(doc, "session_context", None) is not None:
            doc.on_session_destroyed(lambda session_context: self.maps.page_gone())
        self.viewer.set_actors(self._visibility())
        if shared is None:
            self.maps.open_map(self.map_id, initial=True)
        else:
            self.maps.show_document(shared.text, None, 1, initial=True, map_label=shared.map_id)
            self._set_save_note(f"<span class='hv-save' role='status'>"
                                f"{html.escape(texts()['share']['read_only'].format(title=shared.title))}</span>")

    # ---- session identity ----------------------------------------------------------------
    def _resolve_session(self, token: str | None, map_id: int | None) -> tuple[str, int | None]:
        """Who this is and which map opens. The cookie decides who this is; a link's token counts
        only in a browser without one, so following a link never swaps a person's maps for
        someone else's. Nothing is stored yet: a person and a map are written only once
        something is painted or answered (`MapKeeper.save`), so visits and probes leave no rows."""
        if token is None:
            cookie = (pn.state.cookies or {}).get(COOKIE)
            token = cookie if valid_token(cookie) else _arg("s")
            m = _arg("m")
            if map_id is None and m and m.isdigit():
                map_id = int(m)
        if not valid_token(token):
            return new_token(), None
        ids = {m.id for m in self.store.list_maps(token)}
        if map_id not in ids:
            map_id = self.store.latest_map(token)
        return token, map_id

    @property
    def map_id(self) -> int | None:
        """The map open now (the map state holds it; MapKeeper changes it)."""
        return self.state.map.map_id

    @property
    def isolated(self) -> str | None:
        return self.state.view.isolated or None

    def _document(self) -> str:
        return self.state.map.document()

    # ---- widgets -------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.viewer = Viewer(self.ctx.payload, sizing_mode="stretch_both", min_height=220, link="main")
        self.body_views = BodyViews(self)    # the body chart and the region list, beside the 3D body
        self.view_area = pn.Row(self.viewer, sizing_mode="stretch_both", margin=0, stylesheets=[VIEW_AREA_CSS])
        self.view_box = pn.Column(self.body_views.switch, self.view_area, *self.body_views.panels(), sizing_mode="stretch_both",
                                  margin=0, css_classes=["hv-view"],
                                  stylesheets=[VIEW_AREA_CSS])
        self.layout_watch = LayoutWatch(width=0, height=0, margin=0)
        # a clinician viewing a shared map gets no patient cookie
        self.keeper = SessionKeeper(token="" if self.shared else self.token, map_id=self.map_id, width=0, height=0, margin=0)
        self.connection = ConnectionWatch.from_texts(width=0, height=0, margin=0)

        # the tools' tabs; their controls show the session state
        self.paint_tab = PaintTab(self.state)
        self.body_tab = BodyTab(self.state, self.ctx.payload.meta, lambda name: self.viewer.set_view(name))
        self.questions_tab = QuestionsTab(self.state)
        self.maps_tab = MapsTab(lambda: self.maps.export_json(), self.fhir_file,
                                SharePanel(self.ctx.clinic, lambda: (self.token, self.map_id), stylesheets=[BIG_BUTTONS],
                                           visible=self.shared is None))
        # the tabs' controls by their names, as the wiring below and the tests know them
        for tab in (self.paint_tab, self.body_tab, self.questions_tab, self.maps_tab):
            for name, w in vars(tab).items():
                if not name.startswith("_") and (isinstance(w, pn.viewable.Viewable | pn.viewable.Viewer) or name == "view_buttons"):
                    setattr(self, name, w)

        self.state.map.param.watch(lambda e: setattr(self.keeper, "map_id", e.new), "map_id")

    def _wire(self) -> None:
        v = self.viewer
        v.on_dab(self._on_dab)
        v.on_stroke_end(self._on_stroke_end)
        v.on_stroke_cancel(self._on_stroke_cancel)
        v.on_pick(self._on_pick)
        v.on_camera(lambda cam: self.maps.camera_changed(cam))
        v.on_key(self._on_key)
        st = self.state
        st.view.param.watch(self._on_mode, "paint_mode")
        st.brush.param.watch(self._on_brush, ["radius_cm", "intensity", "quality", "eraser"])
        self.undo_btn.on_click(lambda e: self._apply_change(self.session.undo()))
        self.redo_btn.on_click(lambda e: self._apply_change(self.session.redo()))
        self.clear_btn.on_click(lambda e: self._apply_change(self.session.clear()))
        st.view.param.watch(self._on_layers, "layers")
        st.view.param.watch(self._on_skin_opacity, "skin_opacity")
        st.view.param.watch(self._on_isolate, "isolated")
        st.answers.param.watch(self._on_answers, list(st.answers.FIELDS))
        self.png_btn.on_click(lambda e: self.viewer.snapshot(f"hipviz-{time.strftime('%Y%m%d-%H%M%S')}.png"))
        self._on_brush()

    # ---- painting -----------------------------------------------------------------------
    def _on_mode(self, event=None) -> None:
        paint = self.state.view.paint_mode
        self.viewer.paint_mode = paint
        if paint:
            self.state.view.enter_paint_mode()

    def _on_brush(self, *events) -> None:
        b, s = self.session.brush, self.state.brush
        b.radius_cm, b.intensity, b.quality, b.eraser = float(s.radius_cm), float(s.intensity), s.quality, bool(s.eraser)
        self.sync_brush_preview()

    def sync_brush_preview(self) -> None:
        """Tell the page how to draw a dab itself: the brush's radius and colour (nothing while
        two maps are compared, whose colours are not the paint's)."""
        s = self.session
        self.viewer.brush = ({} if self.skin_layers.comparison is not None
                             else {"radius": s.brush_radius_m(), "rgb": list(s.brush_rgb())})

    def _on_dab(self, dab: Dab, key: object = None) -> None:
        """The hot path (about 10 messages a second per painting person): paint, and only now
        and then, during a long stroke, the recoloured vertices, the painted area and a save.
        They wait for the oldest change they have not covered to reach their age, so a short
        stroke does none of them (its stroke end does all) and a busy server does no more of them
        than an idle one. The 3D view has drawn the dab itself; the 2D chart waits for its colours."""
        drawn_by_page = key is None and bool(self.viewer.brush)
        key = key if key is not None else (self.viewer.ready_count, dab.stroke)
        changed = self.session.dab(dab.vertices(), key=key)
        if not changed.size:
            return
        self._unconfirmed.append(changed)
        if not drawn_by_page:
            self._confirm_colours()
        now = time.monotonic()
        if self._unshown_since is None:
            self._unshown_since = now
        elif now - self._unshown_since >= LIVE_SUMMARY_S:
            self._confirm_colours()
            self._refresh_painted()
        self.maps.note_paint(now)

    def _on_key(self, action: str) -> None:
        """Ctrl+Z / Ctrl+Y undo and redo a stroke; in presenter mode the arrow keys and the
        space bar step through the explained path."""
        if action == "undo":
            self._apply_change(self.session.undo())
        elif action == "redo":
            self._apply_change(self.session.redo())
        elif action == "next":
            self.teach.step()
        elif action == "previous":
            self.teach.step_back()

    def _on_stroke_cancel(self, stroke: int) -> None:
        idx = self.session.cancel_stroke(key=(self.viewer.ready_count, stroke))
        if idx.size:
            self._apply_change(idx)

    def _on_stroke_end(self, stroke: int) -> None:
        self.session.end_stroke()
        self._after_change()

    def _apply_change(self, idx: np.ndarray) -> None:
        if idx.size:
            self.viewer.set_skin_colours(*self.skin_layers.display(idx))
        self._after_change()

    def _confirm_colours(self) -> None:
        """Send the server's colours of the paint changed since they were last sent."""
        if self._unconfirmed:
            idx, self._unconfirmed = np.concatenate(self._unconfirmed), []
            self.viewer.set_skin_colours(*self.skin_layers.display(idx))

    def _after_change(self) -> None:
        # one patch to the browser for all of it (colours, buttons, status, painted area, ranking)
        self._confirm_colours()
        with pn.io.hold():
            self.undo_btn.disabled = not self.session.can_undo()
            self.redo_btn.disabled = not self.session.can_redo()
            self._answers_to_widgets()
            self.maps.save()
            self._map_changed()

    def _on_pick(self, pick: Pick) -> None:
        entry = next((a for a in self.ctx.payload.meta["actors"] if a["id"] == pick.structure), None)
        if entry is None:
            return
        what = html.escape(entry.get("what") or "")
        region = ""
        if pick.structure == SKIN_ID and 0 <= pick.point < self.session.n_vertices:
            lab = self.session.labels
            r = int(lab.region[pick.point])
            if r >= 0:
                from hipviz.painmap import REGION_IDS, SIDE_NAMES
                region = f"<p>Body area: <b>{html.escape(region_label(REGION_IDS[r], SIDE_NAMES[int(lab.side[pick.point])]))}</b></p>"
        self.info.object = f"<div class='hv-info'><h3>{html.escape(entry['name'])}</h3>{region}<p>{what}</p></div>"
        self.state.view.picked = pick.structure
        self.alone_btn.visible = pick.structure != self.isolated
        # explore: a click on a structure (not the skin) tells about it, unless a condition is explained
        if pick.structure != SKIN_ID and self.teach.mode != "explain":
            self.teach.explore(pick.structure)

    def _build_columns(self) -> None:
        """The right column (results, explain, explore) and the header."""
        self.results_panel = ResultsPanel(self.state.map, self.state.view, lambda cid: self.teach.select(cid, self.teach._side_for(cid)),
                                          self.pdf_file)
        rp = self.results_panel
        self.alerts, self.painted, self.ranking, self.ranking_note, self.ask_next, self.pdf_btn = (
            rp.alerts, rp.painted, rp.ranking, rp.ranking_note, rp.ask_next, rp.pdf_btn)
        self.results_box = rp.__panel__()
        # what else follows a change of the map: the body chart's ticks, the overlap with an
        # explained pattern, the dot on the phone's Results tab
        self.state.map.param.watch(self._on_revision, "revision")
        self.view_box.insert(0, self.teach.presenter_bar)     # shown in presenter mode only
        self.explain_box = self.teach.explain_box()
        self.explore_box = self.teach.explore_box()
        self.compare_box = self.visits.compare_box()
        self.results = pn.Column(
            self.teach.exit_presenter, self.results_box, self.explain_box, self.explore_box, self.compare_box,
            _html(f"<p class='hv-disclaimer'>{html.escape(_disclaimer())}</p>", sizing_mode="stretch_width"),
            _html(f"<p class='hv-credit'>3D anatomy: {html.escape(_credit(self.ctx.atlas))}</p>", sizing_mode="stretch_width"),
            width=360, sizing_mode="stretch_height", scroll=True, css_classes=["hv-results"], stylesheets=[RESULTS_CSS],
        )
        self.header = _html(self._header_html(), sizing_mode="stretch_width", height=52, margin=0, css_classes=["hv-top"])

    # ---- explain, explore, presenter, summary ---------------------------------------------
    def restore_actors(self) -> None:
        """The painting view's actors: the layers that are on, default colours and opacities."""
        changes = self._visibility()
        for a in self.ctx.payload.meta["actors"]:
            op = float(self.state.view.skin_opacity) if a["id"] == SKIN_ID else float(a["opacity"])
            if self.isolated and a["id"] == self.isolated:
                op = 1.0 if a["id"] != SKIN_ID else op
            changes[a["id"]] = {**changes[a["id"]], "opacity": op, "colour": a["colour"]}
        self.viewer.set_actors(changes)

    def show_panel(self, mode: str) -> None:
        """Right column: the results (ranking), an explained condition, or an explored structure."""
        self.results_box.visible = mode == "results"
        self.explain_box.visible = mode == "explain"
        self.explore_box.visible = mode == "explore"
        self.compare_box.visible = mode == "compare"
        self.visits.panel_shown(mode)
        if mode != "results":
            self.body_views.switch.value = "3d"     # paths, labels and the camera are shown in 3D
            self.show_results()

    def set_presenter(self, on: bool) -> None:
        """Presenter mode: the 3D view takes the width, with the presenter bar above it (pick a
        condition, step its path, leave); where the results are a tab (a phone), the tools stay
        instead, with the Learn tab's conditions and the switch back out."""
        in_tab = self.layout_watch.results_in_tab
        if hasattr(self, "tools"):
            self.tools.visible = not on or in_tab
        self.results.visible = not on or in_tab
        self.teach.presenter_bar.visible = on and not in_tab
        self.results.css_classes = ["hv-results", "presenter"] if on else ["hv-results"]
        self._presenter = on
        self.header.object = self._header_html(on, self._save_note)

    @staticmethod
    def _header_html(presenter: bool = False, save_note: str = "") -> str:
        big = " hv-big" if presenter else ""
        return (f"<div class='hv-header{big}'><span class='hv-logo'>hipviz</span>"
                "<span class='hv-tagline hv-long'>Show where it hurts on the body — educational, not a diagnosis</span>"
                f"<span class='hv-tagline hv-short'>Educational, not a diagnosis</span>{save_note}</div>")

    def _set_save_note(self, note: str) -> None:
        """The save status in the header, seen on every tab and layout."""
        self._save_note = note
        self.header.object = self._header_html(self._presenter, note)

    def pdf_file(self) -> io.BytesIO | None:
        """The one-page summary of the current map, made here (no network)."""
        self.session.end_stroke()
        self.maps.save()
        try:
            previous, previous_date = self.visits.previous_map(self.map_id)   # "since last time"
            return pdf_file(self.session.painmap(), self.ctx.atlas, previous=previous, previous_date=previous_date)
        except Exception as e:  # the page stays usable; say why there is no file
            log.exception("summary PDF failed")
            self.saved_msg.object = f"<p class='hv-error'>The summary could not be made: {html.escape(str(e))}</p>"
            return None

    def fhir_file(self) -> io.BytesIO | None:
        """The current map as a FHIR R4 Bundle (answers, one Observation per painted region, the
        PDF summary), made here; a record system can read it, where the PDF is only a picture."""
        from hipviz.fhir import bundle_json_bytes

        self.session.end_stroke()
        self.maps.save()
        try:
            return io.BytesIO(bundle_json_bytes(self.session.painmap(), atlas=self.ctx.atlas))
        except Exception as e:  # the page stays usable; say why there is no file
            log.exception("FHIR bundle failed")
            self.saved_msg.object = f"<p class='hv-error'>The record-system file could not be made: {html.escape(str(e))}</p>"
            return None

    # ---- view ---------------------------------------------------------------------------
    def _visibility(self) -> dict[str, dict]:
        """Which actors show: the layers that are on, or the one isolated structure. A solid skin
        covers everything else, so what lies beneath is not drawn at all (faster, and nothing
        pokes through the skin)."""
        out = {}
        layers = set(self.state.view.layers)
        covered = "skin" in layers and self.state.view.skin_opacity >= 0.99
        for a in self.ctx.payload.meta["actors"]:
            if self.isolated:
                vis = a["id"] == self.isolated
            elif a["id"] == SKIN_ID:
                vis = "skin" in layers
            else:
                vis = a["layer"] in layers and bool(a["visible"]) and not covered
            out[a["id"]] = {"visible": vis}
        return out

    def _on_skin_opacity(self, event) -> None:
        changes = self._visibility()
        changes[SKIN_ID] = {**changes[SKIN_ID], "opacity": float(event.new)}
        self.viewer.set_actors(changes)

    def _on_layers(self, event=None) -> None:
        self.viewer.set_actors(self._visibility())

    def _on_isolate(self, event) -> None:
        self.viewer.set_actors(self._visibility())
        if self.isolated:
            self.viewer.set_actor(self.isolated, opacity=1.0 if self.isolated != SKIN_ID else self.state.view.skin_opacity)

    # ---- questionnaire --------------------------------------------------------------------
    def _on_answers(self, *events) -> None:
        """The person changed an answer: the session takes it (or says why not), and the
        questionnaire shows what it implies (age 62 -> "aged over 50")."""
        a, s = self.state.answers, self.session
        if a.values() == a.shown(s.answers, s.shown_qualities()):
            return                          # the questionnaire shows the session as it is
        painted = s.painted_qualities()
        answers = Answers(
            # painted qualities are shown ticked and count through the paint; keep only the rest
            qualities=[q for q in a.qualities if q not in painted], aggravators=list(a.aggravators),
            relievers=list(a.relievers), red_flags=list(a.red_flags), findings=list(a.findings),
            negative_findings=[f for f in a.negative_findings if f not in a.findings], age=a.age, sex=a.sex)
        if answers.to_dict() == s.answers.to_dict():
            self._answers_to_widgets()
            return
        try:
            s.set_answers(**{k: getattr(answers, k) for k in a.FIELDS})
        except PainMapError as e:
            self.saved_msg.object = f"<p class='hv-error'>{html.escape(str(e))}</p>"
            return
        self._answers_to_widgets()
        self.maps.save()
        self._map_changed()

    def _on_loaded(self, changed: np.ndarray) -> None:
        """The map was opened or merged from the store: recolour what changed, show its answers
        and its undo history, and tell everything that shows the map."""
        if changed.size:
            self.viewer.set_skin_colours(*self.skin_layers.display(changed))
        self._answers_to_widgets()
        self.undo_btn.disabled = not self.session.can_undo()
        self.redo_btn.disabled = not self.session.can_redo()
        self._map_changed()

    def _answers_to_widgets(self) -> None:
        """The questionnaire shows the answers as they stand, painted qualities included."""
        self.state.answers.show(self.session.answers, self.session.shown_qualities())

    # ---- results ------------------------------------------------------------------------
    def _refresh_painted(self) -> None:
        """The painted area and the body chart's ticks, during a long stroke (the ranking waits
        for the stroke's end)."""
        self._unshown_since = None
        self.body_views.refresh()
        self.results_panel.refresh_painted()

    def _map_changed(self) -> None:
        """Tell everything that shows the map that it changed (one event; each panel refreshes)."""
        self.state.map.announce()

    def _on_revision(self, event=None) -> None:
        self._unshown_since = None
        self.body_views.refresh()
        self.teach.refresh_overlap()
        self._tools_classes()

    @property
    def last_result(self):
        """The ranking of the map as it stands (computed once per change)."""
        return self.state.map.ranking()

    # ---- layout -------------------------------------------------------------------------
    def view(self) -> pn.viewable.Viewable:
        self.maps_tab.visits_slot.objects = [self.visits.maps_section()]
        # on a phone the results are a tab of the tools (an empty one: picking it shows the
        # results column under the tab strip); elsewhere this tab is hidden
        results_tab = pn.Spacer(name="Results", height=0, margin=0)
        tabs = [self.paint_tab.__panel__(), self.body_tab.__panel__(), self.questions_tab.__panel__(), self.teach.learn_tab(), self.maps_tab.__panel__()]
        # tabs to read and answer rather than to work on the body: on a portrait screen they get
        # most of the height, the view above them shrinks (styles.READING_VIEW_SHARE)
        self._reading_tabs = {id(t) for t in tabs[2:]}
        tabs.insert(RESULTS_TAB, results_tab)
        # dynamic: only the open tab is built (a page built every tab: 214 models, 0.64 s of server
        # time per page; with this, 98 models and 0.34 s); the others are built when opened
        tools = pn.Tabs(*tabs, width=340, sizing_mode="stretch_height", css_classes=["hv-tools"], stylesheets=[TABS_CSS],
                        dynamic=True)
        self.tools = tools
        self.visits.attach(tools, self.maps_tab.__panel__())
        self.main = pn.Row(tools, self.view_box, self.results, sizing_mode="stretch_both", margin=0,
                           css_classes=["hv-main"], stylesheets=[MAIN_CSS])
        tools.param.watch(self._on_tab, "active")
        self.layout_watch.param.watch(self._on_layout, "results_in_tab")
        self._tools_classes()
        # warning-sign alerts sit under the header, above everything else, on every layout and
        # in every mode: never inside a column or a tab that may be closed
        return pn.Column(self.header, self.alerts, self.main, self.keeper, self.layout_watch, self.connection,
                         AriaNames(width=0, height=0, margin=0), sizing_mode="stretch_both", margin=0,
                         stylesheets=[BASE_CSS, PAGE_CSS])

    # ---- narrow screens -------------------------------------------------------------------
    @property
    def results_open(self) -> bool:
        """On a phone: the Results tab is picked (the results show under the tab strip)."""
        return getattr(self, "tools", None) is not None and self.tools.active == RESULTS_TAB

    def _on_tab(self, event=None) -> None:
        classes = ["hv-main"]
        if self.results_open:
            classes.append("hv-show-results")
        elif id(self.tools.objects[self.tools.active]) in self._reading_tabs:
            classes.append("hv-reading")
        self.main.css_classes = classes
        self._tools_classes()

    def _tools_classes(self) -> None:
        if getattr(self, "tools", None) is None:
            return
        classes = ["hv-tools"]
        if self.results_open:
            classes.append("hv-results-open")
        if self.ranking.items:
            classes.append("hv-has-results")      # a dot on the Results tab: there is something to see
        if classes != self.tools.css_classes:
            self.tools.css_classes = classes

    def _on_layout(self, event=None) -> None:
        self.results_panel.compact = self.layout_watch.results_in_tab
        # the screen turned or grew so that the results have their own column again
        if not self.layout_watch.results_in_tab and self.results_open:
            self.tools.active = 0
        if self._presenter:
            self.set_presenter(True)

    def show_results(self) -> None:
        """Bring the results into view where they are a tab (explaining, exploring)."""
        if getattr(self, "tools", None) is not None and self.layout_watch.results_in_tab:
            self.tools.active = RESULTS_TAB


def _credit(atlas) -> str:
    """The anatomy data's attribution line, as the atlas manifest gives it."""
    raw = getattr(atlas, "raw", None) or {}
    line = raw.get("inputs", {}).get("bodyparts3d", {}).get("attribution") if isinstance(raw, dict) else None
    return line or ("BodyParts3D, © The Database Center for Life Science licensed under CC Attribution-Share Alike 2.1 "
                    "Japan")


def _disclaimer() -> str:
    from hipviz.ddx import DISCLAIMER
    return DISCLAIMER


def create_app(ctx: AppContext) -> pn.viewable.Viewable:
    """A new session's page (call inside a Panel server session). `?shared=ID` from a signed-in
    clinician opens that shared map read only."""
    shared = shared_document(ctx.clinic, _arg("shared")) if _arg("shared") else None
    app = HipvizApp(ctx, shared=shared)
    page = app.view()
    if pn.state.curdoc is not None:
        pn.state.curdoc.template = page_template(app.viewer.vtk_url)
    page._hipviz_app = app
    return page


def configure_panel() -> None:
    """Panel settings for the app (resources are served by the local Panel server)."""
    pn.extension(notifications=False)
    pn.config.reconnect = False      # a lost page reloads once the server is back (see app/connection.py)
    if GLOBAL_CSS not in pn.config.raw_css:
        pn.config.raw_css = [*pn.config.raw_css, GLOBAL_CSS]
