"""Ledger storage on SQLite and PostgreSQL: appends, proofs from stored nodes, reload,
the private store beside the leaves, the database refusing to change what was appended,
and the upgrade of a database holding a v1 ledger."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit import ledger as store
from services.audit import private
from services.audit.domain.leaf import Leaf, make_leaves
from services.audit.ledger import Ledger
from shared.checkpoint import Signer, load_or_create_key, parse_and_verify
from shared.db import make_engine, migrate
from shared.events import Envelope, utcnow
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


def leaves(first_seq: int, n: int) -> list[Leaf]:
    messages = []
    for seq in range(first_seq, first_seq + n):
        event = Envelope.wrap(
            HouseholdDeactivated(reason="moved", note_commitment=f"{seq:064x}"),
            aggregate_id=uuid4(),
            aggregate_version=1,
            actor="tester",
        )
        messages.append((seq, "bansos.registry.household_deactivated", event.canonical()))
    return make_leaves(messages)


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
    [leaf] = make_leaves([(1, "bansos.registry.x", b"\xffnot json")])
    await ledger.append([leaf])
    async with engine.connect() as conn:
        [row] = await store.entries(conn, 0, 10)
        assert await store.count_unparseable(conn) == 1
        [sealed] = await private.openings(conn, 0, 10)
    assert row.unparseable and row.type is None and row.day is None
    assert json.loads(row.leaf_data)["public"] == {"unparseable": True, "size": 9}
    assert (sealed.kind, sealed.content, sealed.salt) == ("raw", b"\xffnot json", leaf.salt)


async def test_the_private_store_keeps_what_each_leaf_seals(
    engine: AsyncEngine, signer: Signer
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    appended = leaves(1, 5)
    await ledger.append(appended)
    async with engine.connect() as conn:
        rows = await store.entries(conn, 0, 10)
        sealed = await private.openings(conn, 0, 10)
    assert [s.idx for s in sealed] == [r.idx for r in rows] == list(range(5))
    for leaf, row, opened in zip(appended, rows, sealed, strict=True):
        shown = json.loads(row.leaf_data)
        assert shown["sealed"] == hashlib.sha256(opened.salt + opened.content).hexdigest()
        assert (opened.kind, opened.content, opened.salt) == ("envelope", leaf.content, leaf.salt)
        envelope = Envelope.model_validate_json(opened.content)
        assert (opened.event_id, opened.type, opened.aggregate_id, opened.actor) == (
            envelope.event_id,
            envelope.type,
            envelope.aggregate_id,
            envelope.actor,
        )
        assert (row.type, row.day) == (envelope.type, shown["public"]["day"])
        assert opened.occurred_at == envelope.occurred_at and opened.erased_at is None


async def test_a_failed_append_stores_no_leaf_no_private_row_and_no_cursor(
    engine: AsyncEngine, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    await ledger.append(leaves(1, 3))
    root = ledger.frontier.root()
    real = store.BulkInsert.execute

    async def fail_on_nodes(self: store.BulkInsert, conn: Any, rows: Any) -> None:
        await real(self, conn, rows)
        if "ledger_nodes" in self.sql:
            raise ConnectionError("killed after the leaves and private rows were written")

    monkeypatch.setattr(store.BulkInsert, "execute", fail_on_nodes)
    with pytest.raises(ConnectionError):
        await ledger.append(leaves(4, 5))
    assert (ledger.size, ledger.last_stream_seq, ledger.frontier.root()) == (3, 3, root)
    async with engine.connect() as conn:
        counts = [
            await conn.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("ledger_leaves", "ledger_sealed")
        ]
        assert counts == [3, 3] and await store.committed_size(conn) == 3
    monkeypatch.setattr(store.BulkInsert, "execute", real)
    assert await ledger.append(leaves(4, 5)) == 5
    reloaded = Ledger(engine, signer, ORIGIN)
    await reloaded.load()
    assert (reloaded.size, reloaded.last_stream_seq) == (8, 8)


async def test_the_private_store_only_erases(engine: AsyncEngine, signer: Signer) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    await ledger.append(leaves(1, 3))
    refused = (
        "UPDATE ledger_sealed SET content = salt WHERE idx = 0",
        "UPDATE ledger_sealed SET salt = NULL, content = NULL WHERE idx = 0",  # no erased_at
        "UPDATE ledger_sealed SET kind = 'raw' WHERE idx = 0",
        "DELETE FROM ledger_sealed WHERE idx = 0",
    )
    for statement in refused:
        with pytest.raises((DBAPIError, IntegrityError), match="only erases"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    erasure = uuid4()
    async with engine.begin() as conn:
        await private.erase(conn, [1], erasure, utcnow())
    with pytest.raises((DBAPIError, IntegrityError), match="only erases"):
        async with engine.begin() as conn:  # what was erased cannot come back
            await conn.execute(text("UPDATE ledger_sealed SET content = 'x' WHERE idx = 1"))
    async with engine.connect() as conn:
        rows = await private.openings(conn, 0, 3)
    assert [r.content is None for r in rows] == [False, True, False]
    erased = rows[1]
    assert (erased.salt, erased.event_id, erased.aggregate_id, erased.actor) == (None,) * 4
    assert erased.erasure_id == erasure and erased.erased_at is not None


async def test_search_by_public_and_private_fields(engine: AsyncEngine, signer: Signer) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    appended = leaves(1, 6)
    await ledger.append(appended)
    target = Envelope.model_validate_json(appended[2].content)
    day = json.loads(appended[2].data)["public"]["day"]
    async with engine.connect() as conn:
        by_type = await store.search(conn, after=-1, limit=10, type=target.type)
        by_day = await store.search(conn, after=-1, limit=10, since=day, until=day)
        later = await store.search(conn, after=-1, limit=10, since="9999-01-01")
        by_aggregate = await store.search(
            conn, after=-1, limit=10, aggregate_id=target.aggregate_id
        )
        by_actor = await store.search(conn, after=1, limit=10, actor="tester")
    assert len(by_type) == len(by_day) == 6 and later == []
    assert [r.idx for r in by_aggregate] == [2]
    assert [r.idx for r in by_actor] == [2, 3, 4, 5]


# --- a database holding a v1 ledger ---------------------------------------------------------
V1_LEAF = (
    "INSERT INTO ledger_leaves (idx, stream_seq, subject, leaf_data, leaf_hash, unparseable) "
    "VALUES (:idx, :seq, 'bansos.registry.household_registered', :data, :hash, false)"
)


async def test_a_v1_ledger_is_kept_aside_and_a_new_log_starts(
    database_url: str, signer: Signer
) -> None:
    engine = make_engine(database_url)
    await migrate(engine, [MIGRATIONS], target="a0001")
    async with engine.begin() as conn:
        for i in range(3):
            data = b'{"event":{"head_nik_masked":"3174********8516"},"stream_seq":%d}' % (i + 1)
            await conn.execute(
                text(V1_LEAF), {"idx": i, "seq": i + 1, "data": data, "hash": bytes(32)}
            )
        await conn.execute(text("INSERT INTO ledger_cursor VALUES (1, 3, 3)"))
    await migrate(engine, [MIGRATIONS])
    async with engine.connect() as conn:
        kept = await conn.scalar(text("SELECT count(*) FROM ledger_v1_leaves"))
        cursor = await conn.scalar(text("SELECT last_stream_seq FROM ledger_v1_cursor"))
    assert (kept, cursor) == (3, 3)
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    assert (ledger.size, ledger.last_stream_seq) == (0, 0)  # ingest re-reads from seq 1
    await ledger.append(leaves(1, 4))
    async with engine.connect() as conn:
        rows = await store.entries(conn, 0, 10)
    assert [r.stream_seq for r in rows] == [1, 2, 3, 4]
    assert all(b"nik_masked" not in r.leaf_data for r in rows)
    for statement in (
        "UPDATE ledger_v1_leaves SET leaf_data = leaf_data",
        "DELETE FROM ledger_v1_leaves",
    ):
        with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    await engine.dispose()


async def test_an_empty_v1_ledger_is_simply_replaced(database_url: str) -> None:
    engine = make_engine(database_url)
    await migrate(engine, [MIGRATIONS], target="a0001")
    await migrate(engine, [MIGRATIONS])
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert "ledger_sealed" in names and not [n for n in names if n.startswith("ledger_v1_")]


async def test_long_subjects_and_actors_do_not_stall_the_ledger(
    engine: AsyncEngine, signer: Signer
) -> None:
    ledger = Ledger(engine, signer, ORIGIN)
    await ledger.load()
    event = Envelope.wrap(
        HouseholdDeactivated(reason="moved"),
        aggregate_id=uuid4(),
        aggregate_version=1,
        actor="a" * 500,
    )
    subject = "bansos.registry." + "x" * 300
    assert await ledger.append(make_leaves([(1, subject, event.canonical())])) == 1
    async with engine.connect() as conn:
        [row] = await store.entries(conn, 0, 10)
        [opened] = await private.openings(conn, 0, 10)
    assert row.subject == subject and not row.unparseable
    assert opened.actor is None and opened.content == event.canonical()
