"""`hipviz serve`: start the web app on this machine and open it in the browser.

Binds 127.0.0.1 by default; every resource (Bokeh, Panel, vtk.js) is served by the local server,
so the app works offline and no request leaves the machine. Pain maps are kept in a local SQLite
file (--db, or $HIPVIZ_DB, default ~/.local/share/hipviz/hipviz.sqlite3), or, for a clinic, in a
PostgreSQL database (--db postgresql://user:password@host/dbname) that several server processes
can share.
"""

from __future__ import annotations

import os
import socket
import sys

DEFAULT_PORT = 5006


def register(sub) -> None:
    p = sub.add_parser("serve", help="start the web app on this machine and open it in the browser")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--db", default=None, metavar="FILE|URL",
                   help="where the pain maps are kept: a SQLite file, or postgresql://user:password@host/dbname "
                        "for a clinic (default: $HIPVIZ_DB or ~/.local/share/hipviz/hipviz.sqlite3)")
    p.add_argument("--procs", type=int, default=1, metavar="N",
                   help="serve from N processes sharing the port and the database (default 1; a clinic: "
                        "about one per core, with --db postgresql://…)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another host name the app may be reached by (e.g. behind a reverse proxy); "
                        "requests for any other name are refused")
    p.set_defaults(run=run)


def _port_free(host: str, port: int) -> bool:
    """Whether the server could bind host:port now. With SO_REUSEADDR, as the server binds, so
    the connections a stopped server left in TIME_WAIT do not block a restart."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def run(args) -> int:
    from hipviz.cli import UsageError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0 to 65535)")
    if not 1 <= args.procs <= 64:
        raise UsageError(f"--procs {args.procs}: give a number of processes from 1 to 64")
    host = args.host
    port = args.port
    try:
        if port == 0:
            port = _free_port(host)
        elif not _port_free(host, port):
            # never move silently: a bookmarked address would then open nothing
            raise UsageError(f"port {port} on {host} is in use (is hipviz already running? then open "
                             f"http://{host}:{port}/hipviz); or choose another port with --port")
    except socket.gaierror as e:
        raise UsageError(f"--host {host}: {e.strerror}") from None
    except OSError as e:
        raise UsageError(f"cannot bind {host}: {e.strerror or e}") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"hipviz serve: warning: binding {host} makes the app and the pain maps in it reachable from other machines",
              file=sys.stderr)
    from hipviz.app.store import StoreError, database_url, is_url, redact

    if args.db:
        os.environ["HIPVIZ_DB"] = args.db if is_url(args.db) else os.path.abspath(os.path.expanduser(args.db))
    try:
        database_url(os.environ.get("HIPVIZ_DB"))
    except ValueError as e:
        raise UsageError(f"--db: {e}") from None
    # Bokeh and Panel resources from the local server, never a CDN
    os.environ["BOKEH_RESOURCES"] = "server"

    from hipviz.app.server import build_server
    from hipviz.app.store import default_db_path

    url_host = "127.0.0.1" if host in ("0.0.0.0", "127.0.0.1") else host
    url = f"http://{url_host}:{port}/hipviz"
    try:
        server = build_server(port=port, host=host, db=os.environ.get("HIPVIZ_DB"), allow_hosts=args.allow_host,
                              **({"num_procs": args.procs} if args.procs > 1 else {}))
    except StoreError as e:
        print(f"hipviz serve: {e.user_message} ({redact(os.environ.get('HIPVIZ_DB') or default_db_path())}: {e.__cause__ or e})",
              file=sys.stderr)
        return 1
    from tornado.process import task_id

    first = task_id() in (None, 0)      # with --procs N, one process speaks and opens the browser
    if first:
        procs = f", {args.procs} processes" if args.procs > 1 else ""
        print(f"hipviz is running at {url}  (pain maps kept in {redact(os.environ.get('HIPVIZ_DB') or default_db_path())}{procs}); "
              "press Ctrl+C to stop", flush=True)
    if first and not args.no_browser:
        import webbrowser

        server.io_loop.add_callback(lambda: webbrowser.open(url))
    try:
        server.io_loop.start()
    finally:
        server.stop()
    return 0
