"""Paint is never left only in memory for long: the autosave timer, retries after a failed save
(a read-only database, a full disk), and the save status in the header."""

from __future__ import annotations

import json

import pytest
from test_app_fakes import fake_atlas
from test_app_session import right_lateral_hip_vertex

from hipviz.app import layout, map_keeper
from hipviz.app.autosave import Autosave
from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.store import Store, StoreFull, StoreReadOnly


class FakeTimers:
    """A stand-in for the page document's timeout callbacks: run them by hand."""

    def __init__(self):
        self.pending: dict[int, tuple[float, object]] = {}
        self._next = 0

    def schedule(self, delay, fn):
        self._next += 1
        self.pending[self._next] = (delay, fn)
        return self._next

    def cancel(self, handle):
        if handle not in self.pending:
            raise ValueError("already ran")
        del self.pending[handle]

    def run_all(self) -> int:
        """Run the timers armed now (not those they arm in turn, as a retry would)."""
        due, self.pending = self.pending, {}
        for _, fn in due.values():
            fn()
        return len(due)


def test_autosave_arms_once_retries_and_disarms():
    timers, saves = FakeTimers(), []
    a = Autosave(lambda: saves.append(1), delay=0.8, retry=5.0, schedule=timers.schedule, cancel=timers.cancel)
    a.changed()
    a.changed()                      # a stream of dabs does not push the save back
    assert [d for d, _ in timers.pending.values()] == [0.8]
    a.failed()
    assert [d for d, _ in timers.pending.values()] == [5.0]
    assert timers.run_all() == 1 and saves == [1] and not a.armed
    a.changed()
    a.saved()
    assert not timers.pending and not a.armed


@pytest.fixture
def app_and_timers(tmp_path, monkeypatch):
    timers = FakeTimers()
    monkeypatch.setattr(layout, "_doc_timers", lambda: {"schedule": timers.schedule, "cancel": timers.cancel})
    ctx = AppContext(fake_atlas(), Store(tmp_path / "app.sqlite3"))
    app = HipvizApp(ctx)
    yield app, timers
    ctx.store.close()


def _regions(app) -> list:
    if app.map_id is None:
        return []
    return json.loads(app.store.load_map(app.token, app.map_id)).get("regions", [])


def test_a_stroke_held_still_is_saved_by_the_timer(app_and_timers):
    app, timers = app_and_timers
    v = right_lateral_hip_vertex(app.session)
    app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [v, v + 1]})
    assert _regions(app) == []       # the first dab of a stroke waits for the stroke's age
    assert app.maps.autosave.armed
    timers.run_all()                 # no more dabs (the pointer is held still), the timer fires
    assert _regions(app), "the stroke in progress was not saved"
    assert "Saved" in app.header.object


@pytest.mark.parametrize("fault", [StoreReadOnly, StoreFull])
def test_a_failed_save_keeps_the_paint_says_so_everywhere_and_saves_when_it_can(app_and_timers, monkeypatch, fault):
    app, timers = app_and_timers
    v = right_lateral_hip_vertex(app.session)
    real_create = app.store.create_map

    def broken(*a, **k):
        raise fault()

    monkeypatch.setattr(app.store, "create_map", broken)
    app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [v, v + 1]})
    app.viewer._handle_msg({"type": "stroke_end", "stroke": 1})
    assert app.map_id is None and app.session.painted_indices().size   # kept in memory
    assert "Not saved" in app.header.object and "role='alert'" in app.header.object
    assert fault.user_message in app.header.object                     # the reason, on every tab
    assert [d for d, _ in timers.pending.values()] == [map_keeper.SAVE_RETRY_S]
    timers.run_all()                 # still failing: tried, and armed again
    assert app.map_id is None and [d for d, _ in timers.pending.values()] == [map_keeper.SAVE_RETRY_S]
    monkeypatch.setattr(app.store, "create_map", real_create)           # room again
    timers.run_all()
    assert _regions(app) and "Saved" in app.header.object and "Not saved" not in app.header.object
    assert not timers.pending
