"""People and their maps, as hipviz kept them before migrations (adopted where they exist).

Databases written before the store used Alembic already hold these tables (with or without the
camera column); this revision creates what is missing and leaves what is there, so such a file
opens with its maps.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    insp = sa.inspect(bind)
    tables = set(insp.get_table_names())
    if "people" not in tables:
        op.create_table(
            "people",
            sa.Column("token", sa.Text, primary_key=True),
            sa.Column("created", sa.Float, nullable=False),
        )
    if "maps" not in tables:
        op.create_table(
            "maps",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("token", sa.Text, sa.ForeignKey("people.token"), nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("created", sa.Float, nullable=False),
            sa.Column("updated", sa.Float, nullable=False),
            sa.Column("document", sa.Text, nullable=False),
            sa.Column("camera", sa.Text),
            sqlite_autoincrement=True,
        )
    elif "camera" not in {c["name"] for c in insp.get_columns("maps")}:
        op.add_column("maps", sa.Column("camera", sa.Text))     # a file from before the camera was kept
    if "maps_by_token" not in {i["name"] for i in sa.inspect(bind).get_indexes("maps")}:
        op.create_index("maps_by_token", "maps", ["token", "updated"])


def downgrade() -> None:
    op.drop_index("maps_by_token", table_name="maps")
    op.drop_table("maps")
    op.drop_table("people")
