"""The ledger: leaves, subtree nodes, signed checkpoints (append-only), and the cursor.

Revision ID: a0001
"""

import sqlalchemy as sa
from alembic import op

revision = "a0001"
down_revision = None
branch_labels = ("audit",)
depends_on = "k0001"

APPEND_ONLY = ("ledger_leaves", "ledger_nodes", "ledger_checkpoints")


def upgrade() -> None:
    op.create_table(
        "ledger_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("leaf_data", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("unparseable", sa.Boolean, nullable=False),
        sa.Column("event_id", sa.Uuid),
        sa.Column("type", sa.String(80), index=True),
        sa.Column("aggregate_id", sa.Uuid, index=True),
        sa.Column("actor", sa.String(120), index=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), index=True),
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_cursor",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_stream_seq", sa.BigInteger, nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, "
            "TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {action} on "
                    f"{table} refused'); END"
                )


def downgrade() -> None:
    for table in ("ledger_cursor", *reversed(APPEND_ONLY)):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
