"""Alembic environment for the pain map store.

Migrations run inside the transaction that `hipviz.app.store.migrate` opened on its connection
(passed in `config.attributes["connection"]`), so a migration happens whole or not at all, on
SQLite as on PostgreSQL. To write a new revision: add a file to versions/ by hand (see the
existing ones) and change `hipviz/app/dbschema.py` to match; tests/test_app_store.py checks
that the two agree.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through hipviz.app.store.migrate (or Store(...)), which passes the connection")

context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
