"""Serving the app: one shared context per process, one page per browser session.

`HIPVIZ_DB` says where the pain maps are kept: a SQLite file (default:
~/.local/share/hipviz/hipviz.sqlite3) or a postgresql:// URL (see hipviz.app.store).
With `num_procs` > 1 the server forks after the shared context is built: the children share the
atlas pages, and each opens its own database connections (the store keeps no state a process
needs from another: every change is in the database when the call returns).
`HIPVIZ_ATLAS_FACTORY="module:function"` replaces the shipped atlas with another object of the
same interface (the test suite uses it to serve a small fake body).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from collections.abc import Iterable

from hipviz.app.file_open import MAX_IMPORT_BYTES
from hipviz.app.store import Store

#: the largest websocket message the server reads: an imported file plus room for JSON escaping
MAX_WS_MESSAGE_BYTES = 2 * MAX_IMPORT_BYTES + 64 * 1024

_CTX = None
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def _load_atlas():
    factory = os.environ.get("HIPVIZ_ATLAS_FACTORY")
    if factory:
        mod, _, fn = factory.partition(":")
        return getattr(importlib.import_module(mod), fn)()
    from hipviz.atlas.meshes import load_atlas
    return load_atlas()


def context(db_path: str | os.PathLike | None = None):
    """The process-wide AppContext (atlas, packed scene, skin graph, store), built once."""
    global _CTX
    from hipviz.app.layout import AppContext
    with _LOCK:
        if _CTX is None:
            _CTX = AppContext(_load_atlas(), Store(db_path))
            _CTX.warm_up()
        return _CTX


def page():
    """A fresh page for one browser session."""
    from hipviz.app.layout import configure_panel, create_app
    configure_panel()
    return create_app(context())


def clinic_page():
    """The clinician's page for one browser session: the maps shared with the signed-in
    clinician, or a link to sign in."""
    from hipviz.app.clinic_page import ClinicPage, sign_in_prompt, signed_in_clinician
    from hipviz.app.layout import PAGE_TEMPLATE, configure_panel
    from hipviz.app.styles import BIG_BUTTONS, PANE_CSS
    import panel as pn

    configure_panel()
    if pn.state.curdoc is not None:
        pn.state.curdoc.template = PAGE_TEMPLATE
    clinic = context().clinic
    clinician = signed_in_clinician(clinic)
    if clinician is None:
        return pn.Column(sign_in_prompt(PANE_CSS), sizing_mode="stretch_width")
    return pn.Column(ClinicPage(context(), clinic, clinician, stylesheets=[BIG_BUTTONS], pane_css=PANE_CSS),
                     sizing_mode="stretch_width")


def websockets_without_delay() -> None:
    """Turn Nagle's algorithm off on the server's websockets, as they open.

    Bokeh writes every message as several websocket frames (header, metadata, content, then two
    per binary buffer) and leaves Nagle's algorithm on, so after the first small frame the rest
    wait for the browser's delayed ACK: about 40 ms added to every reply on Linux, whatever the
    load (the load benchmark's dab -> reply median went from 47 ms to 9 ms with a few painters).
    Browsers already send with TCP_NODELAY; this makes the server answer the same way."""
    from bokeh.server.views.ws import WSHandler

    if getattr(WSHandler.open, "_hipviz_nodelay", False):
        return
    original = WSHandler.open

    @functools.wraps(original)
    def open(self, *args, **kwargs):
        try:
            self.set_nodelay(True)
        except Exception as e:  # noqa: BLE001 - a socket option is never worth a connection
            log.debug("websocket: TCP_NODELAY not set: %s", e)
        return original(self, *args, **kwargs)

    open._hipviz_nodelay = True
    WSHandler.open = open


def build_server(port: int = 5006, host: str = "127.0.0.1", db: str | os.PathLike | None = None,
                 allow_hosts: Iterable[str] = (), **kwargs):
    """A started (not yet looping) Panel server for the app on host:port; the shared context is
    built first, so the first page does not wait for the atlas; static files are compressed once
    and the compressed copy kept (`gzip_cache`). Requests for a host name other
    than the ones served are refused (`host_check`), no websocket message may exceed
    `MAX_WS_MESSAGE_BYTES`, and websockets send without delay (`websockets_without_delay`).
    `/liveness` answers without building a page (for health checks)."""
    import panel as pn

    from hipviz.app import clinic_web, gzip_cache, host_check
    from hipviz.app.static_files import static_dirs

    os.environ.setdefault("BOKEH_RESOURCES", "server")
    # Bokeh checks every new page's document for authoring mistakes (about 16 ms of the server's
    # single thread per page); the tests check a page's document once (test_app_layout)
    os.environ.setdefault("BOKEH_VALIDATE_DOC", "false")
    websockets_without_delay()
    context(db)
    allowed = host_check.allowed_hosts(host, port, allow_hosts)
    server = pn.serve(
        {"hipviz": page, "clinic": clinic_page}, port=port, address=host, show=False, title="hipviz",
        # Bokeh's origin list cannot hold an IPv6 literal; the host check covers it
        websocket_origin=sorted(h for h in allowed if not h.startswith("[")),
        websocket_max_message_size=MAX_WS_MESSAGE_BYTES, liveness=True, start=False,
        # gzip every compressible response (Bokeh's and Panel's scripts were sent uncompressed),
        # and deflate websocket messages (the page's document is mostly text: styles, scripts)
        compress_response=True, websocket_compression_level=6,
        # clinician sign-in over HTTP (HttpOnly cookie), kept out of the session token that the
        # page's JavaScript can read (see app/clinic_web.py)
        extra_patterns=clinic_web.routes(lambda: context().clinic),
        static_dirs=static_dirs(),      # the app's own files (vtk.js)
        exclude_cookies=[clinic_web.CLINICIAN_COOKIE], exclude_headers=["Cookie"], **kwargs,
    )
    host_check.install(server, allowed)
    gzip_cache.install(server._tornado)      # each static file compressed once, not per page load
    server.start()
    return server


def serve(port: int = 5006, host: str = "127.0.0.1", db: str | os.PathLike | None = None, **kwargs) -> None:
    """Start the app and block until interrupted."""
    server = build_server(port, host, db, **kwargs)
    try:
        server.io_loop.start()
    finally:
        server.stop()
