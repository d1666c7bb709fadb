"""The camera of each map is kept in the store and restored when the map opens again."""

import json
import math
import sqlite3

import pytest
from test_app_fakes import fake_atlas

from hipviz.app import layout
from hipviz.app.camera import Camera, CameraSaver, parse_camera
from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.store import Store, new_token

SIDE = {"position": [2.5, 0.01, 0.9], "focal_point": [0.0, 0.0, 0.85], "view_up": [0.0, 0.0, 1.0]}
BACK = {"position": [0.05, 2.4, 1.0], "focal_point": [0.0, 0.0, 0.9], "view_up": [0.0, 0.0, 1.0]}


class FakeTimers:
    """Stands in for the server document's timeout callbacks."""

    def __init__(self):
        self.armed: dict[int, object] = {}
        self.n = 0

    def schedule(self, delay, fn):
        self.n += 1
        self.armed[self.n] = fn
        return self.n

    def cancel(self, handle):
        self.armed.pop(handle, None)

    def fire_all(self):
        for h in list(self.armed):
            self.armed.pop(h)()


@pytest.fixture
def timers(monkeypatch):
    t = FakeTimers()
    monkeypatch.setattr(layout, "_doc_timers", lambda: {"schedule": t.schedule, "cancel": t.cancel})
    return t


@pytest.fixture
def ctx(tmp_path):
    c = AppContext(fake_atlas(), Store(tmp_path / "app.sqlite3"))
    yield c
    c.store.close()


def sent_messages(app: HipvizApp) -> list[dict]:
    out = []
    app.viewer._send_msg = out.append
    return out


def camera_after_ready(app: HipvizApp) -> dict:
    """Where the browser's view looks once it is built and Python has re-sent the state: the
    last camera sent, else the default view a new view starts at by itself."""
    msgs = sent_messages(app)
    app.viewer._handle_msg({"type": "ready"})
    assert msgs[-1] == {"type": "synced"}                 # only now does the browser report moves
    views = [m["camera"] for m in msgs if m["type"] == "view"]
    return views[-1] if views else reset_camera(app)


def reset_camera(app: HipvizApp) -> dict:
    v = app.ctx.payload.meta["views"]["reset"]
    return {k: list(v[k]) for k in ("position", "focal_point", "view_up")}


def assert_camera(got: dict, want: dict) -> None:
    for k in ("position", "focal_point", "view_up"):
        assert got[k] == pytest.approx(want[k], abs=1e-6), k


# ---- reading a camera ----------------------------------------------------------------------
def test_a_camera_reads_from_a_dict_or_its_json():
    cam = parse_camera(SIDE)
    assert isinstance(cam, Camera) and cam.position == (2.5, 0.01, 0.9)
    again = parse_camera(cam.to_json())
    assert again == cam
    assert parse_camera({**SIDE, "type": "camera", "extra": 1}) == cam     # other keys are ignored


@pytest.mark.parametrize("bad", [
    None, "", "{not json", "[1, 2, 3]", "null", b"\xff\xfe", 42,
    {"position": [1, 2, 3], "focal_point": [0, 0, 0]},                                # no view up
    {**SIDE, "position": [1, 2]},                                                     # wrong length
    {**SIDE, "position": [1, "2", 3]},                                                # not numbers
    {**SIDE, "position": [True, 2, 3]},
    {**SIDE, "position": [math.nan, 2, 3]},
    {**SIDE, "focal_point": [math.inf, 0, 0]},
    {**SIDE, "position": list(SIDE["focal_point"])},                                  # eye on the focal point
    {**SIDE, "view_up": [0, 0, 0]},
    {**SIDE, "view_up": [1.0, 0.004, 0.02]},                                          # up along the line of sight
    {**SIDE, "position": [5000, 0, 0]},                                               # absurdly far
    {**SIDE, "position": [400, 0, 0]},
])
def test_anything_else_is_not_a_camera(bad):
    assert parse_camera(bad) is None


# ---- debounced writes ------------------------------------------------------------------------
def test_saver_writes_only_the_last_camera_once_the_view_is_still():
    t, written = FakeTimers(), []
    saver = CameraSaver(lambda m, c: written.append((m, c)), schedule=t.schedule, cancel=t.cancel)
    frames = [parse_camera({**SIDE, "position": [2.5, 0.01 * i, 0.9]}) for i in range(1, 40)]
    for cam in frames:                    # a drag: a camera per frame
        saver.changed(7, cam)
    assert written == [] and len(t.armed) == 1          # one timer, re-armed each time
    t.fire_all()
    assert written == [(7, frames[-1])]
    saver.flush()
    assert len(written) == 1                            # nothing pending: nothing written again


def test_saver_flushes_the_old_map_before_another_one():
    t, written = FakeTimers(), []
    saver = CameraSaver(lambda m, c: written.append((m, c)), schedule=t.schedule, cancel=t.cancel)
    a, b = parse_camera(SIDE), parse_camera(BACK)
    saver.changed(1, a)
    saver.changed(2, b)
    assert written == [(1, a)]
    saver.discard()
    t.fire_all()
    assert written == [(1, a)]


def test_a_failed_write_does_not_raise():
    def boom(m, c):
        raise KeyError("gone")
    saver = CameraSaver(boom)
    saver.changed(1, parse_camera(SIDE))
    saver.flush()
    assert saver.pending is None and saver.writes == 0


# ---- the store ------------------------------------------------------------------------------
def test_store_keeps_a_camera_per_map(tmp_path):
    s = Store(tmp_path / "h.sqlite3")
    t = new_token()
    m = s.create_map(t, "{}")
    assert s.load_camera(t, m) is None
    before = s.list_maps(t)[0].updated
    s.save_camera(t, m, json.dumps(SIDE))
    assert json.loads(s.load_camera(t, m)) == SIDE
    assert s.list_maps(t)[0].updated == before            # looking is not editing
    other = new_token()
    with pytest.raises(KeyError):
        s.save_camera(other, m, "{}")
    with pytest.raises(KeyError):
        s.load_camera(other, m)


def old_database(path, token: str, document: str) -> int:
    """A database as hipviz wrote it before cameras were kept (no camera column)."""
    with sqlite3.connect(path) as c:
        c.executescript("""
            CREATE TABLE people (token TEXT PRIMARY KEY, created REAL NOT NULL);
            CREATE TABLE maps (id INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL REFERENCES people(token),
                               title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, document TEXT NOT NULL);
            CREATE INDEX maps_by_token ON maps(token, updated);
        """)
        c.execute("INSERT INTO people VALUES (?, 1)", (token,))
        cur = c.execute("INSERT INTO maps(token, title, created, updated, document) VALUES (?, 'Old map', 1, 2, ?)", (token, document))
        return int(cur.lastrowid)


def test_an_old_database_gains_the_camera_column(tmp_path):
    db, t = tmp_path / "old.sqlite3", new_token()
    m = old_database(db, t, '{"format": "hipviz-painmap", "version": 1}')
    s = Store(db)
    assert s.load_camera(t, m) is None
    s.save_camera(t, m, json.dumps(BACK))
    s.close()
    assert json.loads(Store(db).load_camera(t, m)) == BACK


# ---- the app ---------------------------------------------------------------------------------
def stored_app(ctx, **kw) -> HipvizApp:
    """An app whose map is stored (a blank map is stored only once something is answered)."""
    app = HipvizApp(ctx, **kw)
    app.q_aggravators.value = ["stairs"]
    assert app.map_id is not None
    return app


def test_a_blank_map_keeps_its_camera_once_it_is_stored(ctx, timers):
    app = HipvizApp(ctx)
    assert app.map_id is None and ctx.store.list_maps(app.token) == []
    app.viewer._handle_msg({"type": "camera", **SIDE})
    timers.fire_all()
    assert ctx.store.list_maps(app.token) == []           # turning the body stores nothing
    app.q_aggravators.value = ["stairs"]                  # the first answer stores the map...
    timers.fire_all()
    assert json.loads(ctx.store.load_camera(app.token, app.map_id)) == SIDE   # ...and the view it was seen from


def test_moving_the_view_is_saved_debounced_and_restored_on_reload(ctx, timers):
    app = stored_app(ctx)
    for i in range(25):                                   # a drag reported many times
        app.viewer._handle_msg({"type": "camera", **SIDE, "position": [2.5, 0.02 * i, 0.9]})
    assert ctx.store.load_camera(app.token, app.map_id) is None       # not written on every frame
    app.viewer._handle_msg({"type": "camera", **SIDE})
    timers.fire_all()
    assert app.maps.camera_saver.writes == 1
    assert json.loads(ctx.store.load_camera(app.token, app.map_id)) == SIDE

    again = HipvizApp(ctx, token=app.token)               # reload: the same person and map
    assert again.map_id == app.map_id
    assert_camera(again.viewer.camera, SIDE)
    assert_camera(camera_after_ready(again), SIDE)        # the browser built its view: it looks from there


def test_a_bad_camera_message_changes_nothing(ctx, timers):
    app = stored_app(ctx)
    for bad in ({"type": "camera"}, {"type": "camera", **SIDE, "view_up": [0, 0, 0]},
                {"type": "camera", "position": "x", "focal_point": None, "view_up": 3}):
        app.viewer._handle_msg(bad)
    timers.fire_all()
    assert ctx.store.load_camera(app.token, app.map_id) is None
    assert_camera(app.viewer.camera, reset_camera(app))


def test_an_old_map_without_a_camera_opens_at_the_default_view(tmp_path, timers):
    from hipviz.painmap import PainMap
    db, t = tmp_path / "old.sqlite3", new_token()
    doc = PainMap.from_dict({"format": "hipviz-painmap", "version": 1,
                             "regions": [{"region": "lateral_hip_trochanter", "side": "right", "intensity": 6}]}).to_json()
    m = old_database(db, t, doc)
    ctx = AppContext(fake_atlas(), Store(db))
    try:
        app = HipvizApp(ctx, token=t)
        assert app.map_id == m and "side of the hip" in app.painted.object.lower()
        assert_camera(app.viewer.camera, reset_camera(app))
        assert_camera(camera_after_ready(app), reset_camera(app))
        # and it keeps a camera from now on
        app.viewer._handle_msg({"type": "camera", **BACK})
        timers.fire_all()
        assert_camera(HipvizApp(ctx, token=t).viewer.camera, BACK)
    finally:
        ctx.store.close()


@pytest.mark.parametrize("stored", [
    "not json at all",
    '{"position": [1, 2, 3]}',
    json.dumps({**SIDE, "position": SIDE["focal_point"]}),
    '{"position": [NaN, 0, 0], "focal_point": [0, 0, 0], "view_up": [0, 0, 1]}',
    "[]",
])
def test_a_malformed_stored_camera_is_ignored(ctx, stored):
    app = stored_app(ctx)
    ctx.store.save_camera(app.token, app.map_id, stored)
    again = HipvizApp(ctx, token=app.token)
    assert again.map_id == app.map_id
    assert_camera(again.viewer.camera, reset_camera(again))
    assert_camera(camera_after_ready(again), reset_camera(again))
    assert ctx.store.load_camera(app.token, app.map_id) == stored      # left as it was


def test_each_map_keeps_its_own_camera(ctx, timers):
    app = stored_app(ctx)
    first = app.map_id
    app.viewer._handle_msg({"type": "camera", **SIDE})
    app.new_map_btn.clicks += 1                           # the pending camera is written first
    assert json.loads(ctx.store.load_camera(app.token, first)) == SIDE
    assert app.map_id is None                             # a new map, stored once something is in it
    assert_camera(app.viewer.camera, reset_camera(app))   # a new map opens at the default view
    app.q_relievers.value = ["rest"]
    second = app.map_id
    assert second not in (None, first)
    app.viewer._handle_msg({"type": "camera", **BACK})
    timers.fire_all()
    app.maps_select.value = first
    assert_camera(app.viewer.camera, SIDE)
    app.maps_select.value = second
    assert_camera(app.viewer.camera, BACK)


def test_a_linked_view_keeps_the_camera_of_its_group(ctx):
    """The textbook view beside the patient's map adopts the shared camera in the browser; its
    own (re)build must not send it the default view, which the link would pass to both views."""
    from hipviz.app.viewer import Viewer
    textbook = Viewer(ctx.payload, role="textbook", link="main")
    msgs = []
    textbook._send_msg = msgs.append
    textbook._handle_msg({"type": "ready"})
    assert not [m for m in msgs if m["type"] == "view"] and msgs[-1] == {"type": "synced"}
