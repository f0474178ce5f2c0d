"""Mentoring cases (pendampingan): cases, their visits and referrals; and the topic codes
of meetings (`meeting_held` version 2; meetings recorded before have none).

Revision ID: c0003
"""

import sqlalchemy as sa
from alembic import op

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("subject", sa.String(9), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("household_id", sa.Uuid, nullable=False, index=True),
        sa.Column("member_id", sa.Uuid),
        sa.Column("course_id", sa.Uuid),
        sa.Column("complaint_id", sa.Uuid),
        sa.Column("rw", sa.String(2), nullable=False, index=True),
        sa.Column("facilitator", sa.String(120), nullable=False, index=True),
        sa.Column("status", sa.String(8), nullable=False, index=True),
        sa.Column("outcome", sa.String(24)),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("visits_made", sa.Integer, nullable=False),
        sa.Column("last_visit_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "case_visits",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Uuid, nullable=False, index=True),
        sa.Column("plan_index", sa.Integer),
        sa.Column("planned_on", sa.Date),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("visited_on", sa.Date),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("needs", sa.JSON, nullable=False),
        sa.Column("next_steps", sa.JSON, nullable=False),
        sa.Column("business_running", sa.Boolean),
        sa.Column("income_band", sa.String(12)),
        sa.Column("event_id", sa.Uuid),
    )
    op.create_table(
        "case_referrals",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Uuid, nullable=False, index=True),
        sa.Column("referral_index", sa.Integer, nullable=False),
        sa.Column("office", sa.String(12), nullable=False),
        sa.Column("referred_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False, index=True),
        sa.Column("answer", sa.String(12)),
        sa.Column("answered_on", sa.Date),
        sa.UniqueConstraint("case_id", "referral_index", name="uq_case_referrals_index"),
    )
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(
            sa.Column("topic_codes", sa.JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    # The default only filled the existing rows: the projection always writes the codes.
    with op.batch_alter_table("meetings") as batch:
        batch.alter_column("topic_codes", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("topic_codes")
    for table in ("case_referrals", "case_visits", "cases"):
        op.drop_table(table)
