"""Database faults, on SQLite and PostgreSQL: a read-only database, a full disk, a server that
drops its connections or cannot be reached. Each gives a StoreError the page can show, writes
nothing half, leaves reads and other people working, and the store works again once the fault
clears, without a restart.

How each fault is made (as root, file permissions do not stop writes, so the database itself is
told): read-only is SQLite's `PRAGMA query_only` (the same SQLITE_READONLY error as a read-only
file) and PostgreSQL's `default_transaction_read_only` set on the database (as on a standby or a
database an administrator froze); a full disk is SQLite's `PRAGMA max_page_count` at the file's
current size (the real SQLITE_FULL) and, on PostgreSQL, a trigger raising SQLSTATE 53100
`disk_full`, the error a server out of space gives."""

from contextlib import contextmanager

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from store_backends import drop_postgres_database, new_postgres_database
from test_app_fakes import fake_atlas
from test_app_session import right_lateral_hip_vertex

from hipviz.app.dbschema import people
from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.store import Store, StoreDamaged, StoreFull, StoreReadOnly, StoreUnavailable, classify, new_token

BIG = '{"pad": "' + "x" * 300_000 + '"}'


@contextmanager
def _sqlite_pragma(store: Store, pragma):
    def on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute(pragma(dbapi_conn) if callable(pragma) else pragma)
        cur.close()

    event.listen(store.engine, "connect", on_connect)
    store.engine.dispose()
    try:
        yield
    finally:
        event.remove(store.engine, "connect", on_connect)
        store.engine.dispose()


@contextmanager
def read_only(store: Store, request):
    if store.dialect == "sqlite":
        with _sqlite_pragma(store, "PRAGMA query_only = ON"):
            yield
        return
    admin = request.getfixturevalue("postgres_admin")
    name = store.url.database
    with admin.connect() as c:
        c.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    store.engine.dispose()
    try:
        yield
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        store.engine.dispose()


@contextmanager
def disk_full(store: Store):
    if store.dialect == "sqlite":
        def at_current_size(dbapi_conn):
            (pages,) = dbapi_conn.execute("PRAGMA page_count").fetchone()
            return f"PRAGMA max_page_count = {pages}"

        with store.engine.begin() as c:        # fold the WAL in, so the file holds every page
            pass
        with store.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        with _sqlite_pragma(store, at_current_size):
            yield
        return
    with store.engine.begin() as c:
        c.exec_driver_sql("""
            CREATE FUNCTION hipviz_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$""")
        c.exec_driver_sql("CREATE TRIGGER hipviz_test_disk_full BEFORE INSERT OR UPDATE ON maps "
                          "FOR EACH ROW EXECUTE FUNCTION hipviz_test_disk_full()")
    try:
        yield
    finally:
        with store.engine.begin() as c:
            c.exec_driver_sql("DROP TRIGGER hipviz_test_disk_full ON maps")
            c.exec_driver_sql("DROP FUNCTION hipviz_test_disk_full()")


def _people(store: Store) -> set[str]:
    with store.engine.connect() as c:
        return set(c.execute(sa.select(people.c.token)).scalars())


def test_read_only_database(store, request):
    alice, bob = new_token(), new_token()
    a = store.create_map(alice, '{"a": 1}')
    b = store.create_map(bob, '{"b": 1}')
    with read_only(store, request):
        with pytest.raises(StoreReadOnly) as e:
            store.save_map(alice, a, '{"a": 2}', base_version=1)
        assert "read-only" in e.value.user_message and "kept on this page" in e.value.user_message
        with pytest.raises(StoreReadOnly):
            store.create_map(new_token(), "{}")
        with pytest.raises(StoreReadOnly):
            store.save_camera(alice, a, "{}")
        # reading goes on, for everyone; someone who exists opens without a write
        assert store.load_map(bob, b) == '{"b": 1}' and store.get_map(alice, a).version == 1
        store.ensure_person(alice)
        assert [m.id for m in store.list_maps(bob)] == [b]
    # the fault clears: the same store, the same base version, saves
    assert store.save_map(alice, a, '{"a": 2}', base_version=1) == 2
    assert store.load_map(alice, a) == '{"a": 2}'


def test_full_disk_writes_nothing_half(store):
    alice = new_token()
    a = store.create_map(alice, '{"a": 1}')
    with disk_full(store):
        newcomer = new_token()
        with pytest.raises(StoreFull) as e:
            store.create_map(newcomer, BIG)     # the person and the map are one transaction
        assert "full" in e.value.user_message
        with pytest.raises(StoreFull):
            store.save_map(alice, a, BIG, base_version=1)
        assert store.get_map(alice, a).document == '{"a": 1}' and store.get_map(alice, a).version == 1
        assert store.list_maps(newcomer) == [] and newcomer not in _people(store)
    assert store.save_map(alice, a, BIG, base_version=1) == 2
    assert store.create_map(newcomer, "{}") and newcomer in _people(store)


def test_a_fault_in_one_session_leaves_the_others_working(tmp_path):
    """One person's save hits the full disk; the next person's small save in the same store
    goes through (it fits in the file's free pages; the store's connections are not spoiled).
    SQLite only: on PostgreSQL the simulated full disk refuses every map write."""
    store = Store(tmp_path / "h.sqlite3")
    alice, bob = new_token(), new_token()
    a, b = store.create_map(alice, "{}"), store.create_map(bob, "{}")
    with disk_full(store):
        with pytest.raises(StoreFull):
            store.save_map(alice, a, BIG, base_version=1)
        assert store.save_map(bob, b, '{"b": 2}', base_version=1) == 2
        assert store.load_map(alice, a) == "{}"


def test_page_keeps_its_paint_while_the_database_is_read_only(store_url, request):
    ctx = AppContext(fake_atlas(), Store(store_url))
    try:
        app = HipvizApp(ctx)
        v = right_lateral_hip_vertex(app.session)
        app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [v]})
        app.viewer._handle_msg({"type": "stroke_end", "stroke": 1})
        with read_only(ctx.store, request):
            app.q_aggravators.value = ["stairs"]
            assert "read-only" in app.saved_msg.object and "hv-error" in app.saved_msg.object
            assert app.session.answers.aggravators == ["stairs"] and app.session.intensity[v] > 0
            again = HipvizApp(ctx, token=app.token)            # a reload still opens the map
            assert again.session.intensity[v] > 0 and again.session.answers.aggravators == []
        app.q_relievers.value = ["rest"]                       # writable again: everything saved
        assert "Saved" in app.saved_msg.object
        stored = ctx.store.get_map(app.token, app.map_id)
        assert '"stairs"' in stored.document and '"rest"' in stored.document
        assert np.any(app.session.intensity > 0)
    finally:
        ctx.store.close()


def test_postgres_connections_dropped_by_the_server_are_replaced(postgres_admin):
    """A PostgreSQL restart (or a proxy dropping idle connections) costs no request."""
    url = new_postgres_database(postgres_admin)
    store = Store(url)
    t = new_token()
    m = store.create_map(t, "{}")
    admin = postgres_admin
    with admin.connect() as c:
        killed = c.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %(d)s",
            {"d": store.url.database}).scalar_one()
    assert killed >= 1
    assert store.save_map(t, m, '{"after": "restart"}', base_version=1) == 2
    store.close()
    drop_postgres_database(postgres_admin, url)


def test_unreachable_postgres_is_a_clear_error():
    with pytest.raises(StoreUnavailable) as e:
        Store("postgresql://nobody@127.0.0.1:9/hipviz?connect_timeout=2")
    assert "cannot be reached" in e.value.user_message


def test_unusable_sqlite_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable):
        Store(blocker / "maps.sqlite3")
    not_a_db = tmp_path / "junk.sqlite3"
    not_a_db.write_bytes(b"\0" * 4096 + b"junk" * 1000)
    with pytest.raises(StoreDamaged) as e:
        Store(not_a_db)
    assert "left as it is" in e.value.user_message
    assert not_a_db.read_bytes()[4096:4100] == b"junk"


def test_programming_errors_are_not_disguised_as_faults():
    import sqlite3

    assert classify(sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))) is None
    assert isinstance(classify(sa.exc.OperationalError("x", {}, sqlite3.OperationalError("database or disk is full"))), StoreFull)
