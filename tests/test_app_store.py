"""The pain map store on SQLite and on PostgreSQL: persistence across restarts, isolation between
people, migrations that carry old files forward, and versioned saves (two tabs, one map).

Every test taking `store` or `store_url` runs on both databases (see conftest.py)."""

import sqlite3
import threading

import pytest

from hipviz.app.store import (
    ConflictError,
    MapInfo,
    Store,
    database_url,
    default_db_path,
    migrate,
    new_token,
    redact,
    valid_token,
)

# The schema as hipviz's hand-written sqlite3 store created it (before SQLAlchemy and Alembic),
# in its two forms: with the camera column, and from before the camera was kept.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    token   TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS maps (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    token    TEXT NOT NULL REFERENCES people(token),
    title    TEXT NOT NULL,
    created  REAL NOT NULL,
    updated  REAL NOT NULL,
    document TEXT NOT NULL,
    camera   TEXT
);
CREATE INDEX IF NOT EXISTS maps_by_token ON maps(token, updated);
"""
OLDEST_SCHEMA = OLD_SCHEMA.replace(",\n    camera   TEXT\n", "\n")


def _old_file(path, schema):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    t = "A" * 32
    db.execute("INSERT INTO people(token, created) VALUES (?, ?)", (t, 1.0))
    db.execute("INSERT INTO maps(token, title, created, updated, document) VALUES (?, 'Monday', 1.0, 2.0, '{\"m\": 1}')", (t,))
    db.execute("INSERT INTO maps(token, title, created, updated, document) VALUES (?, 'Tuesday', 3.0, 4.0, '{\"t\": 2}')", (t,))
    db.execute("DELETE FROM maps WHERE title = 'Tuesday'")   # its id must not be handed out again
    db.commit()
    db.close()
    return t


# ---- persistence and isolation -------------------------------------------------------------
def test_maps_persist_across_restarts(store_url):
    s = Store(store_url)
    t = new_token()
    a = s.create_map(t, '{"a": 1}')
    b = s.create_map(t, '{"b": 2}', title="Tuesday")
    s.save_map(t, a, '{"a": 3}')
    s.close()
    s2 = Store(store_url)
    maps = s2.list_maps(t)
    assert [m.id for m in maps] == [a, b] and maps[1].title == "Tuesday" and maps[0].title == "Pain map 1"
    assert s2.load_map(t, a) == '{"a": 3}'
    assert s2.latest_map(t) == a
    s2.rename_map(t, b, "  Wednesday  ")
    assert s2.list_maps(t)[1].title == "Wednesday"
    s2.delete_map(t, a)
    assert [m.id for m in s2.list_maps(t)] == [b]
    assert s2.latest_map(new_token()) is None
    if s2.path is not None:                              # health data: this user only
        for f in (s2.path, s2.path.with_name(s2.path.name + "-wal"), s2.path.with_name(s2.path.name + "-shm")):
            assert (f.stat().st_mode & 0o077) == 0, f
    s2.close()


def test_people_see_only_their_own_maps(store):
    s = store
    alice, bob = new_token(), new_token()
    m = s.create_map(alice, "{}")
    assert s.list_maps(bob) == []
    with pytest.raises(KeyError):
        s.load_map(bob, m)
    with pytest.raises(KeyError):
        s.save_map(bob, m, "{}")
    with pytest.raises(KeyError):
        s.save_map(bob, m, "{}", base_version=1)
    with pytest.raises(KeyError):
        s.save_camera(bob, m, "{}")
    with pytest.raises(KeyError):
        s.load_camera(bob, m)
    s.rename_map(bob, m, "mine now")
    s.delete_map(bob, m)
    assert s.load_map(alice, m) == "{}" and s.list_maps(alice)[0].title == "Pain map 1"
    with pytest.raises(ValueError):
        s.list_maps("short")
    with pytest.raises(ValueError):
        s.create_map("../../etc/passwd", "{}")


def test_camera_is_kept_beside_the_map_and_is_not_an_edit(store):
    t = new_token()
    m = store.create_map(t, "{}")
    assert store.load_camera(t, m) is None
    before = store.get_map(t, m)
    store.save_camera(t, m, '{"position": [0, 1, 2]}')
    after = store.get_map(t, m)
    assert after.camera == '{"position": [0, 1, 2]}'
    assert (after.version, after.updated, after.document) == (before.version, before.updated, before.document)


def test_large_documents_and_unicode_round_trip(store):
    t = new_token()
    doc = '{"note": "Schmerz – 痛み – ألم", "v": [' + ",".join(str(i) for i in range(200_000)) + "]}"
    m = store.create_map(t, doc, title="Hüfte ✓")
    assert store.load_map(t, m) == doc and store.list_maps(t)[0].title == "Hüfte ✓"


def test_two_stores_on_one_database_see_each_others_maps(store_url):
    """Two server processes on one database: a person's maps work whichever one they reach."""
    one, two = Store(store_url), Store(store_url)
    t = new_token()
    m = one.create_map(t, '{"x": 1}')
    assert two.load_map(t, m) == '{"x": 1}'
    v = two.save_map(t, m, '{"x": 2}', base_version=1)
    assert one.get_map(t, m).document == '{"x": 2}' and one.get_map(t, m).version == v == 2
    with pytest.raises(ConflictError):
        one.save_map(t, m, '{"x": 3}', base_version=1)
    one.close()
    two.close()


def test_concurrent_writers_lose_nothing(store):
    """Threads creating and saving maps at once (as sessions of one server do)."""
    errors = []

    def person(k):
        try:
            t = new_token()
            m = store.create_map(t, "{}")
            v = 1
            for i in range(10):
                v = store.save_map(t, m, f'{{"k": {k}, "i": {i}}}', base_version=v)
            assert store.get_map(t, m).version == 11
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=person, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


# ---- where the store lives -----------------------------------------------------------------
def test_db_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HIPVIZ_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    assert database_url(None).database == str(tmp_path / "x.db")
    monkeypatch.delenv("HIPVIZ_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "hipviz" / "hipviz.sqlite3"
    assert valid_token(new_token()) and not valid_token("../etc") and not valid_token(None)
    s = Store()
    assert s.path == tmp_path / "hipviz" / "hipviz.sqlite3" and s.path.exists()
    s.close()


def test_database_targets():
    assert database_url("maps.sqlite3").get_backend_name() == "sqlite"
    assert database_url(":memory:").database is None
    assert database_url("sqlite:////tmp/x.db").database == "/tmp/x.db"
    for raw in ("postgresql://u:secret@db.example/hipviz", "postgres://u:secret@db.example/hipviz",
                "postgresql+psycopg://u:secret@db.example/hipviz"):
        url = database_url(raw)
        assert url.drivername == "postgresql+psycopg" and url.database == "hipviz" and url.password == "secret"
    assert "secret" not in redact("postgresql://u:secret@db.example/hipviz")
    assert redact("/home/me/maps.sqlite3") == "/home/me/maps.sqlite3"
    with pytest.raises(ValueError, match="psycopg"):
        database_url("postgresql+psycopg2://u@h/db")
    with pytest.raises(ValueError, match="unsupported"):
        database_url("mysql://u@h/db")


def test_memory_store_for_benchmarks():
    s = Store(":memory:")
    t = new_token()
    m = s.create_map(t, "{}")
    assert s.list_maps(t) == [MapInfo(m, "Pain map 1", s.list_maps(t)[0].created, s.list_maps(t)[0].updated, 1)]
    s.close()


# ---- migrations ----------------------------------------------------------------------------
@pytest.mark.parametrize("schema", [OLD_SCHEMA, OLDEST_SCHEMA], ids=["with_camera", "before_camera"])
def test_a_file_from_the_old_store_opens_with_its_maps(tmp_path, schema):
    path = tmp_path / "old.sqlite3"
    t = _old_file(path, schema)
    s = Store(path)
    maps = s.list_maps(t)
    assert [(m.title, m.version) for m in maps] == [("Monday", 1)]
    got = s.get_map(t, maps[0].id)
    assert (got.document, got.camera, got.created, got.updated) == ('{"m": 1}', None, 1.0, 2.0)
    v = s.save_map(t, got.id, '{"m": 2}', base_version=got.version)
    s.save_camera(t, got.id, '{"c": 1}')
    new = s.create_map(t, "{}")
    assert new == got.id + 2                        # the deleted map's id stays retired
    assert (v, s.get_map(t, got.id).camera) == (2, '{"c": 1}')
    s.close()
    with sqlite3.connect(path) as db:               # at the newest revision, so it is not migrated again
        (rev,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert migrate(Store(path).engine) == [] and rev == _head()


def _head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from hipviz.app.store import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    return head


def test_migrated_schema_matches_the_code(store):
    """The migrations build exactly the tables that dbschema.py queries."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from hipviz.app.dbschema import metadata

    with store.engine.connect() as c:
        ctx = MigrationContext.configure(c, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_old_file_schema_matches_the_code_after_migration(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from hipviz.app.dbschema import metadata

    path = tmp_path / "old.sqlite3"
    _old_file(path, OLDEST_SCHEMA)
    s = Store(path)
    with s.engine.connect() as c:
        diff = [d[0] if isinstance(d, list) else d
                for d in compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)]
    # the old file spells FLOAT as REAL (the same column affinity in SQLite) and its primary keys
    # without NOT NULL (an INTEGER PRIMARY KEY is the rowid and cannot be NULL; tokens are checked
    # before every write): nothing else may differ
    real = [d for d in diff if d[0] == "modify_type" and type(d[5]).__name__ == "REAL"]
    keys = [d for d in diff if d[0] == "modify_nullable" and (d[2], d[3]) in {("maps", "id"), ("people", "token")}]
    assert [d for d in diff if d not in real and d not in keys] == []
    s.close()


def test_processes_starting_at_once_migrate_once(store_url):
    """Several server processes opening a new database together: one migrates, the others wait
    and find the schema ready; no one fails."""
    stores, errors = [], []

    def open_store():
        try:
            stores.append(Store(store_url))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(stores) == 4
    t = new_token()
    m = stores[0].create_map(t, "{}")
    assert stores[3].load_map(t, m) == "{}"
    for s in stores:
        s.close()


# ---- two tabs, one map ---------------------------------------------------------------------
def test_each_save_names_its_base_version(store):
    t = new_token()
    m = store.create_map(t, '{"v": 1}')
    assert store.get_map(t, m).version == 1 == store.list_maps(t)[0].version == store.map_version(t, m)
    v2 = store.save_map(t, m, '{"v": 2}', base_version=1)
    v3 = store.save_map(t, m, '{"v": 3}', base_version=v2)
    assert (v2, v3) == (2, 3) and store.get_map(t, m).document == '{"v": 3}'


def test_a_stale_save_is_refused_and_writes_nothing(store):
    t = new_token()
    m = store.create_map(t, '{"tab": "none"}')
    tab_a = store.get_map(t, m)
    tab_b = store.get_map(t, m)
    store.save_map(t, m, '{"tab": "b"}', base_version=tab_b.version)
    before = store.get_map(t, m)
    with pytest.raises(ConflictError) as e:
        store.save_map(t, m, '{"tab": "a"}', base_version=tab_a.version)
    assert (e.value.map_id, e.value.base_version, e.value.current_version) == (m, 1, 2)
    assert "another tab" in e.value.user_message
    after = store.get_map(t, m)
    assert after == before                              # no silent last-write-wins
    # tab A merges what it sees with the stored map and saves on the version it now knows
    assert store.save_map(t, m, '{"tab": "a+b"}', base_version=after.version) == 3
    assert store.load_map(t, m) == '{"tab": "a+b"}'


def test_an_unversioned_save_replaces_on_purpose(store):
    t = new_token()
    m = store.create_map(t, "{}")
    store.save_map(t, m, '{"x": 1}', base_version=1)
    assert store.save_map(t, m, '{"x": 2}') == 3       # tools that replace a map outright
