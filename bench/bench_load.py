"""Load benchmark: many people painting at once, simulated without browsers.

Each simulated person speaks the page's own protocol over the page's own websocket: it GETs the
page (which makes the Bokeh session), reads the session token from it, opens `/hipviz/ws` with
the token as Bokeh's subprotocol, pulls the document (PULL-DOC), finds the 3D view's model (the
Panel `ReactiveESM` whose data carries the scene), decodes the skin from the scene's geometry as
the page does, says `document_ready` and `ready`, and then paints: the view's messages (`dab`,
`stroke_end`, `camera`) go to Python exactly as `model.send_msg` sends them from the browser, as
a Bokeh `PATCH-DOC` holding a `MessageSent` `bokeh_event` (`data_event` on the view's model).

A person paints strokes of 12 to 30 dabs, one every 50 ms (20 a second while the finger moves),
each dab a few skin vertices along a path walked over the real skin mesh at about 15 cm/s. The
page draws each dab itself at once and sends the dabs of each `DAB_INTERVAL_MS` of viewer/paint.js in
one `dab` message, and so does the simulated person; then it lifts the finger (`stroke_end`), sometimes turns the view (`camera`),
and pauses 0.8 to 2 s before the next stroke. Messages are sent on time whatever the server is
doing (a page does not wait either).

Measured, per number of people N (cumulative: the first 10 go on painting among the 25):
- dab -> reply: from sending a dab message to the first patch of the view's skin colours that answers it
  (Bokeh handles one connection's messages in order, and answers each with OK after the patches
  it caused, so a patch belongs to the oldest message not yet answered); a dab that changed no
  colour (painted over paint) counts at its OK;
- stroke end -> ranking: from `stroke_end` to the server's OK for it, which follows every patch
  the stroke end caused (the painted area, the ranking, the undo button);
- the same two 95th percentiles for what is sent after the first SETTLE_S seconds of painting,
  once the people the level added have stored their first maps;
- errors: sessions that failed to open, ERROR replies, dropped connections, and messages still
  unanswered when the drain time after the painting ran out;
- memory per session: the proportional set size (PSS) of all server processes after the level,
  less the same before the first session, divided by N;
- client lag: how late the load generator itself sent its dabs (if it is large, the numbers
  measure the generator, not the server).

Both the hipviz server and the baseline (`bench/baseline_load_app.py`, a minimal Panel app that
answers the same messages) are run, on one and on two processes, and the ratios printed.

Usage:
  python bench/bench_load.py                      # N = 10, 25, 50; hipviz and baseline; 1 and 2 processes
  python bench/bench_load.py --full               # also N = 100
  python bench/bench_load.py --fake               # the small fake body (tests/test_app_fakes.py)
  python bench/bench_load.py --url http://127.0.0.1:5006/hipviz --sessions 10   # a server already running
  python bench/bench_load.py --profile DIR --apps hipviz --procs 1               # cProfile of the server under load
  bash scripts/with_postgres.sh sh -c 'python bench/bench_load.py --apps hipviz --db "$HIPVIZ_TEST_POSTGRES_URL"'
                                                  # hipviz on PostgreSQL, as a clinic runs it
Everything runs on this machine (loopback addresses only), bounded in time (--max-seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
FAKE_FACTORY = "test_app_fakes:fake_atlas"

DAB_INTERVAL_S = 0.05          # 20 dabs a second while a stroke lasts
# the page draws each dab itself at once and sends the dabs of one interval in one message
PAGE_INTERVAL_S = int(re.search(r"const DAB_INTERVAL_MS = (\d+)",
                                (ROOT / "src/hipviz/app/viewer/paint.js").read_text()).group(1)) / 1000
STROKE_DABS = (12, 30)         # dabs per stroke
PAUSE_S = (0.8, 2.0)           # between strokes
SPEED_CM_S = 15.0              # how fast the finger moves over the skin
CAMERA_CHANCE = 0.25           # after a stroke, the person turns the view
# The people a level adds all paint their first stroke within about 2 s of each other, and each
# first stroke end stores a new map (with the map list and visit pickers to fill): a burst a
# waiting room, where people arrive one by one, does not see. Figures are given for the whole
# painting time and, apart, for what is sent after its first SETTLE_S seconds.
SETTLE_S = 3.0
MAX_POINTS = 6                 # skin vertices in one dab message (the page sends "a few")


# ---- the skin, as the page decodes it --------------------------------------------------------

@dataclass
class Skin:
    points: np.ndarray         # (n, 3) metres
    indptr: np.ndarray         # neighbour lists (CSR)
    indices: np.ndarray

    @property
    def n(self) -> int:
        return len(self.points)

    @classmethod
    def from_payload(cls, scene_json: str, blob: bytes) -> Skin:
        """The skin mesh from the view's scene index and zlib geometry (the format of
        hipviz.app.scene.pack_mesh, decoded as viewer/scene.js decodes it)."""
        from hipviz.app.scene import unpack_mesh

        meta = json.loads(scene_json)
        entry = next(a for a in meta["actors"] if a["id"] == meta.get("skin_id", "skin"))
        pts, tri, _normals = unpack_mesh(zlib.decompress(blob), entry)
        n = len(pts)
        e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
        e = np.unique(np.sort(e, axis=1), axis=0)
        e = np.concatenate([e, e[:, ::-1]])
        e = e[np.lexsort((e[:, 1], e[:, 0]))]
        indptr = np.searchsorted(e[:, 0], np.arange(n + 1))
        return cls(pts, indptr, e[:, 1].copy())

    def walk(self, v: int, direction: np.ndarray, distance: float, rng: np.random.Generator,
             most: int = MAX_POINTS) -> tuple[list[int], int, np.ndarray]:
        """Walk about `distance` metres from vertex v, keeping roughly to `direction`; returns
        the vertices passed (at least one, at most `most`), where it ended, and the new heading."""
        out, gone = [], 0.0
        d = direction
        for _ in range(64):
            nb = self.indices[self.indptr[v]:self.indptr[v + 1]]
            if nb.size == 0:
                break
            step = self.points[nb] - self.points[v]
            length = np.linalg.norm(step, axis=1)
            score = (step @ d) / np.maximum(length, 1e-12)
            k = int(np.argmax(score))
            if score[k] < -0.2:          # a dead end (an edge of the mesh): turn round
                d = -d
                continue
            v = int(nb[k])
            gone += float(length[k])
            turn = step[k] / max(float(length[k]), 1e-12)
            d = 0.7 * d + 0.3 * turn + rng.normal(0, 0.08, 3)
            d /= max(float(np.linalg.norm(d)), 1e-12)
            out.append(v)
            if gone >= distance:
                break
        if not out:
            out = [v]
        if len(out) > most:
            out = [out[int(i)] for i in np.linspace(0, len(out) - 1, most)]
        return out, v, d


# ---- the Bokeh protocol ----------------------------------------------------------------------

def _map(d: dict) -> dict:
    """A plain object as BokehJS's serializer encodes it."""
    return {"type": "map", "entries": [[k, v] for k, v in d.items()]} if d else {"type": "map"}


def _event(name: str, values: dict) -> dict:
    """A PATCH-DOC holding one browser event (BokehJS EventManager.send_event)."""
    return {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event",
                        "msg_data": {"type": "event", "name": name, "values": values}}]}


def _find(obj, pred, out: list) -> list:
    if isinstance(obj, dict):
        if pred(obj):
            out.append(obj)
        for v in obj.values():
            _find(v, pred, out)
    elif isinstance(obj, list):
        for v in obj:
            _find(v, pred, out)
    return out


_SKIN_MSG = re.compile(r'\["type",\s*"skin"\]')
_SYNCED_MSG = re.compile(r'\["type",\s*"synced"\]')


@dataclass
class Request:
    kind: str
    level: int
    t_sent: float
    t_due: float
    t_reply: float | None = None     # first skin patch (dabs)
    t_ok: float | None = None
    error: str | None = None
    msgid: str = ""


class ProtocolFailure(RuntimeError):
    pass


class Session:
    """One simulated page: its websocket, in-flight messages and what came back."""

    _skins: dict[int, Skin] = {}

    def __init__(self, url: str, sink: list[Request], errors: collections.Counter):
        self.url = url
        self.sink = sink
        self.errors = errors
        self.ws = None
        self.pending: collections.deque[Request] = collections.deque()
        self.inflight: dict[str, Request] = {}
        self.viewer_id = ""
        self.skin: Skin | None = None
        self.synced = asyncio.Event()
        self.closed = False
        self.level = 0
        self._reader: asyncio.Task | None = None

    async def open(self, timeout: float = 90.0) -> None:
        await asyncio.wait_for(self._open(), timeout)

    async def _open(self) -> None:
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect

        parts = urlsplit(self.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        r = await AsyncHTTPClient().fetch(self.url, request_timeout=90)
        m = re.search(r'"token":\s*"([^"]+)"', r.body.decode("utf-8", "replace"))
        if not m:
            raise ProtocolFailure("no Bokeh session token in the page")
        ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}/ws"
        self.ws = await websocket_connect(HTTPRequest(ws_url, headers={"Origin": origin}, request_timeout=90),
                                          subprotocols=["bokeh", m.group(1)], max_message_size=1 << 28)
        self.ws.protocol.set_nodelay(True)     # as browsers do (TCP_NODELAY on every socket)
        hdr, _, _ = await self._read_message()
        if hdr.get("msgtype") != "ACK":
            raise ProtocolFailure(f"expected ACK, got {hdr.get('msgtype')}")
        self._send_raw("PULL-DOC-REQ", {})
        hdr, content, bufs = await self._read_message()
        if hdr.get("msgtype") != "PULL-DOC-REPLY":
            raise ProtocolFailure(f"expected PULL-DOC-REPLY, got {hdr.get('msgtype')}")
        doc = json.loads(content)
        views = _find(doc, lambda o: o.get("type") == "object" and o.get("name", "").endswith("ReactiveESM")
                      and isinstance(o.get("attributes", {}).get("data"), dict)
                      and "scene" in o["attributes"]["data"].get("attributes", {})
                      and o["attributes"]["data"]["attributes"].get("role", "main") == "main", [])
        if not views:
            raise ProtocolFailure("no 3D view (a ReactiveESM model with a scene) in the document")
        data = views[0]["attributes"]["data"]["attributes"]
        self.viewer_id = views[0]["id"]
        key = hash(data["scene"])
        skin = Session._skins.get(key)
        if skin is None:
            geo = data["geometry"]
            blob = dict(bufs).get(geo["data"]["id"]) if isinstance(geo.get("data"), dict) else None
            if blob is None:   # a base64 buffer instead of a binary one
                import base64
                blob = base64.b64decode(geo["data"])
            skin = Session._skins[key] = Skin.from_payload(data["scene"], blob)
        self.skin = skin
        self._reader = asyncio.ensure_future(self._read_loop())
        self._send_raw("PATCH-DOC", _event("document_ready", {"type": "map"}))
        self.send({"type": "ready"}, "ready")
        await asyncio.wait_for(self.synced.wait(), 60)

    async def _read_message(self):
        """One Bokeh message: header, metadata, content, then (header, payload) per buffer."""
        frames = []
        for _ in range(3):
            f = await self.ws.read_message()
            if f is None:
                raise ProtocolFailure("connection closed")
            frames.append(f)
        hdr = json.loads(frames[0])
        bufs = []
        for _ in range(int(hdr.get("num_buffers", 0))):
            bh = await self.ws.read_message()
            payload = await self.ws.read_message()
            if bh is None or payload is None:
                raise ProtocolFailure("connection closed")
            bufs.append((json.loads(bh)["id"], payload))
        return hdr, frames[2], bufs

    async def _read_loop(self) -> None:
        try:
            while True:
                hdr, content, _ = await self._read_message()
                now = time.perf_counter()
                kind = hdr.get("msgtype")
                if kind in ("OK", "ERROR"):
                    req = self._answered(hdr.get("reqid"))
                    if req is not None:
                        req.t_ok = now
                        if kind == "ERROR":
                            req.error = "error"
                            self.errors["ERROR replies"] += 1
                elif kind == "PATCH-DOC":
                    if self.pending and _SKIN_MSG.search(content):
                        req = self.pending[0]
                        if req.t_reply is None:
                            req.t_reply = now
                    if not self.synced.is_set() and _SYNCED_MSG.search(content):
                        self.synced.set()
        except (ProtocolFailure, asyncio.CancelledError):
            pass
        except Exception as e:  # noqa: BLE001 - any failure of this connection
            self.errors[f"reader: {type(e).__name__}"] += 1
        finally:
            if not self.closed:
                self.closed = True
                self.errors["connections dropped"] += 1

    def _answered(self, reqid) -> Request | None:
        """The message an OK or ERROR answers, taken off the in-flight queue (Bokeh answers one
        connection's messages in order; an answer to a message not queued here is ignored)."""
        if reqid not in self.inflight:
            return None
        while self.pending:
            req = self.pending.popleft()
            self.inflight.pop(req.msgid, None)
            if req.msgid == reqid:
                return req
        return None

    def _send_raw(self, msgtype: str, content: dict) -> str:
        msgid = uuid.uuid4().hex[:16]
        self.ws.write_message(json.dumps({"msgid": msgid, "msgtype": msgtype}, separators=(",", ":")))
        self.ws.write_message("{}")
        self.ws.write_message(json.dumps(content, separators=(",", ":")))
        return msgid

    def send(self, data: dict, kind: str, due: float | None = None) -> Request | None:
        """Send one of the view's messages (model.send_msg(data) in the page)."""
        if self.closed:
            return None
        now = time.perf_counter()
        req = Request(kind, self.level, now, due if due is not None else now)
        try:
            req.msgid = self._send_raw("PATCH-DOC", _event("data_event", _map({"model": {"id": self.viewer_id}, "data": _map(data)})))
        except Exception:  # noqa: BLE001 - the socket went away
            self.closed = True
            self.errors["connections dropped"] += 1
            return None
        self.pending.append(req)
        self.inflight[req.msgid] = req
        self.sink.append(req)
        return req

    def close(self) -> None:
        self.closed = True
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            self.ws.close()


async def person(s: Session, rng: np.random.Generator, stop_at: float, lag: list[float]) -> None:
    """Paint at a human pace until stop_at (a stroke under way is finished)."""
    skin = s.skin
    await asyncio.sleep(float(rng.uniform(0, 1.0)))
    stroke = getattr(s, "stroke", 0)
    while time.perf_counter() < stop_at and not s.closed:
        stroke += 1
        v = int(rng.integers(skin.n))
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        due = time.perf_counter()
        n_dabs = int(rng.integers(STROKE_DABS[0], STROKE_DABS[1] + 1))
        per_message = max(1, round(PAGE_INTERVAL_S / DAB_INTERVAL_S))
        for first in range(0, n_dabs, per_message):
            pts: list[int] = []
            for _ in range(min(per_message, n_dabs - first)):
                more, v, d = skin.walk(v, d, SPEED_CM_S / 100 * DAB_INTERVAL_S, rng)
                pts += [p for p in more if p not in pts]
            req = s.send({"type": "dab", "stroke": stroke, "points": pts}, "dab", due)
            if req is not None:
                lag.append(req.t_sent - due)
            due += DAB_INTERVAL_S * per_message
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if s.closed:
                break
        s.send({"type": "stroke_end", "stroke": stroke}, "stroke_end")
        if rng.random() < CAMERA_CHANCE:
            pos = (rng.normal(size=3) * 2.0).round(4).tolist()
            s.send({"type": "camera", "position": pos, "focal_point": [0.0, -0.2, 0.0], "view_up": [0.0, 1.0, 0.0]}, "camera")
        await asyncio.sleep(float(rng.uniform(*PAUSE_S)))
    s.stroke = stroke


# ---- servers ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """pid and every process below it (from /proc)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(p.name))
    out, todo = [], [pid]
    while todo:
        q = todo.pop()
        out.append(q)
        todo.extend(children.get(q, []))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of pid and its descendants so far (seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for q in descendants(pid):
        try:
            f = Path(f"/proc/{q}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(f[11]) + int(f[12])
    return total / tick


def memory_mb(pid: int) -> tuple[float, int]:
    """(PSS of pid and its descendants in MB, number of processes)."""
    total, n = 0, 0
    for q in descendants(pid):
        try:
            text = Path(f"/proc/{q}/smaps_rollup").read_text()
            m = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        except OSError:
            m = None
        if m is None:
            try:
                m = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{q}/status").read_text(), re.M)
            except OSError:
                continue
        if m:
            total += int(m.group(1))
            n += 1
    return total / 1024, n


class Server:
    """A server started by the benchmark, in its own process group, stopped by it."""

    def __init__(self, app: str, procs: int, fake: bool, workdir: Path, profile: Path | None = None,
                 src: Path | None = None, db: str | None = None):
        self.app, self.procs, self.port = app, procs, free_port()
        self.url = f"http://127.0.0.1:{self.port}/hipviz"
        env = dict(os.environ)
        paths = [str(src or ROOT / "src"), str(ROOT / "bench")] + ([str(TESTS)] if fake else [])
        env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        if fake:
            env["HIPVIZ_ATLAS_FACTORY"] = FAKE_FACTORY
        else:
            env.pop("HIPVIZ_ATLAS_FACTORY", None)
        env["BOKEH_RESOURCES"] = "server"
        if app == "hipviz":
            args = ["serve", "--port", str(self.port), "--no-browser", "--db", db or str(workdir / f"load-{procs}.sqlite3")]
            if procs > 1:
                args += ["--procs", str(procs)]
            cmd = [sys.executable, "-m", "hipviz.cli", *args]
        else:
            cmd = [sys.executable, str(ROOT / "bench" / "baseline_load_app.py"), "--port", str(self.port), "--procs", str(procs)]
        if profile is not None:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--_profiled", str(profile), "--", *cmd[1:]]
        self.log = open(workdir / f"{app}-{procs}.log", "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 240.0) -> None:
        import urllib.request
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} server exited with {self.proc.returncode} (see {self.log.name})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/liveness", timeout=2) as r:
                    if r.status == 200:
                        if self.procs > 1:
                            time.sleep(1.0)   # let every forked child reach its loop
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.app} server not ready after {timeout:.0f} s (see {self.log.name})")

    def memory(self) -> tuple[float, int]:
        return memory_mb(self.proc.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def signal(self, sig: int) -> None:
        """A signal to the server's main process (the profiler wrapper listens to USR1/USR2)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        self.log.close()


# ---- one run: a server, a growing crowd ------------------------------------------------------

def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    return float(np.percentile(np.asarray(xs), q))


@dataclass
class LevelResult:
    app: str
    procs: int
    n: int
    sessions_ok: int
    dabs: int
    dab_ms: tuple[float | None, float | None]
    no_change_dabs: int
    strokes: int
    rank_ms: tuple[float | None, float | None]
    errors: dict = field(default_factory=dict)
    mb_per_session: float | None = None
    server_mb: float | None = None
    lag_p95_ms: float | None = None
    open_s: float | None = None
    cpu_ms_per_msg: float | None = None   # server CPU time during the level / messages answered
    messages: int = 0
    settled_p95_ms: tuple[float | None, float | None] = (None, None)   # dab, stroke end: sent after SETTLE_S

    @property
    def error_count(self) -> int:
        return int(sum(self.errors.values()))


async def run_levels(url: str, levels: list[int], duration: float, drain: float, seed: int,
                     app: str, procs: int, memory=None, cpu=None, on_paint=None, open_concurrency: int = 4,
                     deadline: float = float("inf")) -> list[LevelResult]:
    """Open sessions up to each level in turn, let all of them paint for `duration` seconds,
    wait up to `drain` seconds for the replies, and measure."""
    rng = np.random.default_rng(seed)
    sink: list[Request] = []
    sessions: list[Session] = []
    results: list[LevelResult] = []
    # one session first: it warms the server up and is closed before the baseline memory
    errors: collections.Counter = collections.Counter()
    warm = Session(url, [], errors)
    await warm.open()
    warm.close()
    await asyncio.sleep(0.5)
    base_mb = memory()[0] if memory else None
    failed_total = 0
    for li, n in enumerate(levels, start=1):
        if time.monotonic() > deadline:
            print(f"  (time is up: N={n} skipped)", file=sys.stderr, flush=True)
            break
        level_errors: collections.Counter = collections.Counter()
        t0 = time.perf_counter()
        sem = asyncio.Semaphore(open_concurrency)

        async def open_one() -> Session | None:
            s = Session(url, sink, level_errors)
            async with sem:
                try:
                    await s.open()
                    return s
                except Exception as e:  # noqa: BLE001 - counted as an error of this level
                    level_errors[f"open failed: {type(e).__name__}: {str(e)[:60]}"] += 1
                    s.close()
                    return None

        new = await asyncio.gather(*(open_one() for _ in range(n - len(sessions) - failed_total)))
        opened = [s for s in new if s is not None]
        failed_total += len(new) - len(opened)
        for s in sessions:           # earlier sessions' problems are this level's too
            s.errors = level_errors
        sessions += opened
        open_s = time.perf_counter() - t0
        for s in sessions:
            s.level = li
        lag: list[float] = []
        if on_paint:
            on_paint("start", n)
        cpu0 = cpu() if cpu else None
        paint_from = time.perf_counter()
        stop_at = paint_from + duration
        await asyncio.gather(*(person(s, np.random.default_rng(rng.integers(1 << 31)), stop_at, lag) for s in sessions))
        end = time.perf_counter() + drain
        while time.perf_counter() < end and any(s.pending and not s.closed for s in sessions):
            await asyncio.sleep(0.1)
        if on_paint:
            on_paint("stop", n)
        cpu1 = cpu() if cpu else None
        mine = [r for r in sink if r.level == li]
        unanswered = sum(1 for r in mine if r.t_ok is None)
        if unanswered:
            level_errors["unanswered"] += unanswered
        dabs = [r for r in mine if r.kind == "dab"]
        dab_ms = [((r.t_reply or r.t_ok) - r.t_sent) * 1000 for r in dabs if (r.t_reply or r.t_ok)]
        no_change = sum(1 for r in dabs if r.t_reply is None and r.t_ok is not None)
        ends = [r for r in mine if r.kind == "stroke_end"]
        rank_ms = [(r.t_ok - r.t_sent) * 1000 for r in ends if r.t_ok]
        settled = paint_from + SETTLE_S
        settled_p95 = (pct([((r.t_reply or r.t_ok) - r.t_sent) * 1000 for r in dabs if (r.t_reply or r.t_ok) and r.t_sent >= settled], 95),
                       pct([(r.t_ok - r.t_sent) * 1000 for r in ends if r.t_ok and r.t_sent >= settled], 95))
        mem = memory()[0] if memory else None
        res = LevelResult(
            app=app, procs=procs, n=n, sessions_ok=len(sessions), dabs=len(dabs),
            dab_ms=(pct(dab_ms, 50), pct(dab_ms, 95)), no_change_dabs=no_change, strokes=len(ends),
            rank_ms=(pct(rank_ms, 50), pct(rank_ms, 95)), errors=dict(level_errors),
            mb_per_session=(mem - base_mb) / max(len(sessions), 1) if mem is not None else None,
            server_mb=mem, lag_p95_ms=(pct(lag, 95) or 0.0) * 1000, open_s=open_s,
            messages=sum(1 for r in mine if r.t_ok is not None), settled_p95_ms=settled_p95,
        )
        if cpu0 is not None and res.messages:
            res.cpu_ms_per_msg = (cpu1 - cpu0) * 1000 / res.messages
        results.append(res)
        print("  " + format_row(res), flush=True)
        sink.clear()   # answers that come later still find their message, but count nowhere
    for s in sessions:
        s.close()
    await asyncio.sleep(0.2)
    return results


# ---- output ----------------------------------------------------------------------------------

def _ms(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x / 1000:.1f} s" if x >= 1000 else f"{x:.0f}"


def format_row(r: LevelResult) -> str:
    mb = f"{r.mb_per_session:.1f}" if r.mb_per_session is not None else "—"
    return (f"{r.app:8} {r.procs}p N={r.n:<3}  dab->reply {_ms(r.dab_ms[0]):>6} / {_ms(r.dab_ms[1]):>6} ms   "
            f"end->ranking {_ms(r.rank_ms[0]):>6} / {_ms(r.rank_ms[1]):>6} ms   "
            f"after {SETTLE_S:g} s p95 {_ms(r.settled_p95_ms[0])} / {_ms(r.settled_p95_ms[1])} ms   errors {r.error_count:<5} "
            f"MB/session {mb:>5}   ({r.dabs} dabs of which {r.no_change_dabs} changed no colour, {r.strokes} strokes, "
            f"server CPU {_ms(r.cpu_ms_per_msg) if r.cpu_ms_per_msg is not None else '—'} ms per message, "
            f"client lag p95 {r.lag_p95_ms:.0f} ms)")


def table(results: list[LevelResult]) -> str:
    head = ("| app | procs | N | dab → reply, median / p95 (ms) | stroke end → ranking, median / p95 (ms) "
            f"| after the first {SETTLE_S:g} s: dab / stroke end p95 (ms) "
            "| errors | MB per session | dabs | server CPU per message (ms) | client lag p95 (ms) |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in results:
        mb = f"{r.mb_per_session:.1f}" if r.mb_per_session is not None else "—"
        lines.append(f"| {r.app} | {r.procs} | {r.n} | {_ms(r.dab_ms[0])} / {_ms(r.dab_ms[1])} | "
                     f"{_ms(r.rank_ms[0])} / {_ms(r.rank_ms[1])} | {_ms(r.settled_p95_ms[0])} / {_ms(r.settled_p95_ms[1])} | "
                     f"{r.error_count} | {mb} | {r.dabs} | "
                     f"{f'{r.cpu_ms_per_msg:.1f}' if r.cpu_ms_per_msg is not None else '—'} | {r.lag_p95_ms:.0f} |")
    return "\n".join(lines)


def ratios(results: list[LevelResult]) -> str:
    base = {(r.procs, r.n): r for r in results if r.app == "baseline"}
    lines = ["| procs | N | dab p95 hipviz / baseline | stroke end p95 hipviz / baseline | MB per session hipviz / baseline |",
             "|---|---|---|---|---|"]
    any_row = False

    def ratio(a, b):
        return f"{a / b:.1f}×" if a is not None and b else "—"

    for r in results:
        b = base.get((r.procs, r.n))
        if r.app != "hipviz" or b is None:
            continue
        any_row = True
        lines.append(f"| {r.procs} | {r.n} | {ratio(r.dab_ms[1], b.dab_ms[1])} | {ratio(r.rank_ms[1], b.rank_ms[1])} | "
                     f"{ratio(r.mb_per_session, b.mb_per_session)} |")
    return "\n".join(lines) if any_row else ""


# ---- the profiler wrapper (a server process run under cProfile, switched by signals) ---------

def _profiled(out: str, argv: list[str]) -> int:
    """Run `python argv...` in this process with cProfile switched on by SIGUSR1 and off (and
    dumped to out-<k>.prof) by SIGUSR2."""
    import cProfile
    import runpy

    prof = {"p": None, "k": 0}

    def on(signum, frame):
        prof["p"] = cProfile.Profile()
        prof["p"].enable()

    def off(signum, frame):
        p = prof["p"]
        if p is not None:
            p.disable()
            prof["k"] += 1
            p.dump_stats(f"{out}-{prof['k']}.prof")
            prof["p"] = None

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    if argv and argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        try:
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        except (KeyboardInterrupt, SystemExit):
            pass
    else:
        sys.argv = list(argv)
        try:
            runpy.run_path(argv[0], run_name="__main__")
        except (KeyboardInterrupt, SystemExit):
            pass
    return 0


def print_profile(path: Path, top: int = 30) -> None:
    import pstats
    st = pstats.Stats(str(path))
    st.strip_dirs().sort_stats("cumulative").print_stats(top)


# ---- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--_profiled"]:
        return _profiled(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
    ap = argparse.ArgumentParser(description="hipviz load benchmark (see the module docstring)")
    ap.add_argument("--url", help="a running server's page (loopback only); default: start servers")
    ap.add_argument("--start", action="store_true", help="start the servers (the default without --url)")
    ap.add_argument("--apps", nargs="+", default=["hipviz", "baseline"], choices=["hipviz", "baseline"])
    ap.add_argument("--procs", nargs="+", type=int, default=[1, 2], help="server processes (with --start)")
    ap.add_argument("--sessions", nargs="+", type=int, default=None, help="levels of N (default 10 25 50)")
    ap.add_argument("--full", action="store_true", help="also N = 100")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds of painting per level")
    ap.add_argument("--drain", type=float, default=8.0, help="seconds to wait for late replies after each level")
    ap.add_argument("--fake", action="store_true", help="serve the small fake body (tests/test_app_fakes.py)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--max-seconds", type=float, default=900.0, help="stop starting new levels after this")
    ap.add_argument("--pid", type=int, help="with --url: the server's process id, for its memory and CPU time")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--profile", help="directory: run the hipviz server under cProfile during the painting")
    ap.add_argument("--db", help="the hipviz server's database (e.g. postgresql://127.0.0.1:PORT/hipviz, as a clinic "
                                 "runs it); default: a new SQLite file per server")
    ap.add_argument("--hipviz-src", help="serve the hipviz package from this src/ directory (to compare two versions); "
                                         "default: this checkout's")
    args = ap.parse_args(argv)

    levels = args.sessions or ([10, 25, 50, 100] if args.full else [10, 25, 50])
    levels = sorted(set(levels))
    if any(n < 1 or n > 400 for n in levels):
        ap.error("--sessions: between 1 and 400")
    if args.duration <= 0 or args.duration > 300:
        ap.error("--duration: up to 300 s")
    deadline = time.monotonic() + args.max_seconds
    results: list[LevelResult] = []
    t_all = time.monotonic()

    if args.url and not args.start:
        host = urlsplit(args.url).hostname or ""
        if host not in LOOPBACK:
            ap.error("--url must be on this machine (127.0.0.1, localhost or [::1])")
        print(f"load on {args.url}: N = {', '.join(map(str, levels))}, {args.duration:g} s each", flush=True)
        mem = (lambda: memory_mb(args.pid)) if args.pid else None
        cpu = (lambda: cpu_seconds(args.pid)) if args.pid else None
        results += asyncio.run(run_levels(args.url, levels, args.duration, args.drain, args.seed, "server", 0,
                                          memory=mem, cpu=cpu, deadline=deadline))
    else:
        with tempfile.TemporaryDirectory(prefix="hipviz-load-") as tmp:
            work = Path(tmp)
            prof_dir = Path(args.profile) if args.profile else None
            if prof_dir:
                prof_dir.mkdir(parents=True, exist_ok=True)
            for app in args.apps:
                for procs in args.procs:
                    if time.monotonic() > deadline:
                        break
                    profile = prof_dir / f"{app}-{procs}p" if prof_dir and procs == 1 else None
                    print(f"{app}, {procs} process{'es' if procs > 1 else ''}: starting", flush=True)
                    srv = Server(app, procs, args.fake, work, profile,
                                 Path(args.hipviz_src).resolve() if args.hipviz_src and app == "hipviz" else None, args.db)
                    try:
                        srv.wait_ready()

                        def on_paint(what, n, srv=srv, profile=profile):
                            if profile is not None:
                                srv.signal(signal.SIGUSR1 if what == "start" else signal.SIGUSR2)

                        results += asyncio.run(run_levels(srv.url, levels, args.duration, args.drain, args.seed, app, procs,
                                                          memory=srv.memory, cpu=srv.cpu, on_paint=on_paint,
                                                          open_concurrency=2 * procs + 2, deadline=deadline))
                    except Exception as e:  # noqa: BLE001 - report, stop this server, go on
                        print(f"  {app} {procs}p failed: {type(e).__name__}: {e}", flush=True)
                        results.append(LevelResult(app, procs, 0, 0, 0, (None, None), 0, 0, (None, None),
                                                   {f"run failed: {type(e).__name__}": 1}))
                    finally:
                        srv.stop()
                    if profile is not None:
                        done = sorted(prof_dir.glob(f"{profile.name}-*.prof"))
                        if done:
                            print(f"  profiles (one per level, the server's painting time only): "
                                  f"{', '.join(p.name for p in done)} in {prof_dir}; the last one:")
                            print_profile(done[-1], 25)
    print()
    print(table(results))
    r = ratios(results)
    if r:
        print()
        print(r)
    print(f"\n({time.monotonic() - t_all:.0f} s; {'fake body' if args.fake else 'shipped atlas'}; "
          f"{args.duration:g} s of painting per level; {os.cpu_count()} CPUs)")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ | {"error_count": r.error_count} for r in results], indent=1))
    return 0 if all(r.error_count == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
