"""One browser session's state, as parameterised objects whose changes are events.

- `BrushState`: how the next dab paints.
- `ViewState`: what the 3D view shows (paint or look, layers, skin opacity, one structure alone).
- `AnswersState`: the questionnaire as it stands, painted qualities and implied answers included
  (a stated age of 62 ticks "aged over 50"), so every control that shows an answer reads one value.
- `MapState`: the map being painted. Its `revision` event fires once per change; the document,
  the painted-area summary and the ranking derive from it and are computed once per revision.

Widgets are bound to these parameters both ways (`bind_widget`), and the panels watch the
parameters, never each other's widgets. No UI code is imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param

from hipviz import ddx
from hipviz.atlas.catalog import LAYERS
from hipviz.app.session import Answers, PaintSession
from hipviz.painmap import PainMap
from hipviz.vocabulary import vocabulary

SEX_VALUES = (None, "female", "male", "other")


class BrushState(param.Parameterized):
    radius_cm = param.Number(3.0, bounds=(1.0, 10.0), step=0.5, doc="Brush radius on the skin")
    intensity = param.Integer(6, bounds=(0, 10), doc="0 = none, 10 = worst")
    quality = param.Selector(default=None, objects=list(vocabulary().qualities), allow_None=True,
                             doc="The feel the paint records; None until the person picks one")
    eraser = param.Boolean(False)


class ViewState(param.Parameterized):
    paint_mode = param.Boolean(False, doc="Paint (True) or look around (False)")
    layers = param.ListSelector(default=list(LAYERS), objects=list(LAYERS))
    skin_opacity = param.Number(1.0, bounds=(0.05, 1.0), step=0.05)
    isolated = param.String("", doc="The one structure shown alone ('' = everything)")
    picked = param.String(None, allow_None=True, doc="The structure last clicked")
    register = param.Selector(default="patient", objects=["patient", "clinician"],
                              doc="Who reads: plain words and bands, or the probabilities and the numbers behind them")

    def enter_paint_mode(self) -> None:
        """Painting needs the skin, visible and solid enough to see the paint on."""
        changes: dict[str, Any] = {}
        if "skin" not in self.layers:
            changes["layers"] = [*self.layers, "skin"]
        if self.isolated and self.isolated != "skin":
            changes["isolated"] = ""
        if self.skin_opacity < 0.6:
            changes["skin_opacity"] = 1.0
        if changes:
            self.param.update(**changes)

    def see_inside(self, inside: bool) -> None:
        if inside:
            self.param.update(isolated="", layers=list(LAYERS), skin_opacity=0.3)
        else:
            self.skin_opacity = 1.0


class AnswersState(param.Parameterized):
    """The questionnaire as shown: answered or painted qualities, answers and what they imply."""

    qualities = param.ListSelector(default=[], objects=list(vocabulary().qualities))
    aggravators = param.ListSelector(default=[], objects=list(vocabulary().aggravators))
    relievers = param.ListSelector(default=[], objects=list(vocabulary().relievers))
    red_flags = param.ListSelector(default=[], objects=list(vocabulary().red_flags))
    findings = param.ListSelector(default=[], objects=list(vocabulary().findings))
    negative_findings = param.ListSelector(default=[], objects=list(vocabulary().findings))
    age = param.Integer(None, allow_None=True, bounds=(0, 120))
    sex = param.Selector(default=None, objects=list(SEX_VALUES), allow_None=True)

    FIELDS = ("qualities", "aggravators", "relievers", "red_flags", "findings", "negative_findings", "age", "sex")

    @staticmethod
    def shown(answers: Answers, shown_qualities: list[str]) -> dict[str, Any]:
        """What the questionnaire shows for a session's answers and painted qualities."""
        return {"qualities": list(shown_qualities), "aggravators": list(answers.aggravators),
                "relievers": list(answers.relievers), "red_flags": list(answers.red_flags),
                "findings": list(answers.findings), "negative_findings": list(answers.negative_findings),
                "age": answers.age, "sex": answers.sex}

    def values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.FIELDS}

    def show(self, answers: Answers, shown_qualities: list[str]) -> None:
        """Show the session's answers (one event for all fields that changed)."""
        changed = {k: v for k, v in self.shown(answers, shown_qualities).items() if getattr(self, k) != v}
        if changed:
            self.param.update(**changed)


class MapState(param.Parameterized):
    """The map being painted (the paint session and which stored map it is), with what derives
    from it computed once per change."""

    revision = param.Integer(0, doc="Fires once per change of the paint or the answers")
    map_id = param.Integer(None, allow_None=True, doc="None: a blank map, not stored yet")

    def __init__(self, session: PaintSession, **params):
        super().__init__(**params)
        self.session = session
        self._derived: dict[str, tuple[Any, Any]] = {}

    def announce(self) -> None:
        """Tell the watchers that the map changed: one event, however many dabs it took."""
        if self.revision == self.session.revision:
            self.param.trigger("revision")
        else:
            self.revision = self.session.revision

    def _once(self, name: str, key: Any, make: Callable[[], Any]) -> Any:
        got = self._derived.get(name)
        if got is None or got[0] != key:
            got = (key, make())
            self._derived[name] = got
        return got[1]

    def ranked_map(self) -> PainMap:
        """The map as the ranking reads it (regions and answers, no per-vertex paint)."""
        return self._once("ranked_map", self.session.revision, lambda: self.session.painmap(with_vertex_paint=False))

    def ranking(self) -> ddx.Result:
        """The ranking; a change that leaves the regions and answers as they were (a stroke over
        regions already painted at that strength) is not ranked again."""
        pm = self.ranked_map()
        return self._once("ranking", pm.to_json(indent=None), lambda: ddx.rank(pm))

    def summary(self) -> dict:
        """The painted area by region."""
        return self._once("summary", self.session.revision, self.session.summary)

    def document(self) -> str:
        """The stored document (with the per-vertex paint)."""
        return self._once("document", self.session.revision, lambda: self.session.painmap().to_json(indent=None))


class SessionState:
    """Everything one browser session shows, in one place."""

    def __init__(self, session: PaintSession, skin_opacity: float = 1.0):
        self.brush = BrushState()
        self.view = ViewState(skin_opacity=skin_opacity)
        self.answers = AnswersState()
        self.map = MapState(session)


def bind_widget(widget: param.Parameterized, obj: param.Parameterized, name: str, to_widget: Callable[[Any], Any] = lambda v: v,
                from_widget: Callable[[Any], Any] = lambda v: v) -> None:
    """Keep `widget.value` and `obj.<name>` equal, whichever changes (no loop: equal values
    fire no event)."""
    widget.value = to_widget(getattr(obj, name))

    def to_obj(event) -> None:
        v = from_widget(event.new)
        if getattr(obj, name) != v:
            setattr(obj, name, v)

    def to_w(event) -> None:
        v = to_widget(event.new)
        if widget.value != v:
            widget.value = v

    widget.param.watch(to_obj, "value")
    obj.param.watch(to_w, name)


__all__ = ["AnswersState", "BrushState", "MapState", "SessionState", "ViewState", "bind_widget"]
