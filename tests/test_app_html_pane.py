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


def test_a_pane_in_a_closed_tab_keeps_its_stylesheets_on_this_server():
    """With the tools' tabs built when opened, a pane of a closed tab has a model outside the
    document; a text change then must not resolve its stylesheets against Panel's CDN."""
    from panel.io.resources import CDN_DIST

    doc = Document()
    doc._template_variables["dist_url"] = "static/extensions/panel/"     # as the server sets it
    with set_curdoc(doc):
        pane = HTML("first")
        tabs = pn.Tabs(("Open", pn.pane.Markdown("x")), ("Closed", pn.Column(pane)), dynamic=True)
        root = tabs.get_root(doc)
        doc.add_root(root)
        tabs.active = 1
        tabs.active = 0                     # the closed tab's models leave the document
        model = pane._models[root.ref["id"]][0]
        assert model.document is None
        pane.object = "second"
    urls = [s.url for s in model.stylesheets if isinstance(s, ImportedStyleSheet)]
    assert urls and not [u for u in urls if u.startswith(CDN_DIST)], urls
