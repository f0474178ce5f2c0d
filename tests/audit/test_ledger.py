"""Ledger storage on SQLite and PostgreSQL: appends, proofs from stored nodes, reload,
and the database refusing to change what was appended."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit import ledger as store
from services.audit.domain import make_leaf
from services.audit.ledger import Ledger
from shared.checkpoint import Signer, load_or_create_key, parse_and_verify
from shared.db import make_engine, migrate
from shared.events import Envelope
from shared.events.registry import HouseholdDeactivated
from shared.merkle import root_from_leaf_hashes, verify_consistency, verify_inclusion

MIGRATIONS = Path(__file__).parents[2] / "services" / "audit" / "migrations"
ORIGIN = "test.bansos/ledger"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine, [MIGRATIONS])
    yield engine
    await engine.dispose()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(ORIGIN, load_or_create_key(tmp_path / "key.pem"))


def leaves(first_seq: int, n: int) -> list:  # type: ignore[type-arg]
    out = []
    for seq in range(first_seq, first_seq + n):
        event = Envelope.wrap(
            HouseholdDeactivated(reason="moved", note=f"#{seq}"),
            aggregate_id=uuid4(),
            aggregate_version=1,
            actor="tester",
        )
        out.append(make_leaf(seq, "bansos.registry.household_deactivated", event.canonical()))
    return out


async def test_proofs_from_stored_nodes_verify_for_every_size(
    engine: AsyncEngine, signer: Signer
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    appended = leaves(1, 37)
    for i in range(0, 37, 5):  # batches of uneven size
        await ledger.append(appended[i : i + 5])
    hashes = [leaf.hash for leaf in appended]
    assert ledger.frontier.root() == root_from_leaf_hashes(hashes)
    async with engine.connect() as conn:
        for size in (1, 2, 7, 16, 33, 37):
            root = root_from_leaf_hashes(hashes[:size])
            for index in range(size):
                proof, served_root, served_leaf = await store.inclusion(conn, index, size)
                assert (served_root, served_leaf) == (root, hashes[index])
                verify_inclusion(index, size, hashes[index], proof, root)
            for first in range(1, size + 1):
                proof = await store.consistency(conn, first, size)
                verify_consistency(first, size, root_from_leaf_hashes(hashes[:first]), root, proof)


async def test_redelivered_messages_are_skipped_and_a_reload_resumes(
    engine: AsyncEngine, signer: Signer
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    batch = leaves(1, 10)
    assert await ledger.append(batch) == 10
    assert await ledger.append(batch[5:] + leaves(11, 3)) == 3  # 6..10 again, then 11..13
    again = Ledger(engine, signer, ORIGIN)
    await again.load()
    assert (again.size, again.last_stream_seq) == (13, 13)
    assert again.frontier.root() == ledger.frontier.root()
    async with engine.connect() as conn:
        rows = await store.entries(conn, 0, 100)
    assert [r.stream_seq for r in rows] == list(range(1, 14))


async def test_checkpoints_are_signed_notes_over_the_current_root(
    engine: AsyncEngine, signer: Signer
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()  # an empty tree gets a checkpoint too
    assert ledger.latest is not None and ledger.latest.tree_size == 0
    await ledger.append(leaves(1, 4))
    signed = await ledger.checkpoint()
    assert signed is not None
    assert await ledger.checkpoint() is None  # nothing new, nothing signed
    parsed = parse_and_verify(signed.note, ORIGIN, signer.public_key, expected_origin=ORIGIN)
    assert (parsed.tree_size, parsed.root_hash) == (4, ledger.frontier.root())


@pytest.mark.parametrize("table", ["ledger_leaves", "ledger_nodes", "ledger_checkpoints"])
async def test_the_database_refuses_to_change_the_ledger(
    engine: AsyncEngine, signer: Signer, table: str
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    await ledger.append(leaves(1, 4))
    await ledger.checkpoint()
    column = {
        "ledger_leaves": "leaf_data",
        "ledger_nodes": "hash",
        "ledger_checkpoints": "root_hash",
    }[table]
    for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.connect() as conn:
        count = await conn.scalar(text(f"SELECT count(*) FROM {table}"))
    assert count and count > 0


async def test_an_unparseable_message_becomes_a_flagged_leaf(
    engine: AsyncEngine, signer: Signer
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    await ledger.append([make_leaf(1, "bansos.registry.x", b"\xffnot json")])
    async with engine.connect() as conn:
        [row] = await store.entries(conn, 0, 10)
        assert await store.count_unparseable(conn) == 1
    assert row.unparseable and b'"unparseable":true' in row.leaf_data
