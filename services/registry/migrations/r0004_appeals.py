"""Appeals: households keep their KK's commitment (an appeal may name a household by its
KK number), and the operators' work list of re-surveys appeals asked for.

Existing households get the commitment their registration event carries (the event store
holds it), so appeals match households registered before this revision too.

Revision ID: r0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("households", sa.Column("kk_commitment", sa.String(64)))
    op.create_index("ix_households_kk_commitment", "households", ["kk_commitment"])
    events = sa.table(
        "events",
        sa.column("type", sa.String),
        sa.column("aggregate_id", sa.Uuid),
        sa.column("body", sa.Text),
    )
    households = sa.table(
        "households", sa.column("household_id", sa.Uuid), sa.column("kk_commitment", sa.String)
    )
    conn = op.get_bind()
    registered = conn.execute(
        sa.select(events.c.aggregate_id, events.c.body).where(
            events.c.type == "registry.household_registered"
        )
    )
    for household_id, body in registered:
        kk = json.loads(body)["payload"].get("kk_commitment")
        conn.execute(
            sa.update(households)
            .where(households.c.household_id == household_id)
            .values(kk_commitment=kk)
        )
    op.create_table(
        "resurveys",
        sa.Column("appeal_id", sa.Uuid, primary_key=True),
        sa.Column("household_id", sa.Uuid, nullable=False, index=True),
        sa.Column("rw", sa.String(2), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("surveyed_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("verdict", sa.String(16)),
    )


def downgrade() -> None:
    op.drop_table("resurveys")
    op.drop_index("ix_households_kk_commitment", table_name="households")
    op.drop_column("households", "kk_commitment")
