"""Ledger v2 (issue 10): sealed leaves with public views, a private store, cosignatures,
erasures. A v1 ledger cannot be converted (its leaves commit to whole envelopes, in
public), so a new log starts: the v1 tables are kept as `ledger_v1_*` (never served) when
they hold leaves, dropped when empty, and the v2 tables start empty with the cursor at 0,
so ingest re-reads the stream from sequence 1 into the new log (new origin and key).

Revision ID: a0002
"""

import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None

TABLES = ("leaves", "nodes", "checkpoints", "cursor")
APPEND_ONLY = ("ledger_leaves", "ledger_nodes", "ledger_checkpoints")
V1_INDEXES = ("type", "aggregate_id", "actor", "occurred_at")  # of ledger_leaves


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    has_v1_leaves = bind.execute(sa.text("SELECT 1 FROM ledger_leaves LIMIT 1")).first()
    _drop_append_only_triggers(postgres)
    for column in V1_INDEXES:
        op.drop_index(f"ix_ledger_leaves_{column}", table_name="ledger_leaves")
    if has_v1_leaves:
        for table in TABLES:
            op.rename_table(f"ledger_{table}", f"ledger_v1_{table}")
            if postgres:
                _rename_constraints(f"ledger_{table}", f"ledger_v1_{table}")
        _append_only(postgres, tuple(t.replace("ledger_", "ledger_v1_") for t in APPEND_ONLY))
    else:
        for table in TABLES:
            op.drop_table(f"ledger_{table}")
    _create_v2(postgres)


def _create_v2(postgres: bool) -> None:
    op.create_table(
        "ledger_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("leaf_data", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("unparseable", sa.Boolean, nullable=False),
        sa.Column("type", sa.String(80), index=True),
        sa.Column("day", sa.String(10), index=True),
    )
    _create_tree_tables()
    op.create_table(
        "ledger_sealed",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("salt", sa.LargeBinary(32)),
        sa.Column("content", sa.LargeBinary),
        sa.Column("event_id", sa.Uuid),
        sa.Column("type", sa.String(80)),
        sa.Column("aggregate_id", sa.Uuid, index=True),
        sa.Column("actor", sa.String(120), index=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.Column("erasure_id", sa.Uuid),
    )
    op.create_table(
        "ledger_cosignatures",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(100), primary_key=True),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_erasures",
        sa.Column("erasure_id", sa.Uuid, primary_key=True),
        sa.Column("legal_basis", sa.String(40), nullable=False),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("reference_salt", sa.LargeBinary(16), nullable=False),
        sa.Column("leaves", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )
    _append_only(postgres, APPEND_ONLY)
    _erase_only(postgres)


def _create_tree_tables() -> None:
    """Nodes, checkpoints and cursor: the same in v1 and v2."""
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


def _append_only(postgres: bool, tables: tuple[str, ...]) -> None:
    """UPDATE and DELETE (and TRUNCATE) refused; the function comes from a0001."""
    for table in tables:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
            )
            continue
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {action} on "
                f"{table} refused'); END"
            )


# The private store can only lose what a leaf commits to, by an erasure; nothing rewrites
# it, and no row goes (the auditor's view must still say "erased").
_NOT_AN_ERASURE = (
    "NEW.salt IS NOT NULL OR NEW.content IS NOT NULL OR NEW.erased_at IS NULL "
    "OR NEW.idx <> OLD.idx OR NEW.kind <> OLD.kind"
)


def _erase_only(postgres: bool) -> None:
    message = "the private store only erases: % on ledger_sealed refused"
    if postgres:
        op.execute(
            "CREATE FUNCTION ledger_sealed_erase_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF TG_OP = 'UPDATE' AND NOT ("
            + _NOT_AN_ERASURE.replace("NEW.idx <> OLD.idx", "NEW.idx IS DISTINCT FROM OLD.idx")
            + f") THEN RETURN NEW; END IF; RAISE EXCEPTION '{message}', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER ledger_sealed_erase_only BEFORE UPDATE OR DELETE ON ledger_sealed "
            "FOR EACH ROW EXECUTE FUNCTION ledger_sealed_erase_only()"
        )
        op.execute(
            "CREATE TRIGGER ledger_sealed_no_truncate BEFORE TRUNCATE ON ledger_sealed "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_sealed_erase_only()"
        )
        return
    op.execute(
        "CREATE TRIGGER ledger_sealed_no_delete BEFORE DELETE ON ledger_sealed BEGIN "
        f"SELECT RAISE(ABORT, '{message.replace('%', 'DELETE')}'); END"
    )
    op.execute(
        f"CREATE TRIGGER ledger_sealed_erase_only BEFORE UPDATE ON ledger_sealed "
        f"WHEN {_NOT_AN_ERASURE} BEGIN "
        f"SELECT RAISE(ABORT, '{message.replace('%', 'UPDATE')}'); END"
    )


def _drop_append_only_triggers(postgres: bool, prefix: str = "ledger_") -> None:
    for table in (t.replace("ledger_", prefix) for t in APPEND_ONLY):
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:  # SQLite trigger names are global: v2's are the same names
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def _rename_constraints(old: str, new: str) -> None:
    """PostgreSQL names a table's keys after it (ledger_leaves_pkey): they keep that name
    through a rename, and would clash with the new table's."""
    rows = op.get_bind().execute(
        sa.text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:table AS regclass)"),
        {"table": new},
    )
    for (name,) in rows:
        if name.startswith(old + "_"):
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT "{name}" TO "{new}{name[len(old) :]}"')


def downgrade() -> None:
    """Back to a0001: the v1 ledger as it was, or an empty one if there was none."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table in ("ledger_erasures", "ledger_cosignatures", "ledger_sealed"):
        op.drop_table(table)
    for table in reversed(TABLES):
        op.drop_table(f"ledger_{table}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS ledger_sealed_erase_only()")
    if not sa.inspect(bind).has_table("ledger_v1_leaves"):
        _create_v1()
    else:
        _drop_append_only_triggers(postgres, prefix="ledger_v1_")
        for table in TABLES:
            op.rename_table(f"ledger_v1_{table}", f"ledger_{table}")
            if postgres:
                _rename_constraints(f"ledger_v1_{table}", f"ledger_{table}")
        for column in V1_INDEXES:
            op.create_index(f"ix_ledger_leaves_{column}", "ledger_leaves", [column])
    _append_only(postgres, APPEND_ONLY)


def _create_v1() -> None:
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
    _create_tree_tables()
