"""Verification with recipients (issue 15): the hand-overs and closures learnt from
distribution, the samples drawn from ledger checkpoints and the verifications; feedback
may name its hand-over by receipt code (one rating per receipt).

Revision ID: c0004
"""

import sqlalchemy as sa
from alembic import op

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("receipt_commitment", sa.String(64)))
        batch.create_unique_constraint("uq_feedback_receipt_commitment", ["receipt_commitment"])
    op.create_table(
        "handovers",
        sa.Column("allocation_id", sa.Uuid, primary_key=True),
        sa.Column("round_id", sa.Uuid, nullable=False, index=True),
        sa.Column("rw", sa.String(2), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("receipt_commitment", sa.String(64), index=True),
    )
    op.create_table(
        "closures",
        sa.Column("round_id", sa.Uuid, primary_key=True),
        sa.Column("closed_at", AT, nullable=False),
        sa.Column("stream_seq", sa.Integer),
        sa.Column("received", sa.Integer, nullable=False),
    )
    op.create_table(
        "samples",
        sa.Column("round_id", sa.Uuid, primary_key=True),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("tree_size", sa.Integer, nullable=False),
        sa.Column("root_hash", sa.String(44), nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("drawn_at", AT, nullable=False),
        sa.Column("drawn_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "sample_members",
        sa.Column("allocation_id", sa.Uuid, primary_key=True),
        sa.Column("round_id", sa.Uuid, nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "verifications",
        sa.Column("allocation_id", sa.Uuid, primary_key=True),
        sa.Column("round_id", sa.Uuid, nullable=False, index=True),
        sa.Column("rw", sa.String(2), nullable=False),
        sa.Column("received", sa.Boolean, nullable=False),
        sa.Column("full", sa.Boolean),
        sa.Column("asked_to_pay", sa.Boolean, nullable=False),
        sa.Column("pay_band", sa.String(10)),
        sa.Column("respectful", sa.Boolean, nullable=False),
        sa.Column("discrepancies", sa.JSON, nullable=False),
        sa.Column("complaint_id", sa.Uuid),
        sa.Column("verified_at", AT, nullable=False),
        sa.Column("facilitator", sa.String(120), nullable=False),
    )


def downgrade() -> None:
    for table in ("verifications", "sample_members", "samples", "closures", "handovers"):
        op.drop_table(table)
    with op.batch_alter_table("feedback") as batch:
        batch.drop_constraint("uq_feedback_receipt_commitment", type_="unique")
        batch.drop_column("receipt_commitment")
