"""Explain a candidate and teach the anatomy: the panels and their wiring to the viewer.

One `TeachPanel` per browser session, owned by the `HipvizApp`. It drives the main viewer (and
a linked textbook view when side by side) from the UI-free `Explainer` and `SkinLayers`.
"""

from __future__ import annotations

import html
import logging
from functools import lru_cache

import numpy as np
import panel as pn

from hipviz import explain, referral
from hipviz.app.camera import Camera, parse_camera
from hipviz.app.cards import (
    CARD_CSS,
    card_html,
    overlap_html,
    path_html,
    structure_html,
)
from hipviz.app.explainer import Explainer
from hipviz.app.html_pane import HTML
from hipviz.app.overlay import Territories, territory_colour, textbook_colours
from hipviz.app.page import Page
from hipviz.app.scene import SKIN_ID
from hipviz.app.state import bind_widget
from hipviz.app.styles import BACK_BUTTON_CSS, PANE_CSS, PLAY_BUTTON_CSS, PRESENTER_CSS, TEACH_BUTTON_CSS
from hipviz.app.viewer import Viewer
from hipviz.app.widgets import ClickList
from hipviz.knowledge.loader import knowledge
from hipviz.render.views import close_ups

log = logging.getLogger(__name__)

PLAY_PERIOD_MS = 1400
SKIN_MAPS = {"Off": "", "Dermatomes": "dermatome", "Skin nerves": "nerve"}


def _h(text: str, **kw) -> HTML:
    kw.setdefault("sizing_mode", "stretch_width")
    kw.setdefault("stylesheets", [PANE_CSS, CARD_CSS])
    return HTML(text, **kw)


class TeachPanel:
    """The explain view (right column), the Learn tab (left) and the side-by-side textbook view."""

    def __init__(self, app: Page):
        self.app = app
        self.ctx = app.ctx
        self.viewer: Viewer = app.viewer
        self.explainer = Explainer(self.ctx.atlas, self.ctx.payload.meta["actors"])
        self.available = _supports_referral(self.ctx.atlas)
        self.textbook: Viewer | None = None
        self._pattern = None             # pattern weights of the current selection (hatched on the skin)
        self._territories = None         # the skin map shown (dermatomes, skin nerves)
        self._cb = None                  # periodic callback while playing
        self.playing = False
        self._camera_before: Camera | None = None   # where the person looked from before explaining
        self.mode = "results"            # results | explain | explore
        self.skin_map = ""
        self._close_up: list[str] | None = None   # while a close-up shows: the layers from before it
        self._build()

    # ---- widgets -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.back_btn = pn.widgets.Button(label="← Back to painting", stylesheets=[BACK_BUTTON_CSS], sizing_mode="stretch_width")
        self.title = _h("")
        self.overlap = _h("")
        self.path = _h("")
        self.play_btn = pn.widgets.Button(label="▶ Play", stylesheets=[PLAY_BUTTON_CSS], sizing_mode="stretch_width",
                                          description="Light the path step by step")
        self.step_btn = pn.widgets.Button(label="Step ›", stylesheets=[PLAY_BUTTON_CSS], sizing_mode="stretch_width",
                                          description="Light the next step")
        self.still_btn = pn.widgets.Button(label="Show all", stylesheets=[PLAY_BUTTON_CSS], sizing_mode="stretch_width",
                                           description="The whole path and the zone at once")
        self.side_btn = pn.widgets.Toggle(label="Side by side: patient and textbook", value=False, stylesheets=[TEACH_BUTTON_CSS],
                                          sizing_mode="stretch_width", color="primary", variant="outline")
        self.register = pn.widgets.RadioButtonGroup(options={"For the patient": "patient", "For clinicians": "clinician"},
                                                    value="patient", color="light", sizing_mode="stretch_width",
                                                    stylesheets=[TEACH_BUTTON_CSS])
        self.card = _h("")
        self.pdf_btn2 = self._pdf_button()
        self.structure = _h("")
        self.structure_refers = ClickList(item_class="hv-refer", data_key="condition", sizing_mode="stretch_width")
        self.explore_back = pn.widgets.Button(label="← Back to painting", stylesheets=[BACK_BUTTON_CSS], sizing_mode="stretch_width")

        # Learn tab
        self.find_structure = pn.widgets.TextInput(label="Find a structure", placeholder="e.g. piriformis, sciatic, L5",
                                                   sizing_mode="stretch_width")
        self.structure_hits = ClickList(item_class="hv-struct", data_key="structure", sizing_mode="stretch_width")
        self.find_condition = pn.widgets.TextInput(label="Find a condition", placeholder="e.g. sciatica, bursitis, L4",
                                                   sizing_mode="stretch_width")
        self.condition_hits = ClickList(item_class="hv-cond", data_key="condition", sizing_mode="stretch_width",
                                        empty="No condition matches.")
        self.skin_map_btn = pn.widgets.RadioButtonGroup(label="Skin map", options=SKIN_MAPS, value="", color="light",
                                                        sizing_mode="stretch_width", stylesheets=[TEACH_BUTTON_CSS])
        self.legend = _h("", visible=False)
        self.presenter = pn.widgets.Toggle(label="Presenter mode (big text, tools hidden)", value=False,
                                           stylesheets=[TEACH_BUTTON_CSS], sizing_mode="stretch_width", color="primary")
        self.exit_presenter = pn.widgets.Button(label="Leave presenter mode", visible=False, stylesheets=[TEACH_BUTTON_CSS],
                                                sizing_mode="stretch_width")
        # presenter mode: a bar above the full-width view, to pick a condition and step its path
        # (the arrow keys and the space bar step too)
        self.presenter_pick = pn.widgets.Select(options={"Explain a condition…": "", **self._condition_options()}, value="",
                                                width=320, stylesheets=[PRESENTER_CSS])
        self.presenter_back = pn.widgets.Button(label="‹", description="The step before (←)", stylesheets=[PRESENTER_CSS], width=56)
        self.presenter_next = pn.widgets.Button(label="›", description="The next step (→ or space)", stylesheets=[PRESENTER_CSS],
                                                width=56)
        self.presenter_exit = pn.widgets.Button(label="Leave", description="Leave presenter mode", stylesheets=[PRESENTER_CSS],
                                                width=100)
        # a flex box that wraps: one line on a projector, two on a phone
        self.presenter_bar = pn.FlexBox(self.presenter_pick, self.presenter_back, self.presenter_next, self.presenter_exit,
                                        flex_wrap="wrap", align_items="center", visible=False, margin=(4, 4),
                                        sizing_mode="stretch_width", css_classes=["hv-presenter-bar"])
        views = self.ctx.payload.meta["views"]
        self.view_btns = []
        for name in self.ctx.payload.meta["presets"]:
            if name in views:
                b = pn.widgets.Button(label=views[name]["label"], stylesheets=[TEACH_BUTTON_CSS, ":host .bk-btn { font-size: 15px; padding: 4px; }"],
                                      sizing_mode="stretch_width", min_width=60)
                b.on_click(lambda e, n=name: self.set_view(n, restore=True))
                self.view_btns.append(b)
        for name in close_ups():     # close-ups also set the layers they need
            if name in views:
                b = pn.widgets.Button(label=views[name]["label"], description=views[name].get("description") or None,
                                      stylesheets=[TEACH_BUTTON_CSS, ":host .bk-btn { font-size: 15px; padding: 4px; }"],
                                      sizing_mode="stretch_width", min_width=60, css_classes=["hv-closeup"])
                b.on_click(lambda e, n=name: self.close_up(n))
                self.view_btns.append(b)

        self.back_btn.on_click(lambda e: self.deselect())
        self.explore_back.on_click(lambda e: self.deselect())
        self.play_btn.on_click(lambda e: self.play())
        self.step_btn.on_click(lambda e: self.step())
        self.still_btn.on_click(lambda e: self.still())
        self.side_btn.param.watch(lambda e: self.side_by_side(bool(e.new)), "value")
        bind_widget(self.register, self.app.state.view, "register")
        self.app.state.view.param.watch(lambda e: self._refresh_card(), "register")
        self.structure_refers.on_click(lambda cid: self.select(cid, self._side_for(cid)))
        self.find_structure.param.watch(lambda e: self._search_structures(e.new), "value_input")
        self.find_condition.param.watch(lambda e: self._search_conditions(e.new), "value_input")
        self.structure_hits.on_click(self.explore)
        self.condition_hits.on_click(lambda cid: self.select(cid, self._side_for(cid)))
        self.skin_map_btn.param.watch(lambda e: self.show_skin_map(e.new), "value")
        self.presenter.param.watch(lambda e: self.set_presenter(bool(e.new)), "value")
        self.exit_presenter.on_click(lambda e: setattr(self.presenter, "value", False))
        self.presenter_exit.on_click(lambda e: setattr(self.presenter, "value", False))
        self.presenter_back.on_click(lambda e: self.step_back())
        self.presenter_next.on_click(lambda e: self.step())
        self.presenter_pick.param.watch(lambda e: e.new and self.select(e.new, self._side_for(e.new)), "value")
        self._search_structures("")
        self._search_conditions("")

    def _pdf_button(self) -> pn.widgets.FileDownload:
        return pn.widgets.FileDownload(callback=self.app.pdf_file, filename="hipviz-summary.pdf",
                                       label="Download summary (PDF)", color="success", stylesheets=[TEACH_BUTTON_CSS],
                                       sizing_mode="stretch_width")

    def explain_box(self) -> pn.Column:
        return pn.Column(
            self.back_btn, self.title, self.overlap,
            _h("<h3 class='hv-h'>How the pain gets there</h3>"),
            pn.Row(self.play_btn, self.step_btn, self.still_btn, sizing_mode="stretch_width"),
            self.path, self.side_btn,
            _h("<h3 class='hv-h'>About this condition</h3>"), self.register, self.card, self.pdf_btn2,
            sizing_mode="stretch_width", visible=False, css_classes=["hv-explain"],
        )

    def explore_box(self) -> pn.Column:
        return pn.Column(self.explore_back, self.structure,
                         _h("<p class='hv-help'>Tap a condition to see how its pain travels.</p>"),
                         self.structure_refers, sizing_mode="stretch_width", visible=False, css_classes=["hv-explore"])

    def learn_tab(self) -> pn.Column:
        return pn.Column(
            _h("<p class='hv-help'>Click any part of the body, or find it here, to learn what it is and where its pain "
               "can be felt.</p>"),
            self.find_structure, self.structure_hits,
            _h("<h4 class='hv-h'>Skin map</h4>"), self.skin_map_btn, self.legend,
            _h("<h4 class='hv-h'>Turn the body to</h4>"),
            *[pn.Row(*self.view_btns[i:i + 2], sizing_mode="stretch_width") for i in range(0, len(self.view_btns), 2)],
            self.presenter,
            _h("<h4 class='hv-h'>Conditions</h4><p class='hv-help'>Pick one to see where it hurts and why.</p>"),
            self.find_condition, self.condition_hits,
            name="Learn", sizing_mode="stretch_width", scroll=True,
        )

    # ---- search ------------------------------------------------------------------------------
    def _search_structures(self, text: str) -> None:
        if not self.available:
            self.structure_hits.items = []
            return
        ids = referral.search_structures(text, self.ctx.atlas) if text and text.strip() else []
        self.structure_hits.empty = "No structure matches." if text and text.strip() else ""
        names = {a["id"]: a["name"] for a in self.ctx.payload.meta["actors"]}
        self.structure_hits.items = [{"id": i, "title": names.get(i, i)} for i in ids[:60] if i in names]

    def _search_conditions(self, text: str) -> None:
        k = knowledge()
        hits = dict(referral.search_conditions_matches(text or ""))  # condition -> everyday word matched
        self.condition_hits.items = [
            {"id": c, "title": k[c].condition.names.patient,
             "sub": (f"“{hits[c]}” · " if hits[c] else "") + k[c].condition.names.clinician} for c in
            sorted(hits, key=lambda c: k[c].condition.names.patient.lower())
        ]

    def _side_for(self, condition: str) -> str | None:
        res = getattr(self.app, "last_result", None)
        if res is not None:
            for c in res.candidates:
                if c.condition == condition:
                    return c.side if c.side in ("left", "right") else None
        return None

    # ---- explain a condition -----------------------------------------------------------------
    def select(self, condition: str, side: str | None = None) -> bool:
        """Explain a condition: highlight, camera, pattern overlay, path (still), card."""
        if not self.available:
            self.app.saved_msg.object = "<p class='hv-error'>Explanations need the full 3D body.</p>"
            return False
        self._stop()
        if not self.explainer.active:
            self._camera_before = parse_camera(self.viewer.camera)
        try:
            sel = self.explainer.select(condition, side)
        except (KeyError, ValueError) as e:
            log.warning("cannot explain %s: %s", condition, e)
            return False
        self._pattern = sel.weights
        self.mode = "explain"
        self.viewer.send_path(self.explainer.path_lines())
        if self.textbook is not None:
            self.textbook.send_path(self.explainer.path_lines())
            self.textbook.caption = f"Textbook pattern: {sel.clinician_name}"
            self._paint_textbook()
        self.set_view(sel.view)
        self._show_frame()
        side_txt = f" · {sel.side} side" if sel.side else ""
        self.title.object = (f"<div class='hv-xtitle' data-condition='{html.escape(sel.condition)}'><h2>{html.escape(sel.name)}</h2>"
                             f"<p class='hv-muted'>{html.escape(sel.clinician_name)}{side_txt}</p></div>")
        self._refresh_card()
        self.refresh_overlap()
        self.app.ranking.selected = condition
        self.app.show_panel("explain")
        return True

    def _refresh_card(self) -> None:
        sel = self.explainer.selection
        if sel is None:
            return
        self.card.object = card_html(explain.card(sel.condition), self.register.value)

    def refresh_overlap(self) -> None:
        sel = self.explainer.selection
        if sel is None:
            return
        painted = self.app.session.intensity > 0
        o = sel.overlap(painted)
        self.overlap.object = overlap_html(o, bool(painted.any()))
        self.last_overlap = o

    def _show_frame(self) -> None:
        ex = self.explainer
        f = ex.frame()
        targets = ex.actor_targets(f, set(self.app.state.view.layers))
        if self.skin_map:     # a labelled skin map reads only on a solid skin
            targets[SKIN_ID] = {**targets[SKIN_ID], "opacity": 1.0}
        self.viewer.set_actors(targets)
        sel = ex.selection
        if sel is not None:
            n = len(sel.path.steps)
            lit = list(range(min(f.index, n)))
            newest = [f.index - 1] if 1 <= f.index <= n else []
            self.viewer.path_frame(lit, newest)
            self.viewer.banner(f.caption)
            self.path.object = path_html(sel.path, f.step, f.zone)
            self.play_btn.label = "⏸ Pause" if self.playing else "▶ Play"
            if self.textbook is not None:
                self.textbook.set_actors(targets)
                self.textbook.path_frame(lit, newest)
        else:
            self.viewer.path_frame([], [])
            self.viewer.banner(f"{ex.description.name}" if ex.description else "")
        self.refresh_skin()

    def refresh_skin(self) -> None:
        """Recompute the skin layers and send the vertices whose colour changed."""
        ex = self.explainer
        f = ex.frame() if ex.active else None
        shows = ex.selection is not None or (ex.structure_weights is not None and ex.structure_weights.max() > 0)
        pattern = self._pattern if f is not None and f.zone and self.textbook is None and shows else None
        self.viewer.set_overlay(pattern, self._territories)
        full = self.app.skin_layers.full()
        self.viewer.set_skin_colours(np.arange(len(full)), full)

    # ---- the animation -----------------------------------------------------------------------
    def step(self) -> None:
        if self.explainer.selection is None:
            return
        self._stop()
        self.explainer.step()
        self._show_frame()

    def step_back(self) -> None:
        if self.explainer.selection is None:
            return
        self._stop()
        self.explainer.step_back()
        self._show_frame()

    def still(self) -> None:
        if self.explainer.selection is None:
            return
        self._stop()
        self.explainer.set_frame(self.explainer.n_frames - 1)
        self._show_frame()

    def play(self) -> None:
        """Start (or pause) the step-by-step animation; it ends on the still version."""
        if self.explainer.selection is None:
            return
        if self.playing:
            self._stop()
            self._show_frame()
            return
        self.playing = True
        self.explainer.set_frame(0)
        self._show_frame()
        try:
            self._cb = pn.state.add_periodic_callback(self.tick, period=PLAY_PERIOD_MS)
        except Exception:  # noqa: BLE001 - no server (tests): the caller drives tick()
            log.debug("no periodic callback; tick() is driven by the caller")
            self._cb = None

    def tick(self) -> None:
        ex = self.explainer
        if not self.playing or ex.selection is None:
            self._stop()
            return
        ex.set_frame(ex.frame_index + 1)
        if ex.frame_index >= ex.n_frames - 1:
            self._stop()
        self._show_frame()

    def _stop(self) -> None:
        self.playing = False
        if self._cb is not None:
            try:
                self._cb.stop()
            except Exception:  # noqa: BLE001 - already stopped with its session
                log.debug("periodic callback already stopped")
            self._cb = None
        self.play_btn.label = "▶ Play"

    # ---- explore a structure -----------------------------------------------------------------
    def explore(self, structure_id: str) -> bool:
        if not self.available:
            return False
        self._stop()
        if not self.explainer.active:
            self._camera_before = parse_camera(self.viewer.camera)
        try:
            d = self.explainer.explore(structure_id)
        except KeyError as e:
            log.warning("cannot describe %s: %s", structure_id, e)
            return False
        if self.textbook is not None:
            self.side_btn.value = False
        w = self.explainer.structure_weights
        self._pattern = w if w is not None and w.max() > 0 else None
        self.mode = "explore"
        self.viewer.send_path([])
        v = self.explainer.view()
        if v:
            self.set_view(v)
        self._show_frame()
        self.structure.object = structure_html(d)
        self.structure_refers.items = [
            {"id": c.condition, "title": c.name, "sub": ("starts here" if c.role == "source" else "passes through here")
             + f" · {c.clinician_name}", "go": "Explain ›"} for c in d.conditions]
        self.app.show_panel("explore")
        return True

    # ---- back to painting ------------------------------------------------------------------
    def deselect(self) -> None:
        self._stop()
        was = self.explainer.active
        self.explainer.clear()
        self._pattern = None
        if self.side_btn.value:
            self.side_btn.value = False
        self.viewer.send_path([])
        self.viewer.banner("")
        self.app.restore_actors()
        if was and self._camera_before is not None:
            self.viewer.set_camera(self._camera_before)   # the person's own view, not a preset
        self.refresh_skin()
        self.app.ranking.selected = ""
        self.mode = "results"
        self.app.show_panel("results")

    def set_view(self, name: str, restore: bool = False) -> None:
        """Turn the camera to a preset; `restore` (a view button) brings back the layers from
        before a close-up and undoes what it hid or made see-through."""
        if restore and self._close_up is not None:
            self.app.state.view.layers, self._close_up = self._close_up, None
            if self.explainer.active:
                self._show_frame()
            else:
                self.app.restore_actors()
        self.viewer.set_view(name)

    def close_up(self, name: str) -> None:
        """A close-up preset: its layers, the structures it hides or shows see-through, its camera."""
        v = self.ctx.payload.meta["views"][name]
        before = list(self.app.state.view.layers)
        self.app.state.view.param.update(isolated="", layers=list(v["layers"]))
        if self.explainer.active:
            self._show_frame()      # the highlight stays, on the close-up's layers
        else:
            self.viewer.set_actors(v.get("actors", {}))
        self.viewer.set_view(name)
        if self._close_up is None:
            self._close_up = before

    # ---- side by side --------------------------------------------------------------------------
    def side_by_side(self, on: bool) -> None:
        area = self.app.view_area
        if on and self.explainer.selection is not None:
            if self.textbook is None:
                sel = self.explainer.selection
                self.textbook = Viewer(self.ctx.payload, role="textbook", link="main", sizing_mode="stretch_both",
                                       min_height=420, caption=f"Textbook pattern: {sel.clinician_name}",
                                       presenter=self.viewer.presenter)
                self.textbook.set_actors({k: a.as_dict() for k, a in self.viewer.actors.items()})
                self.textbook.send_path(self.explainer.path_lines())
                lit, newest = self.viewer._path_frame
                self.textbook.path_frame(lit, newest)
                self._paint_textbook()
                self.viewer.caption = "This patient's pain map"
                area.append(self.textbook)
            self.refresh_skin()
        else:
            if self.textbook is not None:
                area.remove(self.textbook)
                self.textbook = None
            self.viewer.caption = ""
            if on:
                self.side_btn.value = False
            self.refresh_skin()

    def _paint_textbook(self) -> None:
        sel = self.explainer.selection
        if self.textbook is None or sel is None:
            return
        base = np.rint(self.app.session.base_rgb).astype(np.uint8)
        rgb = textbook_colours(base, sel.weights)
        self.textbook.set_skin_colours(np.arange(len(rgb)), rgb)

    # ---- skin maps and presenter mode ------------------------------------------------------------
    def show_skin_map(self, kind: str) -> None:
        self.skin_map = kind
        if not kind or not self.available:
            self._territories = None
            self.viewer.set_labels([])
            self.legend.visible = False
        else:
            t = referral.skin_territories(kind, self.ctx.atlas)
            self._territories = Territories.of(t.codes, self.ctx.graph)
            items = [{"text": name if kind == "dermatome" else name.capitalize(), "xyz": xyz, "n": n,
                      "colour": territory_colour(t.names.index(name))}
                     for name, xyz, n in territory_anchors(t, self.ctx.skin[0], self.ctx.skin_normals,
                                                          self.app.session.labels.side)]
            self.viewer.set_labels(items)
            what = ("Dermatomes: the skin supplied by each spinal nerve root. Borders vary between people"
                    + (f" ({html.escape(t.source)})" if t.source else "") + "."
                    if kind == "dermatome" else
                    "Skin nerves: the areas of the cutaneous nerves that hipviz draws.")
            self.legend.object = f"<p class='hv-help'>{what} The skin is shown solid while a skin map is on.</p>"
            self.legend.visible = True
        if self.explainer.active:
            self._show_frame()
            return
        if kind and self.app.state.view.skin_opacity < 1.0:
            self.app.state.view.skin_opacity = 1.0
        self.refresh_skin()

    def set_presenter(self, on: bool) -> None:
        self.viewer.presenter = on
        if self.textbook is not None:
            self.textbook.presenter = on
        self.exit_presenter.visible = on
        self.app.set_presenter(on)

    def _condition_options(self, chars: int = 36) -> dict[str, str]:
        """Every condition by its patient name (cut to `chars`, so that it reads whole in the
        presenter bar's 320 px picker), in the knowledge base's order."""
        def short(name: str) -> str:
            return name if len(name) <= chars else name[:chars - 1].rstrip(" ,(") + "…"
        return {short(entry.condition.names.patient): cid for cid, entry in knowledge().items()}


def territory_anchors(t, points: np.ndarray, normals: np.ndarray, side: np.ndarray, min_vertices: int = 40):
    """Label positions of skin territories: per territory, side and facing (front, back, outer
    side), the vertex nearest the middle of that patch, so a label shows from every view."""
    out = []
    facing = np.argmax(np.stack([normals[:, 0], -normals[:, 0], np.abs(normals[:, 2])]), axis=0)
    for code, name in enumerate(t.names):
        if name == "none":
            continue
        m = t.codes == code
        for sd in (0, 1, 2):
            for fc in (0, 1, 2):
                idx = np.flatnonzero(m & (side == sd) & (facing == fc))
                if idx.size < min_vertices:
                    continue
                c = points[idx].mean(0)
                j = int(idx[np.argmin(np.linalg.norm(points[idx] - c, axis=1))])
                out.append((name, points[j].tolist(), normals[j].tolist()))
    return out


@lru_cache(maxsize=4)
def _supports_referral(atlas) -> bool:
    """Whether the atlas has what referral paths need (the full atlas does; test stand-ins may not).
    Asked once per atlas, not on every page."""
    try:
        referral.select("gtps_gluteal_tendinopathy", "right", atlas)
        return True
    except Exception:   # noqa: BLE001 - any failure means: no explanations on this body
        return False
