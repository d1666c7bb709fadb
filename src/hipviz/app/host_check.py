"""Refuse any request whose Host header is not an address this server serves.

A page on another site can make its own name resolve to 127.0.0.1 (DNS rebinding). The browser
then treats the local server as that site: the Origin and Host headers both carry the foreign
name, so an origin check that compares the two lets it open a session. Checking the Host header
against the names the server was started for closes that door for every request, page and
websocket alike, before any handler runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tornado import httputil

log = logging.getLogger(__name__)

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host header values accepted for a server on host:port (lower case, with the port; the
    loopback names always, plus `extra` names such as a reverse proxy's public name). An extra
    name given without a port is accepted with this server's port and without one, as a proxy on
    the default port (80 or 443) sends it."""
    out = set()
    for n, bare_too in [*((n, False) for n in (host, *LOCAL_NAMES)), *((n, True) for n in extra)]:
        n = n.strip().lower()
        if not n:
            continue
        if n.count(":") > 1 and not n.startswith("["):       # a bare IPv6 address
            n = f"[{n}]"
        if n.rsplit("]", 1)[-1].count(":"):
            out.add(n)
        else:
            out.add(f"{n}:{port}")
            if bare_too:
                out.add(n)
    return frozenset(out)


class _Refuse(httputil.HTTPMessageDelegate):
    def __init__(self, conn: httputil.HTTPConnection, host: str):
        self.conn, self.host = conn, host

    def finish(self) -> None:
        body = f"hipviz does not serve the host name {self.host[:80]!r}.\n".encode()
        self.conn.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", 421, "Misdirected Request"),
            httputil.HTTPHeaders({"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)),
                                  "Connection": "close"}),
            body,
        )
        self.conn.finish()


class _Check(httputil.HTTPMessageDelegate):
    def __init__(self, inner_start, conn: httputil.HTTPConnection, allowed: frozenset[str]):
        self._start, self.conn, self.allowed = inner_start, conn, allowed
        self.delegate: httputil.HTTPMessageDelegate | None = None

    def headers_received(self, start_line, headers: httputil.HTTPHeaders):
        host = (headers.get("Host") or "").strip().lower()
        if host in self.allowed:
            self.delegate = self._start()
        else:
            log.warning("refused a request for host %r", host[:80])
            self.delegate = _Refuse(self.conn, host)
            return None
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes):
        if isinstance(self.delegate, _Refuse):
            return None
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()

    def on_connection_close(self) -> None:
        if self.delegate is not None:
            self.delegate.on_connection_close()


class HostCheck(httputil.HTTPServerConnectionDelegate):
    """Wraps the server's application: requests for other host names get 421 and nothing else."""

    def __init__(self, app: httputil.HTTPServerConnectionDelegate, allowed: frozenset[str]):
        self.app, self.allowed = app, allowed

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _Check(lambda: self.app.start_request(server_conn, request_conn), request_conn, self.allowed)

    def on_close(self, server_conn: object) -> None:
        self.app.on_close(server_conn)


def install(server, allowed: frozenset[str]) -> None:
    """Put the check in front of a Bokeh/Panel server's application (before it starts)."""
    http = server._http
    http.request_callback = HostCheck(http.request_callback, allowed)
