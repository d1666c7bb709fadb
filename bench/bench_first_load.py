"""First load of the app page: this checkout against a baseline revision, in the same run.

    python bench/bench_first_load.py [--baseline REV] [--rounds N] [--loads N] [--json]

For each round, the page of each version is served by its own `hipviz serve` (fresh SQLite file)
and loaded `--loads` times in fresh headless Chromium contexts (one load before them warms the
server). The versions alternate round by round, so a machine that gets busier or quieter
affects both alike. The baseline is checked out into a temporary git worktree (default: the
first parent of HEAD) and run with the same Python environment.

Prints per version the medians, in ms after navigation, of: the HTML response, the view's code
starting (`window.__hipviz.timing.init`), vtk.js ready, the first frame and every actor built;
the bytes received (HTTP as encoded, WebSocket messages as delivered, that is decompressed),
and the bytes that really travel from the server (counted by a TCP relay in front of it: HTTP
and WebSocket as compressed, headers included); and the ratio baseline / this checkout. Asserts nothing. Needs Debian chromium at /usr/bin/chromium and PyPI playwright.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
MARKS = ("html", "init", "vtk", "first", "built")
TIMING_JS = """() => { const t = window.__hipviz.timing, nav = performance.getEntriesByType('navigation')[0];
  return {html: nav.responseEnd, init: t.init, vtk: t.vtkLoaded, first: t.firstFrame, built: t.built}; }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WireCounter:
    """A TCP relay in front of a server that counts the bytes the server sends as they travel
    (HTTP and WebSocket, compressed where they are compressed, headers included)."""

    def __init__(self):
        self.port, self.target, self.down = _free_port(), 0, 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        async def pipe(r, w, count: bool) -> None:
            try:
                while data := await r.read(65536):
                    if count:
                        self.down += len(data)
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError, asyncio.CancelledError):
                pass
            finally:
                w.close()

        async def relay(cr, cw) -> None:
            try:
                sr, sw = await asyncio.open_connection("127.0.0.1", self.target)
            except OSError:
                cw.close()
                return
            try:
                await asyncio.gather(pipe(cr, sw, False), pipe(sr, cw, True))
            except asyncio.CancelledError:
                pass                                # the relay is closing

        async def main() -> None:
            server = await asyncio.start_server(relay, "127.0.0.1", self.port)
            ready.set()
            async with server:
                await server.serve_forever()

        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(main())
        except RuntimeError:
            pass                                    # stopped by close()
        finally:                                    # let the open relays end before the loop closes
            tasks = asyncio.all_tasks(self.loop)
            for t in tasks:
                t.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


class Served:
    """`hipviz serve` of the source tree `src` on a free port, reached through a WireCounter."""

    def __init__(self, src: Path, log: Path):
        self.port = _free_port()
        self.wire = WireCounter()
        self.wire.target = self.port
        db = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        env = {**os.environ, "PYTHONPATH": str(src)}
        self.proc = subprocess.Popen([sys.executable, "-m", "hipviz.cli", "serve", "--port", str(self.port), "--db", str(db),
                                      "--allow-host", f"127.0.0.1:{self.wire.port}"],
                                     stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{self.wire.port}/hipviz"
        t_end = time.time() + 240
        while time.time() < t_end:
            try:
                urllib.request.urlopen(self.url, timeout=10)
                return
            except OSError:
                time.sleep(0.5)
        self.close()
        raise RuntimeError(f"the server of {src} did not start (see {log})")

    def close(self) -> None:
        self.wire.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def load_once(browser, server: Served) -> dict:
    url = server.url
    before = server.wire.down
    ctx = browser.new_context(viewport={"width": 1400, "height": 860})
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    got = {"http": 0, "ws": 0}
    cdp.on("Network.loadingFinished", lambda e: got.__setitem__("http", got["http"] + int(e.get("encodedDataLength", 0))))
    page.on("websocket", lambda w: w.on("framereceived", lambda p: got.__setitem__("ws", got["ws"] + (len(p) if p else 0))))
    page.goto(url)
    page.wait_for_function("() => window.__hipviz && window.__hipviz.built", timeout=180_000)
    page.wait_for_timeout(500)
    marks = page.evaluate(TIMING_JS)
    ctx.close()
    return {**marks, **got, "wire": server.wire.down - before}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default="HEAD~1", help="git revision to compare with (default: HEAD~1)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--loads", type=int, default=4, help="page loads per version and round")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    wt = Path(tempfile.mkdtemp()) / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(wt), args.baseline], check=True)
    versions = {"baseline": wt / "src", "this checkout": ROOT / "src"}
    rows: dict[str, list[dict]] = {v: [] for v in versions}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for r in range(args.rounds):
                for name, src in versions.items():
                    server = Served(src, Path(tempfile.gettempdir()) / f"bench-first-load-{r}-{name.replace(' ', '-')}.log")
                    try:
                        load_once(browser, server)               # warms the server (atlas, model, caches)
                        rows[name] += [load_once(browser, server) for _ in range(args.loads)]
                    finally:
                        server.close()
            browser.close()
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(wt)], check=False)

    med = {v: {k: statistics.median(row[k] for row in rs) for k in (*MARKS, "http", "ws", "wire")} for v, rs in rows.items()}
    if args.json:
        print(json.dumps({"baseline": args.baseline, "medians": med, "loads": rows}, indent=2))
        return 0
    print(f"first load, medians of {args.rounds} x {args.loads} loads per version (baseline {args.baseline}), ms after navigation")
    print(f"{'':<28}{'baseline':>12}{'this checkout':>16}{'ratio':>8}")
    labels = {"html": "HTML response", "init": "view code starts", "vtk": "vtk.js ready", "first": "first frame",
              "built": "every actor built", "http": "HTTP bytes", "ws": "WebSocket message bytes",
              "wire": "bytes on the wire (TCP)"}
    for k, label in labels.items():
        b, o = med["baseline"][k], med["this checkout"][k]
        fmt = "{:>12,.0f}" if k in ("http", "ws", "wire") else "{:>12.0f}"
        print(f"{label:<28}{fmt.format(b)}{fmt.format(o):>16}{(b / o if o else float('nan')):>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
