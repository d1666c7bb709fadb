"""What the page (layout.HipvizApp) offers the panels built on it (teach.TeachPanel,
visits_panel.VisitsPanel): one typed list, so what a panel may touch is written down and checked,
instead of a reach into any member of the page. A new need is added here first."""

from __future__ import annotations

import io
from typing import Any, Protocol

from hipviz.app.html_pane import HTML
from hipviz.app.map_keeper import MapKeeper
from hipviz.app.overlay import SkinLayers
from hipviz.app.session import PaintSession
from hipviz.app.state import SessionState
from hipviz.app.store import Store
from hipviz.app.viewer import Viewer
from hipviz.app.widgets import ClickList


class Page(Protocol):
    ctx: Any               # layout.AppContext: the atlas and its packed scene (layout imports the panels)
    state: SessionState
    session: PaintSession
    viewer: Viewer
    store: Store
    token: str
    skin_layers: SkinLayers
    maps: MapKeeper
    teach: Any             # teach.TeachPanel, for the visits panel: what is explained now (mode, deselect)
    ranking: ClickList
    saved_msg: HTML
    view_area: Any         # the row that holds the 3D view (and the textbook view beside it)

    @property
    def map_id(self) -> int | None: ...

    def show_panel(self, mode: str) -> None: ...

    def show_results(self) -> None: ...

    def restore_actors(self) -> None: ...

    def set_presenter(self, on: bool) -> None: ...

    def sync_brush_preview(self) -> None: ...

    def pdf_file(self) -> io.BytesIO | None: ...
