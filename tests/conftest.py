"""Shared fixtures: a store on each supported database.

`store_url` gives a fresh, empty database per test: a SQLite file, and a PostgreSQL database
created on the server that $HIPVIZ_TEST_POSTGRES_URL names (any database there that the user may
CREATE DATABASE from; `bash scripts/with_postgres.sh CMD` starts a throwaway server and sets it).
Without that variable the PostgreSQL cases are skipped, except in CI (CI=true), where they fail:
CI must test both.
"""

from __future__ import annotations

import os

import pytest
from store_backends import drop_postgres_database, new_postgres_database

# Offscreen renders are compared with baselines made by Mesa's software renderer through EGL
# (tests/test_render.py); pin it, so a machine with a display or a GPU draws the same pixels.
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
os.environ.setdefault("LIBGL_ALWAYS_SOFTWARE", "1")
if os.path.exists("/usr/share/glvnd/egl_vendor.d/50_mesa.json"):
    os.environ.setdefault("__EGL_VENDOR_LIBRARY_FILENAMES", "/usr/share/glvnd/egl_vendor.d/50_mesa.json")

POSTGRES_ENV = "HIPVIZ_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _no_postgres(why: str):
    if _in_ci():
        pytest.fail(f"PostgreSQL tests cannot run in CI: {why} (.ci/run starts a server with scripts/with_postgres.sh)")
    pytest.skip(f"PostgreSQL: {why} (run under `bash scripts/with_postgres.sh ...` to include it)")


@pytest.fixture(scope="session")
def postgres_admin():
    """An engine on the PostgreSQL test server in autocommit mode (for CREATE/DROP DATABASE)."""
    import sqlalchemy as sa

    from hipviz.app.store import database_url

    url = os.environ.get(POSTGRES_ENV)
    if not url:
        _no_postgres(f"${POSTGRES_ENV} is not set")
    engine = sa.create_engine(database_url(url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
    except Exception as e:  # noqa: BLE001 - any failure to reach the server
        _no_postgres(f"cannot connect to ${POSTGRES_ENV}: {e}")
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A fresh database to open a Store on: a SQLite file path, or a postgresql:// URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "hipviz.sqlite3")
        return
    admin = request.getfixturevalue("postgres_admin")
    url = new_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


@pytest.fixture
def store(store_url):
    from hipviz.app.store import Store

    s = Store(store_url)
    yield s
    s.close()
