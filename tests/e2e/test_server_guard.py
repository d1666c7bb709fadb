"""The server answers only for the host names it serves (DNS rebinding), and a restarted server
gets its port back at once; static scripts (the app's vtk.js bundle among them) travel compressed."""

from __future__ import annotations

import gzip
import http.client
import sqlite3
from urllib.parse import urlparse

import pytest
from conftest import start_server, stop_server

from hipviz.app.viewer import vtk_js_url


def _get(url: str, host: str | None, path: str = "/hipviz", headers: dict | None = None) -> tuple[int, bytes]:
    u = urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        c.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            c.putheader("Host", host)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _people(db) -> int:
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT COUNT(*) FROM people").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_foreign_host_name_is_refused_before_any_page_is_made(server):
    port = urlparse(server.url).port
    before = _people(server.db)
    for host in (f"rebind.example:{port}", "rebind.example", f"127.0.0.1.rebind.example:{port}", "", f"localhost:{port + 1}"):
        status, body = _get(server.url, host)
        assert status == 421, (host, status)
        assert b"does not serve the host name" in body
    # the websocket too: an upgrade for a foreign name is refused
    status, _ = _get(server.url, f"rebind.example:{port}", "/hipviz/ws",
                     {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": f"http://rebind.example:{port}"})
    assert status == 421
    assert _people(server.db) == before
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert _get(server.url, host)[0] == 200, host


def test_a_restarted_server_gets_its_port_back_at_once(tmp_path):
    first = start_server(tmp_path / "a" if (tmp_path / "a").mkdir() is None else tmp_path)
    port = urlparse(first.url).port
    assert _get(first.url, None)[0] == 200      # a connection the server side closes: TIME_WAIT
    stop_server(first)
    (tmp_path / "b").mkdir()
    second = start_server(tmp_path / "b", port=port)
    try:
        assert urlparse(second.url).port == port and _get(second.url, None)[0] == 200
    finally:
        stop_server(second)


@pytest.mark.parametrize("path", ["/static/js/bokeh.min.js", "/" + vtk_js_url()])
def test_static_scripts_travel_compressed(server, path):
    u = urlparse(server.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        c.request("GET", path, headers={"Accept-Encoding": "gzip"})
        r = c.getresponse()
        body = r.read()
        assert r.status == 200 and r.getheader("Content-Encoding") == "gzip"
        assert len(gzip.decompress(body)) > 3 * len(body)     # the script is several times smaller on the wire
    finally:
        c.close()


def test_the_page_loads_the_apps_own_vtk_bundle_not_panels(server):
    status, html = _get(server.url, None)
    assert status == 200
    assert vtk_js_url().encode() in html and b"abstractvtkplot" not in html
