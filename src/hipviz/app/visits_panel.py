"""Visit to visit in the app: pick an earlier and a later map of the same person, see both on the
body at once, the change per body area, and a chart of all the person's maps.

One `VisitsPanel` per browser session, owned by the `HipvizApp`. It only reads stored maps; the
open map is saved (as any change would be) before a comparison starts, and neither map is ever
written by it. While comparing, the viewer's skin shows the comparison layer of `SkinLayers`;
leaving it shows the open map again from the camera the person had before.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import logging

import numpy as np
import panel as pn

from hipviz.app.camera import Camera, parse_camera
from hipviz.app.html_pane import HTML
from hipviz.app.page import Page
from hipviz.app.store import MapInfo
from hipviz.app.visit_colours import comparison_rgb, visit_css, visit_style
from hipviz.app.visits_chart import chart_data, visits_chart
from hipviz.compare import MapComparison, compare_intensities
from hipviz.painmap import PainMap, PainMapError, migrate_vertex_paint
from hipviz.referral import painted_intensity_on
from hipviz.visits import VisitPoint, default_pair, facing_view, in_visit_order, previous_of, visit_point

log = logging.getLogger(__name__)

VIEWS = ("anterior", "posterior", "left", "right")   # whole-body presets: both maps fit in the view
CACHE_MAPS = 64     # stored maps kept read (per session), by id and version


def read_stored(document: str, labels, atlas) -> PainMap:
    """A stored map as a PainMap on this skin: paint from an earlier skin is carried over where
    the atlas ships a vertex map, else its painted areas (regions) are kept; an unreadable
    document reads as an empty map (it stays unchanged in the database)."""
    try:
        return PainMap.from_json(document, labels)
    except PainMapError:
        pass
    try:
        pm = PainMap.from_json(document)
    except PainMapError:
        return PainMap.from_dict({"format": "hipviz-painmap", "version": 1})
    migration = (atlas.skin_migration(pm.vertex_paint.skin_sha256)
                 if pm.vertex_paint is not None and hasattr(atlas, "skin_migration") else None)
    if migration is not None:
        return migrate_vertex_paint(pm, *migration, labels)
    return pm.model_copy(update={"vertex_paint": None})


def _date(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%d %b %Y")


def _signed(x: float, digits: int, none: str) -> str:
    s = f"{x:+.{digits}f}".replace("-", "−")
    return none if float(f"{x:.{digits}f}") == 0 else s


class VisitsPanel:
    """The "Compare two maps" section of My maps, the comparison box of the right column, and
    the comparison shown on the main viewer."""

    def __init__(self, app: Page, pane_css: str = "", button_css: str = ""):
        self.app = app
        self.ctx = app.ctx
        self.style = visit_style()
        self._pane_css = [c for c in (pane_css, visit_css()) if c]
        self._button_css = [button_css] if button_css else []
        self.active = False
        self.pair: tuple[int, int] | None = None     # (earlier, later) map ids being compared
        self.comparison: MapComparison | None = None
        self.comparisons_made = 0                    # comparisons computed (each pair once)
        self._read: dict[tuple[int, int], tuple[PainMap, np.ndarray]] = {}
        self._compared: dict[tuple[int, int, int, int], MapComparison] = {}
        self._camera_before: Camera | None = None
        self._updating = False
        self._maps: list[MapInfo] = []
        self._tab_open = False     # the tab with the pickers and the chart is showing
        self._chart_drawn: tuple | None = None   # (points, earlier, later) the chart shows
        self._build()

    # ---- widgets -----------------------------------------------------------------------------
    def _h(self, text: str = "", **kw) -> HTML:
        kw.setdefault("sizing_mode", "stretch_width")
        kw.setdefault("stylesheets", self._pane_css)
        return HTML(text, **kw)

    def _build(self) -> None:
        t = self.style.texts
        self.earlier = pn.widgets.Select(label=t["earlier"], options={}, sizing_mode="stretch_width")
        self.later = pn.widgets.Select(label=t["later"], options={}, sizing_mode="stretch_width")
        self.start_btn = pn.widgets.Button(label=t["start"], color="primary", stylesheets=self._button_css,
                                           sizing_mode="stretch_width", disabled=True)
        self.section_note = self._h("")
        self.chart = pn.pane.Bokeh(None, sizing_mode="stretch_width", visible=False, css_classes=["hv-vchart"])
        self.chart_note = self._h(f"<p class='hv-muted'>{html.escape(t['chart_empty'])}</p>")

        self.leave_btn = pn.widgets.Button(label=t["leave"], stylesheets=self._button_css, sizing_mode="stretch_width",
                                           css_classes=["hv-vleave"])
        self.show_btn = pn.widgets.RadioButtonGroup(
            label=t["show"], options={t["show_both"]: "both", t["show_earlier"]: "before", t["show_later"]: "after"},
            value="both", color="light", sizing_mode="stretch_width", stylesheets=self._button_css)
        self.title = self._h("")
        self.legend = self._h(self._legend_html())
        self.totals = self._h("")
        self.table = self._h("")
        self.pdf_btn = pn.widgets.FileDownload(callback=self.pdf_file, filename="hipviz-summary-since.pdf", label=t["pdf"],
                                               color="success", stylesheets=self._button_css, sizing_mode="stretch_width")

        self.start_btn.on_click(lambda e: self.start())
        self.leave_btn.on_click(lambda e: self.leave())
        self.earlier.param.watch(self._on_pick, "value")
        self.later.param.watch(self._on_pick, "value")
        self.show_btn.param.watch(lambda e: self._show_on_body(), "value")
        a = self.app
        a.state.view.param.watch(self._on_paint_mode, "paint_mode")
        a.maps_select.param.watch(self._on_open_other, "value")
        a.maps_select.param.watch(lambda e: self.refresh(chart=self._tab_open or self.active), "options")
        a.new_map_btn.on_click(lambda e: self.active and self.leave(restore_camera=False))

    def maps_section(self) -> pn.Column:
        """For the My maps tab: the two pickers, the compare button and the chart."""
        t = self.style.texts
        return pn.Column(
            self._h(f"<h4 class='hv-h'>{html.escape(t['section'])}</h4><p class='hv-help'>{html.escape(t['section_help'])}</p>"),
            self.earlier, self.later, self.start_btn, self.section_note,
            self._h(f"<h4 class='hv-h'>{html.escape(t['chart_heading'])}</h4>"), self.chart, self.chart_note,
            sizing_mode="stretch_width", margin=0, css_classes=["hv-visits"],
        )

    def compare_box(self) -> pn.Column:
        """For the right column: what changed between the two maps."""
        t = self.style.texts
        return pn.Column(
            self.leave_btn, self._h(f"<h3 class='hv-h'>{html.escape(t['heading'])}</h3>"), self.title,
            self.show_btn, self.legend, self.totals, self.table, self.pdf_btn,
            sizing_mode="stretch_width", margin=0, visible=False, css_classes=["hv-compare"],
        )

    def attach(self, tools: pn.Tabs, tab: pn.viewable.Viewable) -> None:
        """Refresh the pickers and the chart whenever `tab` (the one holding them) is opened."""
        def on_tab(event) -> None:
            self._tab_open = 0 <= event.new < len(tools.objects) and tools.objects[event.new] is tab
            if self._tab_open:
                self.refresh()
        tools.param.watch(on_tab, "active")

    def _legend_html(self) -> str:
        c, t = self.style.colours, self.style.texts
        both = (f"background: repeating-linear-gradient(135deg, {c['earlier']} 0 5px, {c['later']} 5px 10px)")
        items = [(f"background: {c['earlier']}", t["legend_earlier"]), (f"background: {c['later']}", t["legend_later"]),
                 (both, t["legend_both"])]
        spans = "".join(f"<span><i class='hv-swatch' style='{s}'></i>{html.escape(label)}</span>" for s, label in items)
        return f"<div class='hv-vlegend'>{spans}</div><p class='hv-vnote'>{html.escape(t['legend_note'])}</p>"

    # ---- the person's maps -------------------------------------------------------------------
    def refresh(self, chart: bool = True) -> None:
        """Pickers (and the chart, which reads every map) from the stored maps."""
        app = self.app
        self._maps = in_visit_order(app.store.list_maps(app.token))
        opts = {f"{m.title} — {_date(m.created)}": m.id for m in self._maps}
        pair = self.pair if self.pair and all(i in opts.values() for i in self.pair) else default_pair(self._maps, app.map_id)
        self._updating = True
        try:
            self.earlier.options = opts
            self.later.options = opts
            if pair is not None:
                self.earlier.value, self.later.value = pair
        finally:
            self._updating = False
        self.start_btn.disabled = pair is None
        t = self.style.texts
        self.section_note.object = "" if pair is not None else f"<p class='hv-muted'>{html.escape(t['need_two'])}</p>"
        if self.active and (self.pair is None or not all(i in opts.values() for i in self.pair)):
            self.leave(restore_camera=False)     # a compared map was deleted
        if chart:
            self._refresh_chart()

    def _read_map(self, m) -> tuple[PainMap, np.ndarray]:
        """A stored map and its per-vertex intensity, read once per version."""
        key = (int(m.id), int(m.version))
        got = self._read.get(key)
        if got is None:
            stored = self.app.store.get_map(self.app.token, m.id)
            key = (int(stored.id), int(stored.version))
            labels = self.app.session.labels
            pm = read_stored(stored.document, labels, self.ctx.atlas)
            got = (pm, painted_intensity_on(pm, labels))
            if len(self._read) >= CACHE_MAPS:
                self._read.pop(next(iter(self._read)))
            self._read[key] = got
        return got

    def points(self) -> list[VisitPoint]:
        labels = self.app.session.labels
        return [visit_point(m.id, m.title, m.created, self._read_map(m)[1], labels) for m in self._maps]

    def _refresh_chart(self) -> None:
        if not self._maps:
            self.chart.visible = False
            self.chart_note.visible = True
            return
        earlier, later = self.pair if self.active and self.pair else (None, None)
        points = self.points()
        drawn = (tuple(points), earlier, later)
        if drawn == self._chart_drawn:
            return
        source = self._chart_source()
        if source is not None and self._chart_drawn is not None and self._chart_drawn[0] == drawn[0]:
            source.data = chart_data(points, earlier, later, self.style)   # only the marks of the pair moved
        else:
            self.chart.object = visits_chart(points, earlier, later, self.style)
        self._chart_drawn = drawn
        self.chart.visible = True
        self.chart_note.visible = False

    def _chart_source(self):
        grid = self.chart.object
        if grid is None:
            return None
        return next((r.data_source for p, _, _ in grid.children for r in p.renderers), None)

    def previous_map(self, map_id: int | None) -> tuple[PainMap | None, _dt.date | None]:
        """The map started before `map_id` and its date (the PDF's "since last time"), or Nones."""
        maps = self.app.store.list_maps(self.app.token)
        prev = previous_of(maps, map_id)
        if prev is None:
            return None, None
        return self._read_map(prev)[0], _dt.date.fromtimestamp(prev.created)

    # ---- comparing -----------------------------------------------------------------------------
    def _on_pick(self, event) -> None:
        if self._updating:
            return
        if self.active:
            self._compare()

    def _ordered_pair(self) -> tuple[tuple[MapInfo, MapInfo] | None, str]:
        t = self.style.texts
        by_id = {m.id: m for m in self._maps}
        b, a = by_id.get(self.earlier.value), by_id.get(self.later.value)
        if b is None or a is None:
            return None, t["need_two"]
        if b.id == a.id:
            return None, t["same_map"]
        note = ""
        if (b.created, b.id) > (a.created, a.id):
            b, a = a, b
            note = t["swapped"]
            self._updating = True
            try:
                self.earlier.value, self.later.value = b.id, a.id
            finally:
                self._updating = False
        return (b, a), note

    def start(self) -> bool:
        """Show the two picked maps on the body, the change and the chart."""
        app = self.app
        app.session.end_stroke()
        app.maps.save()
        self._maps = in_visit_order(app.store.list_maps(app.token))
        if not self.active:
            if app.teach.mode != "results":
                app.teach.deselect()
            app.state.view.paint_mode = False
            self._camera_before = parse_camera(app.viewer.camera)
        self.active = True
        if not self._compare():
            self.active = False
            return False
        app.show_panel("compare")
        app.show_results()
        return True

    def _compare(self) -> bool:
        pair, note = self._ordered_pair()
        t = self.style.texts
        if pair is None:
            self.section_note.object = f"<p class='hv-vwarn' role='alert'>{html.escape(note)}</p>"
            return False
        self.section_note.object = f"<p class='hv-vwarn'>{html.escape(note)}</p>" if note else ""
        b, a = pair
        first = self.pair is None or not self.app.viewer.caption
        self.pair = (b.id, a.id)
        (_, ib), (_, ia) = self._read_map(b), self._read_map(a)
        key = (b.id, b.version, a.id, a.version)
        comp = self._compared.get(key)
        if comp is None:
            comp = compare_intensities(ib, ia, self.app.session.labels)
            self._compared[key] = comp
            self.comparisons_made += 1
        self.comparison = comp
        self._before, self._after = ib, ia
        self.app.viewer.caption = t["caption"]
        self.title.object = (f"<p class='hv-vtitle' data-earlier='{b.id}' data-later='{a.id}'>"
                             f"{html.escape(t['earlier'])}: <b>{html.escape(b.title)}</b>, {_date(b.created)}<br>"
                             f"{html.escape(t['later'])}: <b>{html.escape(a.title)}</b>, {_date(a.created)}</p>")
        self.totals.object = self._totals_html(comp)
        self.table.object = self._table_html(comp)
        self._show_on_body()
        if first or self.show_btn.value == "both":
            area = self.app.session.labels.vertex_area_cm2 * ((ib > 0) | (ia > 0))
            view = facing_view(self.ctx.skin_normals, area, self.ctx.payload.meta["views"], VIEWS) if first else None
            if view:
                self.app.viewer.set_view(view)
        self._refresh_chart()
        return True

    def _show_on_body(self) -> None:
        if not self.active or self.comparison is None:
            return
        layers = self.app.skin_layers
        layers.comparison = comparison_rgb(self.ctx.skin[0], self._before, self._after, self.show_btn.value, self.style)
        full = layers.full()
        self.app.viewer.set_skin_colours(np.arange(len(full)), full)
        self.app.sync_brush_preview()

    def leave(self, restore_camera: bool = True) -> None:
        """Back to the open map: its own colours, and the camera from before comparing."""
        if not self.active:
            return
        self.active = False
        app = self.app
        app.skin_layers.comparison = None
        full = app.skin_layers.full()
        app.viewer.set_skin_colours(np.arange(len(full)), full)
        app.sync_brush_preview()
        app.viewer.caption = ""
        if restore_camera and self._camera_before is not None:
            app.viewer.set_camera(self._camera_before)
        self._camera_before = None
        if app.teach.mode == "results":
            app.show_panel("results")
        self._refresh_chart()

    def panel_shown(self, mode: str) -> None:
        """The right column turned to something else (an explained condition): stop comparing."""
        if mode != "compare" and self.active:
            self.leave(restore_camera=False)

    def _on_paint_mode(self, event) -> None:
        if event.new and self.active:
            self.leave()

    def _on_open_other(self, event) -> None:
        if self.active and not self.app.maps.opening:
            self.leave(restore_camera=False)

    # ---- words -------------------------------------------------------------------------------
    def _totals_html(self, c: MapComparison) -> str:
        t = self.style.texts
        text = t["totals"].format(
            area_before=f"{c.total_area_before_cm2:.0f}", area_after=f"{c.total_area_after_cm2:.0f}",
            area_change=_signed(c.total_area_change_cm2, 0, t["no_change"]),
            worst_before=f"{c.worst_before:g}", worst_after=f"{c.worst_after:g}",
            worst_change=_signed(c.worst_change, 1, t["no_change"]))
        return (f"<p class='hv-vtotals' data-area-before='{c.total_area_before_cm2:.1f}' "
                f"data-area-after='{c.total_area_after_cm2:.1f}'>{html.escape(text)}</p>")

    def _table_html(self, c: MapComparison) -> str:
        t, words = self.style.texts, self.style.status
        if not c.regions:
            return f"<p class='hv-muted'>{html.escape(t['nothing'])}</p>"
        rows = []
        for r in c.regions:
            w = words.get(r.status, {"word": r.status, "mark": ""})
            rows.append(
                f"<tr data-region='{r.region}' data-side='{r.side}' data-status='{r.status}'>"
                f"<td>{html.escape(r.label)}</td>"
                f"<td class='hv-num'>{r.area_before_cm2:.0f} → <b>{r.area_after_cm2:.0f}</b></td>"
                f"<td class='hv-num'>{r.worst_before:g} → <b>{r.worst_after:g}</b></td>"
                f"<td class='hv-vstatus hv-vstatus-{r.status}'><span aria-hidden='true'>{html.escape(w['mark'])}</span> "
                f"{html.escape(w['word'])}</td></tr>")
        head = "".join(f"<th scope='col'>{html.escape(t[k])}</th>" for k in ("table_region", "table_area", "table_worst", "table_change"))
        return (f"<table class='hv-vtable'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                f"<p class='hv-vnote'>{html.escape(t['status_note'])}</p>")

    # ---- the summary with the change ----------------------------------------------------------
    def pdf_file(self) -> io.BytesIO | None:
        """The later map's one-page summary with a "since last time" section against the earlier."""
        from hipviz.app.summary_pdf import pdf_file

        if self.pair is None:
            return None
        by_id = {m.id: m for m in self._maps}
        b, a = by_id.get(self.pair[0]), by_id.get(self.pair[1])
        if b is None or a is None:
            return None
        try:
            return pdf_file(self._read_map(a)[0], self.ctx.atlas, previous=self._read_map(b)[0],
                            previous_date=_dt.date.fromtimestamp(b.created))
        except Exception as e:  # the page stays usable; say why there is no file
            log.exception("comparison PDF failed")
            self.totals.object += f"<p class='hv-error'>The summary could not be made: {html.escape(str(e))}</p>"
            return None


__all__ = ["VisitsPanel", "read_stored"]
