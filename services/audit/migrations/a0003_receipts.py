"""cek bansos (issue 12): an index from a hand-over's receipt commitment to its leaf, so a
resident's receipt code finds its leaf without a scan. Private, like the sealed store; an
erasure deletes its rows. Filled here from the hand-overs already in the ledger (their
sealed envelopes, where not erased); ingest writes it with every new leaf.

Revision ID: a0003
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "a0003"
down_revision = "a0002"
branch_labels = None
depends_on = None

PAGE = 2000


def upgrade() -> None:
    table = op.create_table(
        "ledger_receipts",
        sa.Column("receipt_commitment", sa.String(64), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    assert table is not None
    bind = op.get_bind()
    after = -1
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT idx, content FROM ledger_sealed WHERE idx > :after AND kind = 'envelope' "
                "AND type = 'distribution.aid_received' AND content IS NOT NULL "
                "ORDER BY idx LIMIT :page"
            ),
            {"after": after, "page": PAGE},
        ).all()
        found = []
        for idx, content in rows:
            commitment = json.loads(bytes(content)).get("payload", {}).get("receipt_commitment")
            if isinstance(commitment, str):  # version 1 hand-overs had no receipt code
                found.append({"receipt_commitment": commitment, "idx": idx})
        if found:
            op.bulk_insert(table, found)
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("ledger_receipts")
