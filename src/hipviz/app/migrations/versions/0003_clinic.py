"""Clinic mode: clinician accounts and their sign-in sessions, maps shared by a short code, and
the log of every read of a shared map.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "clinician_sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("clinician_id", sa.Integer, sa.ForeignKey("clinicians.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("clinician_sessions_by_clinician", "clinician_sessions", ["clinician_id"])
    op.create_table(
        "shares",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("map_id", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
        sa.Column("clinician_id", sa.Integer, sa.ForeignKey("clinicians.id", ondelete="CASCADE")),
        sa.Column("claimed", sa.Float),
        sa.Column("revoked", sa.Float),
    )
    op.create_index("shares_by_clinician", "shares", ["clinician_id"])
    op.create_index("shares_by_map", "shares", ["map_id"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("clinician_id", sa.Integer),
        sa.Column("map_id", sa.Integer),
        sa.Column("share_code", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("access_log_by_map", "access_log", ["map_id", "at"])


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("shares")
    op.drop_table("clinician_sessions")
    op.drop_table("clinicians")
