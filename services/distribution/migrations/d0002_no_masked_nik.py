"""Version 2 events carry no masked NIK and no staff note: the allocations read model and
this service's copy of the registry's households (`eligibility`, shared/households.py)
lose the head's masked NIK, and notes move into `staff_notes`, beside the salt of the
commitment their event carries.

Revision ID: d0002
"""

import sqlalchemy as sa
from alembic import op

revision = "d0002"
down_revision = "d0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("allocations", "eligibility"):
        with op.batch_alter_table(table) as batch:  # SQLite rebuilds the table
            batch.drop_column("head_nik_masked")
    op.create_table(
        "staff_notes",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("aggregate_id", sa.Uuid, nullable=False, index=True),
        sa.Column("aggregate_version", sa.Integer, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_notes")
    for table in ("eligibility", "allocations"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("head_nik_masked", sa.String(32)))
