"""The Questions tab: how the pain feels, what makes it worse or better, warning signs, age and
sex, and the examination findings for a clinician. Every control shows one field of
`AnswersState`; the app turns the answers into the session's."""

from __future__ import annotations

import panel as pn

from hipviz.app.html_pane import HTML
from hipviz.app.state import SessionState, bind_widget
from hipviz.app.styles import BIG_BUTTONS, CHECKS, FOLD_OUT_CSS, PANE_CSS
from hipviz.app.texts import texts
from hipviz.vocabulary import vocabulary

_W = {"sizing_mode": "stretch_width"}


def _checks(options: dict[str, str]) -> pn.widgets.CheckBoxGroup:
    return pn.widgets.CheckBoxGroup(options={label: k for k, label in options.items()}, stylesheets=[CHECKS], **_W)


class QuestionsTab(pn.viewable.Viewer):
    def __init__(self, state: SessionState, **params):
        super().__init__(**params)
        t, v = texts()["questions_tab"], vocabulary()
        self.q_qualities = _checks(v.qualities)
        self.q_aggravators = _checks(v.aggravators)
        self.q_relievers = _checks(v.relievers)
        self.q_red_flags = _checks(v.red_flags)
        self.q_age = pn.widgets.IntInput(label=t["age"], start=0, end=120, placeholder=t["age_hint"], **_W)
        self.q_sex = pn.widgets.RadioButtonGroup(label=t["sex"], options=t["sexes"], color="light", stylesheets=[BIG_BUTTONS], **_W)
        findings = {label: k for k, label in v.findings.items()}
        self.q_findings = pn.widgets.MultiChoice(label=t["found"], options=findings, **_W)
        self.q_negative = pn.widgets.MultiChoice(label=t["absent"], options=findings, **_W)
        for widget, name in ((self.q_qualities, "qualities"), (self.q_aggravators, "aggravators"), (self.q_relievers, "relievers"),
                             (self.q_red_flags, "red_flags"), (self.q_findings, "findings"), (self.q_negative, "negative_findings"),
                             (self.q_age, "age"), (self.q_sex, "sex")):
            bind_widget(widget, state.answers, name)

        def h(text: str) -> HTML:
            return HTML(f"<p class='hv-help'>{text}</p>", stylesheets=[PANE_CSS], **_W)

        def card(*objs, title: str, collapsed: bool) -> pn.Card:
            return pn.Card(*objs, title=title, collapsed=collapsed, stylesheets=[FOLD_OUT_CSS], **_W)

        self._layout = pn.Column(
            h(t["intro"]),
            card(self.q_qualities, title=t["qualities"], collapsed=False),
            card(self.q_aggravators, title=t["aggravators"], collapsed=True),
            card(self.q_relievers, title=t["relievers"], collapsed=True),
            card(h(t["red_flags_help"]), self.q_red_flags, title=t["red_flags"], collapsed=False),
            card(self.q_age, self.q_sex, title=t["about_you"], collapsed=False),
            card(h(t["clinicians_help"]), self.q_findings, self.q_negative, title=t["clinicians"], collapsed=True),
            name=t["name"], scroll=True, **_W,
        )

    def __panel__(self) -> pn.Column:
        return self._layout
