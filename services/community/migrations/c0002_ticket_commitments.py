"""Ticket codes are bearer secrets: complaints keep only their commitment; texts and
contacts keep the salts of their commitments.

`complaints.ticket_code` becomes `ticket_commitment` (unique): existing codes are turned
into their commitments here, under the ticket key derived from the programme secret the
service runs with (`BANSOS_PROGRAMME_KEY` in the environment, as the service reads it), so
tracking an existing complaint by its code still works, and the codes are gone. `texts`
and `contacts` get a `salt` column; rows written before hold none (their events carried
unsalted commitments).

Revision ID: c0002
"""

import sqlalchemy as sa
from alembic import op

from shared.pii import SALT_BYTES, commitments
from shared.settings import CommonSettings

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("texts", "contacts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("salt", sa.LargeBinary(SALT_BYTES)))
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("ticket_commitment", sa.String(64)))
    complaints = sa.table(
        "complaints",
        sa.column("complaint_id", sa.Uuid),
        sa.column("ticket_code", sa.String),
        sa.column("ticket_commitment", sa.String),
    )
    bind = op.get_bind()
    codes = bind.execute(sa.select(complaints.c.complaint_id, complaints.c.ticket_code)).all()
    if codes:
        cm = commitments(CommonSettings())
        for complaint_id, code in codes:
            bind.execute(
                complaints.update()
                .where(complaints.c.complaint_id == complaint_id)
                .values(ticket_commitment=cm.ticket(code))
            )
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column("ticket_commitment", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_complaints_ticket_commitment", ["ticket_commitment"])
        batch.drop_column("ticket_code")


def downgrade() -> None:
    # A commitment cannot be turned back into its code: the codes are gone for good, and
    # an existing complaint can no longer be tracked (each gets a placeholder instead).
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("ticket_code", sa.String(16)))
    op.execute("UPDATE complaints SET ticket_code = 'TB-' || CAST(seq AS VARCHAR(13))")
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column("ticket_code", existing_type=sa.String(16), nullable=False)
        batch.create_unique_constraint("uq_complaints_ticket_code", ["ticket_code"])
        batch.drop_constraint("uq_complaints_ticket_commitment", type_="unique")
        batch.drop_column("ticket_commitment")
    for table in ("contacts", "texts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("salt")
