"""The tables of the pain map store, as the code queries them (SQLAlchemy Core).

The migrations in `hipviz/app/migrations/versions/` build exactly these tables (a test compares
the migrated database with this metadata on SQLite and PostgreSQL); change both together.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: A person is a random token (kept in the page URL and a cookie); no name, no account.
people = sa.Table(
    "people", metadata,
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("created", sa.Float, nullable=False),
)

#: Each map is the pain map JSON document (with its per-vertex paint), the camera it was last
#: seen from (JSON text, NULL until moved), and a version that goes up by one with every save
#: of the document (a save names the version it was based on; see Store.save_map).
maps = sa.Table(
    "maps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token", sa.Text, sa.ForeignKey("people.token"), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("camera", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Index("maps_by_token", "token", "updated"),
    sqlite_autoincrement=True,   # ids of deleted maps are never handed out again
)

# ---- clinic mode ----------------------------------------------------------------------------

#: Clinicians sign in with a user name and a password (stored as an argon2id hash only).
clinicians = sa.Table(
    "clinicians", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.Text, nullable=False, unique=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sqlite_autoincrement=True,
)

#: Signed-in clinicians: the SHA-256 of the cookie value (the value itself is never stored).
clinician_sessions = sa.Table(
    "clinician_sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("clinician_id", sa.Integer, sa.ForeignKey("clinicians.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
    sa.Index("clinician_sessions_by_clinician", "clinician_id"),
)

#: A patient shares one map by a short code; the first clinician who enters the code (before it
#: expires, unless the patient revoked it) is the one clinician who may read that map.
shares = sa.Table(
    "shares", metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("map_id", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
    sa.Column("clinician_id", sa.Integer, sa.ForeignKey("clinicians.id", ondelete="CASCADE")),
    sa.Column("claimed", sa.Float),
    sa.Column("revoked", sa.Float),
    sa.Index("shares_by_clinician", "clinician_id"),
    sa.Index("shares_by_map", "map_id"),
)

#: Every read of a shared map (and every refused attempt) is written here, in the same
#: transaction as the read: no read without its entry. Kept when the map or account goes.
access_log = sa.Table(
    "access_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("clinician_id", sa.Integer),
    sa.Column("map_id", sa.Integer),
    sa.Column("share_code", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Index("access_log_by_map", "map_id", "at"),
    sqlite_autoincrement=True,
)
