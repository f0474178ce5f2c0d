"""Appeals (banding) of households refused or dropped: the read model, found by the
tracking code's commitment (the code itself is kept nowhere).

Revision ID: c0005
"""

import sqlalchemy as sa
from alembic import op

revision = "c0005"
down_revision = "c0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("appeal_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("code_commitment", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("rw", sa.String(2), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("outcome", sa.String(12)),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("code_commitment", name="uq_appeals_code_commitment"),
    )


def downgrade() -> None:
    op.drop_table("appeals")
