"""Community read models and private store: complaints, texts, contacts, feedback,
meetings, and the rounds and courses feedback may name.

Revision ID: c0001
"""

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = ("community",)
depends_on = "k0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("complaint_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("ticket_code", sa.String(16), nullable=False, unique=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("rw", sa.String(2), nullable=False, index=True),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("references", sa.JSON, nullable=False),
        sa.Column("escalated_to", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "texts",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("aggregate_id", sa.Uuid, nullable=False, index=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "contacts",
        sa.Column("complaint_id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(120)),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.String(254)),
    )
    op.create_table(
        "feedback",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("feedback_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("subject_type", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.Uuid, nullable=False, index=True),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("rw", sa.String(2)),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "meetings",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("meeting_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("rw", sa.String(2), nullable=False, index=True),
        sa.Column("facilitator", sa.String(120), nullable=False),
        sa.Column("attendance", sa.JSON, nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("aspirations", sa.JSON, nullable=False),
        sa.Column("follow_ups", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "subjects",
        sa.Column("subject_id", sa.Uuid, primary_key=True),
        sa.Column("subject_type", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("rws", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("subjects", "meetings", "feedback", "contacts", "texts", "complaints"):
        op.drop_table(table)
