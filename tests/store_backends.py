"""Making and dropping PostgreSQL test databases (used by conftest.py and the fault tests; a
module of its own because tests/e2e has a conftest of the same module name)."""

from __future__ import annotations

import secrets


def new_postgres_database(admin) -> str:
    """Create an empty database on the test server; returns its postgresql:// URL."""
    name = f"hipviz_test_{secrets.token_hex(6)}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return admin.url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin, url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
