"""Browser test fixtures: a `hipviz serve` process on a free port with its own SQLite file, and
headless Debian Chromium driven by Playwright (never `playwright install`).

The server uses the shipped atlas when `hipviz.atlas.meshes` is available and the small fake
body of tests/test_app_fakes.py otherwise (set HIPVIZ_E2E_FAKE=1 to force the fake).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
TESTS = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1400, "height": 860}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use_fake_atlas() -> bool:
    if os.environ.get("HIPVIZ_E2E_FAKE") == "1":
        return True
    if importlib.util.find_spec("hipviz.atlas.meshes") is None:
        return True
    from hipviz.paths import data_dir
    try:
        return not (data_dir("meshes") / "manifest.json").is_file()
    except FileNotFoundError:
        return True


def load_test_atlas():
    if use_fake_atlas():
        sys.path.insert(0, str(TESTS))
        from test_app_fakes import fake_atlas
        return fake_atlas()
    from hipviz.atlas.meshes import load_atlas
    return load_atlas()


class Server:
    def __init__(self, url: str, db: Path, proc: subprocess.Popen, log: Path):
        self.url, self.db, self.proc, self.log = url, db, proc, log


def start_server(tmp: Path, port: int | None = None) -> Server:
    port = port or _free_port()
    db = tmp / "hipviz.sqlite3"
    log = tmp / "server.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if use_fake_atlas():
        env["HIPVIZ_ATLAS_FACTORY"] = "test_app_fakes:fake_atlas"
    cmd = [sys.executable, "-m", "hipviz.cli", "serve", "--no-browser", "--port", str(port), "--db", str(db)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/hipviz"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hipviz serve exited:\n{log.read_text()}")
        try:   # the liveness probe builds no page, so waiting on it never loads the server
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=5) as r:
                if r.status == 200:
                    return Server(url, db, proc, log)
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"hipviz serve did not answer:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    pw_sync = pytest.importorskip("playwright.sync_api")
    with pw_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("hipviz-e2e"))
    yield s
    stop_server(s)


class RequestLog:
    """Every URL a page asked for (HTTP and WebSocket)."""

    def __init__(self):
        self.urls: list[str] = []

    def attach(self, page) -> None:
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def foreign(self) -> list[str]:
        bad = []
        for u in self.urls:
            p = urlparse(u)
            if p.scheme in ("blob", "data", "about"):
                continue
            if p.hostname != "127.0.0.1":
                bad.append(u)
        return bad


@pytest.fixture
def requests_log():
    return RequestLog()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    yield ctx
    ctx.close()


def open_app(page, url: str, log: RequestLog | None = None, timeout: float = 60_000):
    if log is not None:
        log.attach(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack or ''}"[:1500]))
    page.goto(url)
    page.wait_for_function("() => window.__hipviz && window.__hipviz.built", timeout=timeout)
    page.wait_for_function("() => window.__hipviz.frames > 0", timeout=timeout)
    # on a loaded machine the first full frame in software WebGL can hold the page's main thread
    # for many seconds after that; wait for two animation frames so clicks do not time out on it
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return errors


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None


#: The three screens every user-facing fix is checked on: viewport and whether it is a touch phone.
LAYOUTS = {
    "desktop": ({"width": 1400, "height": 860}, False),
    "projector": ({"width": 1024, "height": 768}, False),
    "phone": ({"width": 390, "height": 844}, True),
}


@contextlib.contextmanager
def layout_page(browser, url: str, layout: str, touch: bool | None = None):
    """A fresh context with LAYOUTS[layout] and the app opened in it; yields (page, viewport, touch).
    `touch` overrides the layout's own (a touch screen the size of a desktop or a projector)."""
    viewport, own_touch = LAYOUTS[layout]
    touch = own_touch if touch is None else touch
    ctx = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    try:
        page = ctx.new_page()
        open_app(page, url)
        yield page, viewport, touch
    finally:
        ctx.close()


def press(locator, touch: bool) -> None:
    """Bring a control into view and tap it (touch) or click it."""
    locator.scroll_into_view_if_needed()
    locator.tap() if touch else locator.click()


def until(page, check, what="", timeout_ms: int = 15_000) -> None:
    """Wait for check() to be true, polling every 100 ms; fail naming `what` (a string, or a
    function giving one) when it is not reached in time."""
    for _ in range(timeout_ms // 100):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not reached in {timeout_ms} ms: {what() if callable(what) else what}")
