"""`hipviz serve` arguments (the server itself is exercised by the browser tests)."""

import socket

from hipviz.cli import build_parser, main
from hipviz.commands import serve


def test_serve_defaults_to_this_machine_only():
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == serve.DEFAULT_PORT and not args.no_browser and args.db is None
    args = build_parser().parse_args(["serve", "--port", "7001", "--db", "x.sqlite3", "--no-browser"])
    assert (args.port, args.db, args.no_browser) == (7001, "x.sqlite3", True)


def test_busy_explicit_port_is_a_usage_error(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port), "--no-browser"]) == 2
    assert "in use" in capsys.readouterr().err
    assert main(["serve", "--port", "70000", "--no-browser"]) == 2


def test_free_port_helpers():
    p = serve._free_port("127.0.0.1")
    assert serve._port_free("127.0.0.1", p)


def test_a_busy_default_port_is_an_error_not_a_silent_move(capsys, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        monkeypatch.setattr(serve, "DEFAULT_PORT", port)
        assert main(["serve", "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "already running" in err and f"http://127.0.0.1:{port}/hipviz" in err


def test_allowed_host_names():
    from hipviz.app.host_check import allowed_hosts
    a = allowed_hosts("127.0.0.1", 5006, ["Clinic.Example", "10.0.0.5:8080"])
    # a proxy's public name also without a port (a proxy on 80/443 sends it so); the loopback
    # names only with the port the server listens on
    assert {"127.0.0.1:5006", "localhost:5006", "[::1]:5006", "clinic.example:5006", "clinic.example",
            "10.0.0.5:8080"} == a
    assert allowed_hosts("::1", 80) >= {"[::1]:80"}


def test_websockets_answer_without_nagle_delay(monkeypatch):
    """Every websocket the server opens gets TCP_NODELAY before Bokeh's own open runs (Bokeh
    leaves Nagle's algorithm on, which holds each multi-frame reply for the browser's delayed ACK)."""
    from bokeh.server.views import ws

    from hipviz.app import server

    calls = []

    class Handler:
        def set_nodelay(self, value):
            calls.append(value)

    monkeypatch.setattr(ws.WSHandler, "open", lambda self: calls.append("open"))
    server.websockets_without_delay()
    server.websockets_without_delay()          # idempotent: one wrapper, not two
    ws.WSHandler.open(Handler())
    assert calls == [True, "open"]
