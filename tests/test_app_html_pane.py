"""The app's HTML pane: a text change does not make Bokeh walk the whole document."""

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import ImportedStyleSheet
from panel.io.state import set_curdoc

from hipviz.app.html_pane import HTML


def _recomputes_per_text_change(cls) -> tuple[int, object]:
    """Render a pane, then change its text while Panel hands over fresh but equal stylesheet
    models (as it does in a server session); count the document's model recomputations."""
    doc = Document()
    with set_curdoc(doc):
        pane = cls("first", stylesheets=[".x { color: red; }"])
        root = pn.Column(pane).get_root(doc)
        doc.add_root(root)
    get = pane._get_properties

    def fresh(d):
        props = get(d)
        props["stylesheets"] = [ImportedStyleSheet(url=s.url) if isinstance(s, ImportedStyleSheet) else s
                                for s in props["stylesheets"]]
        return props

    pane._get_properties = fresh
    count = [0]
    recompute = doc.models.recompute

    def counted():
        count[0] += 1
        recompute()

    doc.models.recompute = counted
    with set_curdoc(doc):
        pane.object = "second"
    return count[0], pane._models[root.ref["id"]][0]


def test_a_text_change_leaves_the_document_alone():
    n, model = _recomputes_per_text_change(HTML)
    assert n == 0 and model.text == "second"


def test_panel_pane_would_walk_the_document():
    """The cost this pane avoids (if Panel stops paying it, HTML can go)."""
    if not any(isinstance(s, ImportedStyleSheet) for s in pn.pane.HTML("x").get_root(Document()).stylesheets):
        pytest.skip("this Panel imports no stylesheet models into a pane")
    n, _ = _recomputes_per_text_change(pn.pane.HTML)
    assert n >= 1


def test_a_changed_stylesheet_still_reaches_the_page():
    doc = Document()
    with set_curdoc(doc):
        pane = HTML("a", stylesheets=[".x { color: red; }"])
        root = pn.Column(pane).get_root(doc)
        doc.add_root(root)
        pane.stylesheets = [".x { color: blue; }"]
        pane.object = "b"
    model = pane._models[root.ref["id"]][0]
    assert ".x { color: blue; }" in model.stylesheets and model.text == "b"
