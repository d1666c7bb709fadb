"""The small chart across all of a person's maps: painted area and worst pain per map over time,
two stacked Bokeh plots with one shared time axis; the two maps being compared are marked in
their colours. Bokeh's scripts come with the page Panel serves (no CDN)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from bokeh.layouts import gridplot
from bokeh.models import ColumnDataSource, DatetimeTickFormatter, HoverTool, Range1d

from hipviz.app.visit_colours import VisitStyle, visit_style
from hipviz.visits import VisitPoint

PLOT_HEIGHT = 132
#: tick labels that stay short at any span: days apart (visits) or minutes apart (one sitting)
DATES = dict(seconds="%H:%M:%S", minsec="%H:%M:%S", minutes="%H:%M", hourmin="%H:%M", hours="%H:%M",
             days="%d %b", months="%b %Y", years="%Y", context=None)
MARKER = 10
MARKER_PICKED = 15


def chart_data(points: Sequence[VisitPoint], earlier: int | None = None, later: int | None = None,
               style: VisitStyle | None = None) -> dict[str, list]:
    """The chart's columns: one row per map, in visit order, with its marker colour and size."""
    st = style or visit_style()
    pts = sorted(points, key=lambda p: (p.when, p.map_id))
    colour = {earlier: st.colours["earlier"], later: st.colours["later"]}
    return {
        "when": [_dt.datetime.fromtimestamp(p.when) for p in pts],
        "date": [_dt.datetime.fromtimestamp(p.when).strftime("%d %b %Y") for p in pts],
        "title": [p.title for p in pts],
        "map_id": [p.map_id for p in pts],
        "area": [round(p.area_cm2, 1) for p in pts],
        "worst": [round(p.worst, 1) for p in pts],
        "colour": [colour.get(p.map_id, st.colours["line"]) for p in pts],
        "size": [MARKER_PICKED if p.map_id in (earlier, later) else MARKER for p in pts],
    }


def visits_chart(points: Sequence[VisitPoint], earlier: int | None = None, later: int | None = None,
                 style: VisitStyle | None = None):
    """A Bokeh layout: painted area above, worst pain below, over the dates the maps were started."""
    from bokeh.plotting import figure

    st = style or visit_style()
    source = ColumnDataSource(chart_data(points, earlier, later, st), name="visits")
    hover = HoverTool(tooltips=[("", "@title"), ("started", "@date"), ("area", "@area cm²"), ("worst", "@worst/10")])
    plots = []
    x_range = None
    data = source.data
    top = max(data["area"], default=0.0) * 1.25 or 10.0      # room above the highest point for its marker
    for field, label, y_range in (("area", st.texts["chart_area"], Range1d(0, top)),
                                  ("worst", st.texts["chart_worst"], Range1d(-0.6, 10.8))):
        kw = {"x_range": x_range} if x_range is not None else {}
        p = figure(height=PLOT_HEIGHT, x_axis_type="datetime", tools=[hover], toolbar_location=None, sizing_mode="stretch_width",
                   title=label, **kw)
        p.y_range = y_range
        x_range = p.x_range
        p.line("when", field, source=source, color=st.colours["line"], line_width=2)
        p.scatter("when", field, source=source, size="size", fill_color="colour", line_color="#1f2a38", line_width=1.2)
        p.title.text_font_size = "13px"
        p.xaxis.major_label_text_font_size = "11px"
        p.yaxis.major_label_text_font_size = "11px"
        p.xaxis.formatter = DatetimeTickFormatter(**DATES)
        p.xaxis.ticker.desired_num_ticks = 4
        p.yaxis.ticker.desired_num_ticks = 4
        p.min_border_left = 36
        p.min_border_right = 16
        p.outline_line_color = None
        p.background_fill_color = "#fbfbfc"
        plots.append(p)
    if len(points) == 1:   # one day alone: show some time around it
        x0 = chart_data(points, style=st)["when"][0]
        plots[0].x_range = Range1d(x0 - _dt.timedelta(days=7), x0 + _dt.timedelta(days=7))
        plots[1].x_range = plots[0].x_range
    return gridplot([[p] for p in plots], toolbar_location=None, sizing_mode="stretch_width", merge_tools=False)


__all__ = ["chart_data", "visits_chart"]
