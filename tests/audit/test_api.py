"""The ledger's HTTP API: public views only for the public, sealed openings for auditors,
private search filters behind an auditor token, bounded parameters."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.audit.service import MIGRATIONS
from shared.checkpoint import load_or_create_key, parse_and_verify
from shared.db import make_engine, migrate
from shared.events import Envelope, canonical_json, public_view, unparseable_view
from shared.merkle import leaf_hash, verify_inclusion
from tests.audit.service import (
    ADMIN,
    AUDITOR,
    OPERATOR,
    Audit,
    Household,
    hexes,
    publish,
    running,
)
from tests.helpers import NatsServer

GARBAGE = b"{not an envelope"


@pytest.fixture
async def audit(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Audit]:
    async with running(database_url, nats_server.url, tmp_path / "audit") as service:
        yield service


@pytest.fixture
async def trail(audit: Audit) -> Household:
    """A household's events, a neighbour's, and one message that is not an event."""
    household, neighbour = Household(), Household()
    await audit.publish(*household.events())
    await audit.publish(("bansos.registry.household_registered", GARBAGE))
    await audit.publish(*neighbour.events())
    await audit.caught_up(len(audit.published) + 1)
    return household


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def jsonable(value: Any) -> Any:
    return json.loads(canonical_json(value))


async def test_entries_show_public_views_and_commitments_only(
    audit: Audit, trail: Household
) -> None:
    entries = await audit.entries()
    published = audit.published
    assert len(entries) == len(published) + 1
    by_seq = {e["stream_seq"]: e for e in entries}
    flagged = by_seq[len(trail.events()) + 1]
    assert flagged["public"] == unparseable_view(GARBAGE)
    envelopes = [e for e in entries if e is not flagged]
    for entry, envelope in zip(envelopes, published, strict=True):
        data = b64decode(entry["leaf_data"])
        leaf = json.loads(data)
        assert data == canonical_json(leaf) and list(leaf) == [
            "public",
            "sealed",
            "stream_seq",
            "subject",
        ]
        assert leaf == {k: entry[k] for k in ("public", "sealed", "stream_seq", "subject")}
        assert entry["public"] == jsonable(public_view(envelope))
        assert len(entry["sealed"]) == 64 and int(entry["sealed"], 16) >= 0
        assert b64decode(entry["leaf_hash"]) == leaf_hash(data)
        assert entry["subject"] == envelope.subject
    assert [e["index"] for e in entries] == list(range(len(entries)))

    # What a neighbour must not learn from the public API.
    secrets = [str(trail.household_id), str(trail.allocation_id), str(trail.enrolment_id)]
    secrets += [str(trail.complaint_id), "operator.ani", "officer.budi", "6.3123", "Posko"]
    secrets += [hexes(tag) for tag in range(1, 8)] + [str(e.event_id) for e in published]
    public_text = (
        json.dumps(entries)
        + (await audit.client.get("/ledger/search", params={"limit": 1000})).text
    )
    for leaf_bytes in (b64decode(e["leaf_data"]) for e in entries):
        public_text += leaf_bytes.decode()
    assert [s for s in secrets if s in public_text] == []


async def test_an_entry_is_proved_against_the_signed_checkpoint(
    audit: Audit, trail: Household
) -> None:
    size = len(audit.published) + 1
    key = (await audit.client.get("/ledger/public-key")).json()
    assert key["origin"] == "bansos.tanjung-barat/ledger/v2"
    note = (await audit.client.get("/ledger/checkpoint")).text
    checkpoint = parse_and_verify(
        note, key["key_name"], b64decode(key["public_key"]), key["origin"]
    )
    assert checkpoint.tree_size == size
    entries = await audit.entries()
    for index in (0, 3, size - 1):
        proof = (await audit.client.get(f"/ledger/entries/{index}/proof")).json()
        verify_inclusion(
            index,
            size,
            leaf_hash(b64decode(entries[index]["leaf_data"])),
            [b64decode(h) for h in proof["hashes"]],
            checkpoint.root_hash,
        )


async def test_public_search_by_type_and_day(audit: Audit, trail: Household) -> None:
    async def search(**params: str) -> list[int]:
        reply = await audit.client.get("/ledger/search", params=params)
        assert reply.status_code == 200, reply.text
        return [e["index"] for e in reply.json()["entries"]]

    received = await search(type="distribution.aid_received")
    assert len(received) == 2  # the household's and the neighbour's
    day = "2026-11-30"  # 03:00 UTC is 10:00 in Jakarta
    assert len(await search(since=day, until=day)) == len(audit.published)
    assert await search(since="2026-12-01") == []
    assert await search(until="2026-11-29") == []
    first = await audit.client.get("/ledger/search", params={"limit": 3})
    following = first.json()["next_cursor"]
    assert first.json()["entries"][-1]["index"] == 2 and following == "3"
    assert (await search(cursor=following, limit="1")) == [3]
    for bad in ("30-11-2026", "2026-13-01", "yesterday", "2026-11-30T00:00"):
        reply = await audit.client.get("/ledger/search", params={"since": bad})
        assert reply.status_code == 400 and reply.json()["error"] == "not_a_day"


async def test_searching_by_aggregate_or_actor_needs_an_auditor(
    audit: Audit, trail: Household
) -> None:
    for params in ({"aggregate_id": str(trail.household_id)}, {"actor": "operator.ani"}):
        anonymous = await audit.client.get("/ledger/search", params=params)
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "token_missing"
        operator = await audit.client.get("/ledger/search", params=params, headers=OPERATOR)
        assert operator.status_code == 403 and operator.json()["error"] == "role_not_allowed"
        for token in (AUDITOR, ADMIN):
            found = await audit.client.get("/ledger/search", params=params, headers=token)
            assert found.status_code == 200
            # the household's registration and eligibility (the neighbour's operator too)
            assert len(found.json()["entries"]) == (2 if "aggregate_id" in params else 4)


async def test_auditors_open_sealed_leaves(audit: Audit, trail: Household) -> None:
    entries = await audit.entries()
    url = "/ledger/entries/3/sealed"
    assert (await audit.client.get(url)).status_code == 401
    assert (await audit.client.get(url, headers=OPERATOR)).status_code == 403
    published = iter(audit.published)
    for entry in entries:
        reply = await audit.client.get(f"/ledger/entries/{entry['index']}/sealed", headers=AUDITOR)
        assert reply.status_code == 200
        opened = reply.json()
        salt, content = b64decode(opened["salt"]), b64decode(opened["content"])
        assert len(salt) == 32
        assert hashlib.sha256(salt + content).hexdigest() == entry["sealed"]
        if entry["public"].get("unparseable"):
            assert (opened["kind"], content, opened["envelope"]) == ("raw", GARBAGE, None)
            continue
        envelope = next(published)
        assert opened["kind"] == "envelope" and content == envelope.canonical()
        assert opened["envelope"] == envelope.to_json()
        recomputed = public_view(Envelope.model_validate(opened["envelope"]))
        assert canonical_json(recomputed) == canonical_json(entry["public"])
    admin = await audit.client.get(url, headers=ADMIN)
    assert admin.status_code == 200
    past = await audit.client.get(f"/ledger/entries/{len(entries)}/sealed", headers=AUDITOR)
    assert past.status_code == 404

    pages, start = [], 0
    while start is not None:
        page = await audit.client.get(
            "/ledger/sealed", params={"start": start, "limit": 4}, headers=AUDITOR
        )
        assert page.status_code == 200 and page.json()["tree_size"] == len(entries)
        pages += page.json()["entries"]
        start = page.json()["next"]
    assert [p["index"] for p in pages] == list(range(len(entries)))
    assert all(p["erased"] is False and p["salt"] for p in pages)
    assert (await audit.client.get("/ledger/sealed")).status_code == 401
    assert (await audit.client.get("/ledger/sealed", headers=OPERATOR)).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/ledger/entries?start={n}",
        "/ledger/entries?limit={n}",
        "/ledger/entries/{n}/proof",
        "/ledger/entries/1/proof?tree_size={n}",
        "/ledger/entries/{n}/sealed",
        "/ledger/sealed?start={n}",
        "/ledger/consistency?first={n}",
        "/ledger/consistency?first=1&second={n}",
        "/ledger/search?cursor={n}",
        "/ledger/search?limit={n}",
        "/ledger/checkpoint?cosigned={n}",
    ],
)
async def test_number_parameters_are_bounded(audit: Audit, path: str) -> None:
    await audit.caught_up(0)
    for bad in ("1" + "0" * 30, str(2**62 + 1), "-1", "²", "1e3", "0x10", " 1"):
        reply = await audit.client.get(path.format(n=bad), headers=AUDITOR)
        assert reply.status_code == 400, (bad, reply.text)
        assert reply.json()["details"][0]["field"]
    largest = await audit.client.get(path.format(n=2**62), headers=AUDITOR)
    assert 200 <= largest.status_code < 500, largest.text


async def test_an_upgraded_v1_database_starts_a_new_log_from_the_first_message(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    """A v1 ledger that had ingested 3 messages: the new log re-reads all 5 from seq 1,
    under a new key and origin."""
    engine = make_engine(database_url)
    await migrate(engine, [MIGRATIONS], target="a0001")
    async with engine.begin() as conn:
        for i in range(3):
            await conn.execute(
                text(
                    "INSERT INTO ledger_leaves (idx, stream_seq, subject, leaf_data, leaf_hash,"
                    " unparseable) VALUES (:i, :seq, 's', :data, :hash, false)"
                ),
                {"i": i, "seq": i + 1, "data": b'{"event":{}}', "hash": bytes(32)},
            )
        await conn.execute(text("INSERT INTO ledger_cursor VALUES (1, 3, 3)"))
    await engine.dispose()
    data_dir = tmp_path / "audit"
    old_key = load_or_create_key(data_dir / "checkpoint-signing-key.pem")
    events = Household().events()[:5]
    await publish(nats_server.url, *events)

    async with running(database_url, nats_server.url, data_dir) as audit:
        await audit.caught_up(5)
        entries = await audit.entries()
        key = (await audit.client.get("/ledger/public-key")).json()
    assert [e["stream_seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert [e["public"]["type"] for e in entries] == [e.type for e in events]
    assert (data_dir / "checkpoint-signing-key-v2.pem").exists()
    assert b64decode(key["public_key"]) != old_key.public_key().public_bytes_raw()
    assert key["origin"] == "bansos.tanjung-barat/ledger/v2"
