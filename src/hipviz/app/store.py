"""Local SQLite storage of pain maps: nothing leaves the machine.

A person is a random token (kept in the page URL and a cookie); each person has any number of
maps, each stored as the pain map JSON document (with its per-vertex paint) and, beside it, the
camera the map was last looked at from (a small JSON text, NULL until the view is first moved;
databases made before the camera was kept gain the column when opened). Every change is
written at once (a few kilobytes, a few milliseconds), in WAL mode so a crash or a killed server
loses nothing that was acknowledged. One store is shared by all sessions of a server; access is
serialised by a lock. Queries always filter by token, so a session can only see its own maps.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

SCHEMA = """
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


def default_db_path() -> Path:
    """$HIPVIZ_DB, else $XDG_DATA_HOME/hipviz/hipviz.sqlite3 (~/.local/share/hipviz/...)."""
    env = os.environ.get("HIPVIZ_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hipviz" / "hipviz.sqlite3"


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


class Store:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10)
        if str(self.path) != ":memory:":
            try:
                os.chmod(self.path, 0o600)   # health data: readable by this user only
            except OSError:
                pass
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(maps)")}
            if "camera" not in columns:   # a database from before the camera was kept
                self._db.execute("ALTER TABLE maps ADD COLUMN camera TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _check(self, token: str) -> None:
        if not valid_token(token):
            raise ValueError("invalid session token")

    def ensure_person(self, token: str) -> None:
        self._check(token)
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO people(token, created) VALUES (?, ?)", (token, time.time()))

    def create_map(self, token: str, document: str, title: str | None = None) -> int:
        self.ensure_person(token)
        now = time.time()
        with self._lock:
            n = self._db.execute("SELECT COUNT(*) FROM maps WHERE token = ?", (token,)).fetchone()[0]
            cur = self._db.execute(
                "INSERT INTO maps(token, title, created, updated, document) VALUES (?, ?, ?, ?, ?)",
                (token, title or f"Pain map {n + 1}", now, now, document),
            )
            return int(cur.lastrowid)

    def save_map(self, token: str, map_id: int, document: str) -> None:
        self._check(token)
        with self._lock:
            cur = self._db.execute(
                "UPDATE maps SET document = ?, updated = ? WHERE id = ? AND token = ?",
                (document, time.time(), int(map_id), token),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no map {map_id} for this session")

    def save_camera(self, token: str, map_id: int, camera: str | None) -> None:
        """Keep the camera (a JSON text) of a map; its `updated` time stays: looking is not editing."""
        self._check(token)
        with self._lock:
            cur = self._db.execute("UPDATE maps SET camera = ? WHERE id = ? AND token = ?", (camera, int(map_id), token))
            if cur.rowcount != 1:
                raise KeyError(f"no map {map_id} for this session")

    def load_camera(self, token: str, map_id: int) -> str | None:
        """The camera text kept for a map, or None (never moved, or a map from before cameras were kept)."""
        self._check(token)
        with self._lock:
            row = self._db.execute("SELECT camera FROM maps WHERE id = ? AND token = ?", (int(map_id), token)).fetchone()
        if row is None:
            raise KeyError(f"no map {map_id} for this session")
        return row[0]

    def rename_map(self, token: str, map_id: int, title: str) -> None:
        self._check(token)
        with self._lock:
            self._db.execute("UPDATE maps SET title = ? WHERE id = ? AND token = ?", (title.strip()[:80] or "Pain map", int(map_id), token))

    def delete_map(self, token: str, map_id: int) -> None:
        self._check(token)
        with self._lock:
            self._db.execute("DELETE FROM maps WHERE id = ? AND token = ?", (int(map_id), token))

    def load_map(self, token: str, map_id: int) -> str:
        self._check(token)
        with self._lock:
            row = self._db.execute("SELECT document FROM maps WHERE id = ? AND token = ?", (int(map_id), token)).fetchone()
        if row is None:
            raise KeyError(f"no map {map_id} for this session")
        return row[0]

    def list_maps(self, token: str) -> list[MapInfo]:
        self._check(token)
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, created, updated FROM maps WHERE token = ? ORDER BY updated DESC, id DESC", (token,)
            ).fetchall()
        return [MapInfo(int(i), t, float(c), float(u)) for i, t, c, u in rows]

    def latest_map(self, token: str) -> int | None:
        maps = self.list_maps(token)
        return maps[0].id if maps else None
