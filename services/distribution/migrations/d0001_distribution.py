"""Distribution read models: budgets, certificates, rounds, allocations, eligibility.

Revision ID: d0001
"""

import sqlalchemy as sa
from alembic import op

revision = "d0001"
down_revision = None
branch_labels = ("distribution",)
depends_on = "k0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("budget_id", sa.Uuid, primary_key=True),
        sa.Column("programme", sa.String(8), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("total_idr", BigId, nullable=False),
        sa.Column("allocated_idr", BigId, nullable=False),
        sa.Column("benefit_idr", BigId, nullable=False),
        sa.Column("package", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "officer_certificates",
        sa.Column("certificate_number", sa.String(60), primary_key=True),
        sa.Column("officer_id", sa.Uuid, nullable=False, index=True),
        sa.Column("officer_sub", sa.String(120), nullable=False),
        sa.Column("certified_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
    )
    op.create_table(
        "rounds",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("round_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("programme", sa.String(8), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("budget_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("poskos", sa.JSON, nullable=False),
        sa.Column("allocated", sa.Integer, nullable=False),
        sa.Column("received", sa.Integer, nullable=False),
        sa.Column("undelivered", sa.Integer, nullable=False),
        sa.Column("amount_allocated_idr", BigId, nullable=False),
        sa.Column("amount_received_idr", BigId, nullable=False),
        sa.Column("endorsed_by", sa.String(120)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "allocations",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("allocation_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("round_id", sa.Uuid, nullable=False),
        sa.Column("household_id", sa.Uuid, nullable=False),
        sa.Column("programme", sa.String(8), nullable=False),
        sa.Column("rt", sa.String(3), nullable=False),
        sa.Column("rw", sa.String(2), nullable=False),
        sa.Column("head_nik_masked", sa.String(32), nullable=False),
        sa.Column("amount_idr", BigId, nullable=False),
        sa.Column("package", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("based_on_event_id", sa.Uuid, nullable=False),
        sa.Column("officer_id", sa.Uuid),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("undelivered_reason", sa.String(16)),
        sa.Column("version", sa.Integer, nullable=False),
        # A household once per round, also in the read model.
        sa.UniqueConstraint("round_id", "household_id", name="uq_allocations_round_household"),
    )
    op.create_index("ix_allocations_round_rw", "allocations", ["round_id", "rw", "seq"])
    op.create_table(
        "eligibility",
        sa.Column("household_id", sa.Uuid, primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("eligible", sa.Boolean),
        sa.Column("rt", sa.String(3), nullable=False),
        sa.Column("rw", sa.String(2), nullable=False, index=True),
        sa.Column("head_nik_masked", sa.String(32), nullable=False),
        sa.Column("member_commitments", sa.JSON, nullable=False),
        sa.Column("decided_by_event_id", sa.Uuid),
        sa.Column("registry_version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("eligibility", "allocations", "rounds", "officer_certificates", "budgets"):
        op.drop_table(table)
