"""Training read models: courses, enrolments, attendance, outcomes, registry households.

Revision ID: t0001
"""

import sqlalchemy as sa
from alembic import op

revision = "t0001"
down_revision = None
branch_labels = ("training",)
depends_on = "k0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("title", sa.String(160), nullable=False),
        sa.Column("trainer", sa.String(120), nullable=False),
        sa.Column("sessions", sa.JSON, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("completion_threshold_pct", sa.Integer, nullable=False),
        sa.Column("seated", sa.Integer, nullable=False),
        sa.Column("waitlisted", sa.Integer, nullable=False),
        sa.Column("completed", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "enrolments",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("enrolment_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("course_id", sa.Uuid, nullable=False, index=True),
        sa.Column("household_id", sa.Uuid, nullable=False, index=True),
        sa.Column("member_commitment", sa.String(64), nullable=False, index=True),
        sa.Column("rw", sa.String(2), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("priority", sa.Boolean, nullable=False),
        sa.Column("attended", sa.Integer, nullable=False),
        sa.Column("attendance_pct", sa.Integer),
        sa.Column("certificate_number", sa.String(60)),
        sa.Column("withdrawal_reason", sa.String(12)),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "attendance",
        sa.Column("enrolment_id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, primary_key=True),
        sa.Column("present", sa.Boolean, nullable=False),
    )
    op.create_table(
        "outcomes",
        sa.Column("enrolment_id", sa.Uuid, primary_key=True),
        sa.Column("months_after", sa.Integer, primary_key=True),
        sa.Column("monthly_income_idr", BigId, nullable=False),
        sa.Column("business_status", sa.String(10), nullable=False),
        sa.Column("employed", sa.Boolean, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The registry's households as training knows them (shared/households.py).
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
    for table in ("eligibility", "outcomes", "attendance", "enrolments", "courses"):
        op.drop_table(table)
