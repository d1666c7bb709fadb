"""Local SQLite storage: persistence across restarts and isolation between people."""

import pytest

from hipviz.app.store import Store, default_db_path, new_token, valid_token


def test_maps_persist_across_restarts(tmp_path):
    db = tmp_path / "h.sqlite3"
    s = Store(db)
    t = new_token()
    a = s.create_map(t, '{"a": 1}')
    b = s.create_map(t, '{"b": 2}', title="Tuesday")
    s.save_map(t, a, '{"a": 3}')
    s.close()
    s2 = Store(db)
    maps = s2.list_maps(t)
    assert [m.id for m in maps] == [a, b] and maps[1].title == "Tuesday"
    assert s2.load_map(t, a) == '{"a": 3}'
    assert s2.latest_map(t) == a
    assert (db.stat().st_mode & 0o077) == 0


def test_people_see_only_their_own_maps(tmp_path):
    s = Store(tmp_path / "h.sqlite3")
    alice, bob = new_token(), new_token()
    m = s.create_map(alice, "{}")
    assert s.list_maps(bob) == []
    with pytest.raises(KeyError):
        s.load_map(bob, m)
    with pytest.raises(KeyError):
        s.save_map(bob, m, "{}")
    s.delete_map(bob, m)
    assert s.load_map(alice, m) == "{}"
    with pytest.raises(ValueError):
        s.list_maps("short")


def test_db_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HIPVIZ_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("HIPVIZ_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "hipviz" / "hipviz.sqlite3"
    assert valid_token(new_token()) and not valid_token("../etc") and not valid_token(None)
