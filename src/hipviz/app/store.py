"""Storage of pain maps: a local SQLite file by default, a PostgreSQL database for a clinic.

A person is a random token (kept in the page URL and a cookie); each person has any number of
maps, each stored as the pain map JSON document (with its per-vertex paint), the camera the map
was last looked at from (a small JSON text, NULL until the view is first moved) and a version.
Queries always filter by token, so a session can only see its own maps.

Where the maps live (`Store(target)`, `hipviz serve --db TARGET`, or `$HIPVIZ_DB`):

- a file path (default `~/.local/share/hipviz/hipviz.sqlite3`): SQLite, nothing to install, the
  file readable by this user only; WAL mode, so a crash or a killed server loses nothing that
  was acknowledged, and several server processes on one machine can share the file;
- `postgresql://user:password@host/dbname`: a PostgreSQL server (driver: psycopg 3), for a
  clinic with several server processes or machines.

One database layer (SQLAlchemy Core) serves both, and the schema is kept by Alembic migrations
that run when a store is opened, so a file written by any earlier hipviz opens and keeps its
maps. Every method is one transaction: it happens whole or not at all.

Two tabs, one map: every save of a document names the version it was based on; a save based on
an older version than the stored one is refused with `ConflictError` (nothing written), so the
page can merge or reload instead of silently overwriting the other tab's strokes.

Faults (a read-only database, a full disk, a server that went away) raise a `StoreError`
subclass whose `user_message` is fit to show; nothing is half-written, the store stays usable
once the fault clears, and other sessions are not affected.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from hipviz.app.dbschema import maps, people

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x6869_7076   # pg_advisory_xact_lock key: one migrating process at a time


# ---- errors ----------------------------------------------------------------------------------
class StoreError(Exception):
    """A store operation that did not happen; `user_message` says why in plain words."""

    user_message = "The pain map could not be saved."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.user_message)
        if message:
            self.user_message = message


class ConflictError(StoreError):
    """A save based on an older version of the map than the stored one (another tab or window
    saved in between). Nothing was written; load the stored map, merge or reload, save again."""

    def __init__(self, map_id: int, base_version: int, current_version: int):
        self.map_id, self.base_version, self.current_version = int(map_id), int(base_version), int(current_version)
        super().__init__(f"This map was changed in another tab or window (version {current_version}, "
                         f"this page had version {base_version}).")


class StoreUnavailable(StoreError):
    """The database cannot be used for now (unreachable, busy, an I/O error)."""

    user_message = "The pain map database cannot be reached just now; your painting is kept on this page and saved when it can."


class StoreDamaged(StoreError):
    user_message = "The pain map database file is damaged or is not a hipviz database; it was left as it is."


class StoreReadOnly(StoreUnavailable):
    user_message = "The pain map database is read-only; your painting is kept on this page and saved when it can."


class StoreFull(StoreUnavailable):
    user_message = "The disk holding the pain map database is full; your painting is kept on this page and saved when there is room."


_SQLITE_CODES = {8: StoreReadOnly, 3: StoreReadOnly, 13: StoreFull, 5: StoreUnavailable, 6: StoreUnavailable,
                 10: StoreUnavailable, 14: StoreUnavailable, 11: StoreDamaged, 26: StoreDamaged}


def classify(error: BaseException) -> StoreError | None:
    """The StoreError for a database driver error, or None for errors that are bugs (a bad
    statement, a broken constraint), which should surface as they are."""
    orig = getattr(error, "orig", error)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is None:   # no code: read the message (older Pythons)
            text = str(orig).lower()
            kind = (StoreReadOnly if "readonly" in text or "read-only" in text else
                    StoreFull if "full" in text else StoreUnavailable if isinstance(orig, sqlite3.OperationalError) else None)
        else:
            kind = _SQLITE_CODES.get(code & 0xFF)
        return kind(None) if kind else None
    state = getattr(orig, "sqlstate", None)
    if state:
        if state == "25006" or state == "42501":     # read_only_sql_transaction, insufficient_privilege
            return StoreReadOnly()
        if state.startswith("53"):                   # disk_full, out_of_memory, too_many_connections
            return StoreFull() if state == "53100" else StoreUnavailable()
        if state[:2] in ("08", "57", "58", "40", "55"):   # connection, shutdown, I/O, rollback, lock
            return StoreUnavailable()
        return None
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)) or getattr(error, "connection_invalidated", False):
        return StoreUnavailable()
    return None


# ---- where the store lives -----------------------------------------------------------------
def default_db_path() -> Path:
    """$HIPVIZ_DB, else $XDG_DATA_HOME/hipviz/hipviz.sqlite3 (~/.local/share/hipviz/...)."""
    env = os.environ.get("HIPVIZ_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hipviz" / "hipviz.sqlite3"


def is_url(target: str | os.PathLike | None) -> bool:
    return target is not None and "://" in str(target)


def database_url(target: str | os.PathLike | None = None) -> URL:
    """The SQLAlchemy URL for a store target: a file path (SQLite), ':memory:', or a
    postgresql:// URL (served by psycopg 3). None: $HIPVIZ_DB, else the default file."""
    if target is None:
        target = os.environ.get("HIPVIZ_DB") or default_db_path()
    text = str(target)
    if not is_url(text):
        if text == ":memory:":
            return URL.create("sqlite")
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except sa_exc.ArgumentError:
        raise ValueError(f"not a database URL: {redact(text)}") from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise ValueError(f"PostgreSQL is reached through psycopg 3: write postgresql://…, not {url.drivername}://…")
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url.set(drivername="sqlite")
    raise ValueError(f"unsupported database {url.drivername!r}: give a file path (SQLite) or a postgresql:// URL")


def redact(target: str | os.PathLike | URL) -> str:
    """A store target fit to print: any password hidden."""
    if isinstance(target, URL):
        return target.render_as_string(hide_password=True)
    text = str(target)
    if is_url(text):
        try:
            return make_url(text).render_as_string(hide_password=True)
        except sa_exc.ArgumentError:
            return re.sub(r"//[^@/]*@", "//***@", text)
    return text


def new_token() -> str:
    return secrets.token_urlsafe(24)


def valid_token(token: str | None) -> bool:
    return bool(token) and bool(TOKEN_RE.match(token))


@dataclass(frozen=True)
class MapInfo:
    id: int
    title: str
    created: float
    updated: float
    version: int = 1


@dataclass(frozen=True)
class StoredMap:
    """One map as stored: the document, its version (name it when saving) and its camera."""
    id: int
    title: str
    created: float
    updated: float
    version: int
    document: str
    camera: str | None


def _sqlite_engine(url: URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    kwargs = {"poolclass": StaticPool} if memory else {"pool_size": 4, "max_overflow": 8}
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None          # SQLAlchemy, not the driver, says when to BEGIN
        cur = dbapi_conn.cursor()
        try:
            if not memory:
                try:
                    cur.execute("PRAGMA journal_mode=WAL")   # readers never wait for a writer
                except sqlite3.OperationalError:             # a read-only file keeps its mode
                    pass
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection):
        # writers take the write lock at BEGIN, so two processes never deadlock upgrading a read
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("hipviz_write") else "BEGIN")

    return engine


def _postgres_engine(url: URL) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)


def migrate(engine: Engine) -> list[str]:
    """Bring the database's schema to the newest revision; returns the revisions applied.

    Safe when several processes start at once: on PostgreSQL they queue on an advisory lock, on
    SQLite on the write lock; whoever comes second finds nothing left to do."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        if set(MigrationContext.configure(conn).get_current_heads()) == heads:
            return []
    with engine.connect() as conn:
        conn.execution_options(hipviz_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            before = set(MigrationContext.configure(conn).get_current_heads())
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            applied = [] if before == heads else sorted(heads - before)
    if applied:
        log.info("store schema migrated to %s", ", ".join(applied))
    return applied


# The statements of the frequent calls, built once (building an expression costs more than
# running it on SQLite); the values come as bound parameters.
_P = sa.bindparam
_MAP_OF = (maps.c.id == _P("map_id"), maps.c.token == _P("tok"))
_PERSON = sa.select(people.c.token).where(people.c.token == _P("tok"))
_SAVE_ANY = maps.update().where(*_MAP_OF).values(document=_P("doc"), updated=_P("now"), version=maps.c.version + 1)
_SAVE_BASED = _SAVE_ANY.where(maps.c.version == _P("base"))
_VERSION = sa.select(maps.c.version).where(*_MAP_OF)
_CAMERA = maps.update().where(*_MAP_OF).values(camera=_P("cam"))
_GET = sa.select(maps.c.id, maps.c.title, maps.c.created, maps.c.updated, maps.c.version, maps.c.document,
                 maps.c.camera).where(*_MAP_OF)
_LIST = (sa.select(maps.c.id, maps.c.title, maps.c.created, maps.c.updated, maps.c.version)
         .where(maps.c.token == _P("tok")).order_by(maps.c.updated.desc(), maps.c.id.desc()))


class Store:
    """The pain maps of every person served by this process (and any other process sharing the
    same database). Thread-safe; one per process."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.url = database_url(path)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            db = self.url.database
            self.path: Path | None = Path(db) if db else Path(":memory:")
            if db:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    # made readable by this user only before SQLite opens it, so its -wal and
                    # -shm files (which take the database file's mode) are private too
                    os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
                except OSError as e:
                    raise StoreUnavailable(f"The pain map database file cannot be made: {self.path} ({e.strerror or e}).") from e
            self.engine = _sqlite_engine(self.url)
            # one writer at a time within this process (SQLite allows one anyway); readers run freely
            self._write_lock: threading.Lock | None = threading.Lock()
        else:
            self.path = None
            self.engine = _postgres_engine(self.url)
            self._write_lock = None
        # pooled connections must not cross a fork (`hipviz serve --procs N` forks after opening)
        self._pid = os.getpid()
        try:
            self._guarded(lambda: migrate(self.engine))
        except BaseException:
            self.engine.dispose()
            raise
        if self.path is not None and str(self.path) != ":memory:":
            for f in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                try:
                    os.chmod(f, 0o600)   # health data: readable by this user only (files made by older versions too)
                except OSError:
                    pass

    def __repr__(self) -> str:
        return f"Store({self.describe()!r})"

    def describe(self) -> str:
        """Where the maps are kept, fit to print (no password)."""
        return str(self.path) if self.path is not None else redact(self.url)

    def close(self) -> None:
        self.engine.dispose()

    # ---- transactions ------------------------------------------------------------------------
    def _fork_check(self) -> None:
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)   # the parent's connections stay the parent's
            self._pid = os.getpid()
            if self._write_lock is not None:
                self._write_lock = threading.Lock()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises. Driver
        errors that are faults (read-only, full, unreachable) come out as StoreError."""
        self._fork_check()
        lock = self._write_lock if (write and self._write_lock is not None) else nullcontext()
        try:
            with lock, self.engine.connect() as conn:
                if write:
                    conn.execution_options(hipviz_write=True)
                with conn.begin():
                    yield conn
        except sa_exc.DBAPIError as e:
            err = classify(e)
            if err is None:
                raise
            log.warning("store: %s (%s)", type(err).__name__, e.orig if hasattr(e, "orig") else e)
            raise err from e

    def _guarded(self, fn):
        try:
            return fn()
        except sa_exc.DBAPIError as e:
            err = classify(e)
            if err is None:
                raise
            raise err from e

    def _insert_ignore(self, table):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _check(self, token: str) -> None:
        if not valid_token(token):
            raise ValueError("invalid session token")

    # ---- people and maps ---------------------------------------------------------------------
    def _ensure_person(self, conn: Connection, token: str) -> None:
        # look first: someone who already exists needs no write (so a read-only database still
        # opens their maps)
        if conn.execute(_PERSON, {"tok": token}).first() is None:
            conn.execute(self._insert_ignore(people).values(token=token, created=time.time()).on_conflict_do_nothing())

    def ensure_person(self, token: str) -> None:
        self._check(token)
        with self.transaction() as c:
            if c.execute(_PERSON, {"tok": token}).first() is not None:
                return
        with self.transaction(write=True) as c:
            self._ensure_person(c, token)

    def create_map(self, token: str, document: str, title: str | None = None) -> int:
        """A new map (version 1) for this person; returns its id."""
        self._check(token)
        now = time.time()
        with self.transaction(write=True) as c:
            self._ensure_person(c, token)
            n = c.execute(sa.select(sa.func.count()).select_from(maps).where(maps.c.token == token)).scalar_one()
            res = c.execute(maps.insert().values(token=token, title=title or f"Pain map {n + 1}", created=now,
                                                 updated=now, document=document, version=1))
            return int(res.inserted_primary_key[0])

    def save_map(self, token: str, map_id: int, document: str, base_version: int | None = None) -> int:
        """Store a map's document; returns its new version.

        `base_version` is the version the document was built from (as `get_map` or the previous
        save returned it). If the stored map has moved on since (another tab saved), nothing is
        written and ConflictError is raised. Without `base_version` the save overwrites whatever
        is stored (for tools that replace a map on purpose)."""
        self._check(token)
        params = {"map_id": int(map_id), "tok": token, "doc": document, "now": time.time()}
        if base_version is not None:
            params["base"] = int(base_version)
        with self.transaction(write=True) as c:
            res = c.execute(_SAVE_ANY if base_version is None else _SAVE_BASED, params)
            current = c.execute(_VERSION, params).scalar_one_or_none()
            if current is None:
                raise KeyError(f"no map {map_id} for this session")
            if res.rowcount != 1:
                raise ConflictError(map_id, base_version, current)
            return int(current)

    def save_camera(self, token: str, map_id: int, camera: str | None) -> None:
        """Keep the camera (a JSON text) of a map; its `updated` time and version stay: looking
        is not editing."""
        self._check(token)
        with self.transaction(write=True) as c:
            res = c.execute(_CAMERA, {"map_id": int(map_id), "tok": token, "cam": camera})
            if res.rowcount != 1:
                raise KeyError(f"no map {map_id} for this session")

    def load_camera(self, token: str, map_id: int) -> str | None:
        """The camera text kept for a map, or None (never moved, or a map from before cameras were kept)."""
        return self.get_map(token, map_id).camera

    def rename_map(self, token: str, map_id: int, title: str) -> None:
        self._check(token)
        with self.transaction(write=True) as c:
            c.execute(maps.update().where(maps.c.id == int(map_id), maps.c.token == token)
                      .values(title=title.strip()[:80] or "Pain map"))

    def delete_map(self, token: str, map_id: int) -> None:
        self._check(token)
        with self.transaction(write=True) as c:
            c.execute(maps.delete().where(maps.c.id == int(map_id), maps.c.token == token))

    def get_map(self, token: str, map_id: int) -> StoredMap:
        """The stored map with its version; KeyError if this person has no such map."""
        self._check(token)
        with self.transaction() as c:
            row = c.execute(_GET, {"map_id": int(map_id), "tok": token}).one_or_none()
        if row is None:
            raise KeyError(f"no map {map_id} for this session")
        return StoredMap(int(row.id), row.title, float(row.created), float(row.updated), int(row.version), row.document, row.camera)

    def load_map(self, token: str, map_id: int) -> str:
        return self.get_map(token, map_id).document

    def map_version(self, token: str, map_id: int) -> int:
        self._check(token)
        with self.transaction() as c:
            v = c.execute(_VERSION, {"map_id": int(map_id), "tok": token}).scalar_one_or_none()
        if v is None:
            raise KeyError(f"no map {map_id} for this session")
        return int(v)

    def list_maps(self, token: str) -> list[MapInfo]:
        self._check(token)
        with self.transaction() as c:
            rows = c.execute(_LIST, {"tok": token}).all()
        return [MapInfo(int(i), t, float(cr), float(u), int(v)) for i, t, cr, u, v in rows]

    def latest_map(self, token: str) -> int | None:
        maps_ = self.list_maps(token)
        return maps_[0].id if maps_ else None
