"""Registry read models and personal-data store.

Revision ID: r0001
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = ("registry",)
depends_on = "k0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("household_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rt", sa.String(3), nullable=False),
        sa.Column("rw", sa.String(2), nullable=False, index=True),
        sa.Column("member_count", sa.Integer, nullable=False),
        sa.Column("monthly_income_idr", BigId, nullable=False),
        sa.Column("desil", sa.Integer),
        sa.Column("dtks_listed", sa.Boolean, nullable=False),
        sa.Column("elderly", sa.Boolean, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("children", sa.Boolean, nullable=False),
        sa.Column("head_nik_masked", sa.String(32), nullable=False),
        sa.Column("pmt_score", sa.Integer),
        sa.Column("eligible", sa.Boolean),
        sa.Column("eligibility_reasons", sa.JSON),
        sa.Column("deactivation_reason", sa.String(16)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "active_niks",
        sa.Column("nik_commitment", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.Uuid, nullable=False, index=True),
    )
    op.create_table(
        "household_pii",
        sa.Column("household_id", sa.Uuid, primary_key=True),
        sa.Column("kk_number", sa.String(16), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("dtks_ref", sa.String(40)),
    )
    op.create_table(
        "members",
        sa.Column("member_id", sa.Uuid, primary_key=True),
        sa.Column(
            "household_id",
            sa.Uuid,
            sa.ForeignKey("household_pii.household_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("full_name", sa.String(120), nullable=False),
        sa.Column("nik", sa.String(16), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("members")
    op.drop_table("household_pii")
    op.drop_table("active_niks")
    op.drop_table("households")
