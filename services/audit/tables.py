"""The audit database (migrations a0001, a0002, a0003): the public ledger, its private store, and
what the service keeps beside them (witness cosignatures, erasure records)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from shared.db import UTCDateTime

metadata = MetaData()
ACTOR_LENGTH = 120

# --- public: served to anyone, append-only (triggers) ---------------------------------------
leaves = Table(
    "ledger_leaves",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("stream_seq", BigInteger, nullable=False, unique=True),
    Column("subject", Text, nullable=False),  # any subject the stream holds, as it is
    Column("leaf_data", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("unparseable", Boolean, nullable=False),
    Column("type", String(80), index=True),  # the public view's; None for a flagged leaf
    Column("day", String(10), index=True),  # the public view's (Jakarta), YYYY-MM-DD
)

# A perfect subtree node (level >= 1) keyed by level << 48 | index: one integer key keeps
# every lookup a primary-key probe and the query shape cacheable.
nodes = Table(
    "ledger_nodes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)
LEVEL_SHIFT = 48


def node_key(level: int, index: int) -> int:
    return (level << LEVEL_SHIFT) | index


checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", UTCDateTime(), nullable=False),
)

cursor = Table(
    "ledger_cursor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_stream_seq", BigInteger, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
)

# --- private: opened for auditors only; an erasure nulls a row, nothing else changes it ----
sealed = Table(
    "ledger_sealed",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(8), nullable=False),  # envelope | raw
    Column("salt", LargeBinary(32)),
    Column("content", LargeBinary),  # exactly the bytes committed to
    Column("event_id", Uuid),
    Column("type", String(80)),
    Column("aggregate_id", Uuid, index=True),
    Column("actor", String(ACTOR_LENGTH), index=True),  # None if longer (search only)
    Column("occurred_at", UTCDateTime()),
    Column("erased_at", UTCDateTime()),
    Column("erasure_id", Uuid),
)

# cek bansos: a hand-over's receipt commitment -> its leaf, written with the leaf. Private
# (it links a commitment to a leaf); an erasure deletes its rows. Not unique: a hand-over
# published twice is two leaves, and a resident sees the first.
receipts = Table(
    "ledger_receipts",
    metadata,
    Column("receipt_commitment", String(64), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
)

# Witness cosignatures of checkpoints (C2SP tlog-cosignature), one per (size, witness).
cosignatures = Table(
    "ledger_cosignatures",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(100), primary_key=True),
    Column("key_id", String(8), nullable=False),  # hex, to count only configured keys
    Column("timestamp", BigInteger, nullable=False),
    Column("line", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

# An erasure's request: its reference (a letter number) stays here with the salt of the
# commitment that its audit.leaves_erased event carries.
erasures = Table(
    "ledger_erasures",
    metadata,
    Column("erasure_id", Uuid, primary_key=True),
    Column("legal_basis", String(40), nullable=False),
    Column("target", String(20), nullable=False),
    Column("reference", Text, nullable=False),
    Column("reference_salt", LargeBinary(16), nullable=False),
    Column("leaves", Integer, nullable=False),
    Column("requested_by", String(120), nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
)
