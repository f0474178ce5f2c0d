"""Registry events no longer carry a masked NIK, so its read model loses the head's (the
operators' replies compute it from the personal-data store), and deactivation notes move
off the events into a table of their own, beside the salt of their commitment.

Revision ID: r0002
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:  # SQLite rebuilds the table
        batch.drop_column("head_nik_masked")
    op.create_table(
        "deactivation_notes",
        sa.Column(
            "household_id",
            sa.Uuid,
            sa.ForeignKey("household_pii.household_id"),
            primary_key=True,
        ),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deactivation_notes")
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("head_nik_masked", sa.String(32)))
