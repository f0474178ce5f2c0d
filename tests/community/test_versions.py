"""Older data, on SQLite and PostgreSQL: complaints filed as version-1 events (the ticket
code in clear) replay, are tracked by their code and go on under version 2, and a database
from before version 2 upgrades in place, its ticket codes turned into commitments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa

from services.community import projections
from services.community.service import SERVICE
from services.community.settings import CommunitySettings
from shared import eventstore
from shared.auth import Role
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope
from shared.events.community import ComplaintAcknowledged, ComplaintFiledV1
from shared.pii import commitments
from shared.runtime import Runtime
from tests.helpers import NatsServer, bearer, serve_app

FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")
OLD_TICKET = "TB-7K3M-9QXP"


def v1_complaint(complaint_id: UUID, ticket: str = OLD_TICKET) -> list[Envelope]:
    payloads = [
        ComplaintFiledV1(
            ticket_code=ticket,
            category="officer_conduct",
            description_commitment="ab" * 32,
            rw="04",
            anonymous=True,
        ),
        ComplaintAcknowledged(note_commitment=None),
    ]
    return [
        Envelope.wrap(p, aggregate_id=complaint_id, aggregate_version=i, actor="public")
        for i, p in enumerate(payloads, start=1)
    ]


@pytest.fixture
async def community(
    database_url: str, nats_server: NatsServer
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = SERVICE.app(CommunitySettings(database_url=database_url, nats_url=nats_server.url))
    async with serve_app(app) as client:
        yield client, app.state.runtime


async def test_complaints_filed_under_version_1_replay_and_are_tracked(
    community: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = community
    old, older = uuid4(), uuid4()
    history = [*v1_complaint(old), *v1_complaint(older, "TB-2345-6789")]
    async with runtime.sessions() as session, session.begin():
        await eventstore.append(session, history)
        await projections.projector(commitments(runtime.settings))(session, history)

    tracked = (await client.get(f"/complaints/track/{OLD_TICKET}")).json()
    assert (tracked["status"], tracked["category"]) == ("acknowledged", "officer_conduct")
    listed = await client.get(f"/complaints?ticket_code={OLD_TICKET}", headers=FACILITATOR)
    assert [i["complaint_id"] for i in listed.json()["items"]] == [str(old)]
    resolved = await client.post(
        f"/complaints/{old}/resolution",
        json={"outcome": "upheld", "resolution": "Pungutan dihentikan dan dikembalikan."},
        headers=FACILITATOR,
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    async with runtime.reads() as session:
        [*_, newest] = await eventstore.load(session, old)
    assert newest.type == "community.complaint_resolved"

    async with runtime.sessions() as session, session.begin():
        assert await projections.rebuild(session, commitments(runtime.settings)) == 5
    again = (await client.get(f"/complaints/track/{OLD_TICKET}")).json()
    assert again["status"] == "resolved"
    assert (await client.get("/complaints/track/TB-2345-6789")).status_code == 200


async def test_a_database_from_before_version_2_upgrades_in_place(database_url: str) -> None:
    engine = make_engine(database_url)
    complaint_id = uuid4()
    try:
        await _version_1_database(engine, complaint_id)
        await migrate(engine, [SERVICE.migrations])
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {
                    t: {col["name"] for col in sa.inspect(c).get_columns(t)}
                    for t in ("complaints", "texts", "contacts")
                }
            )
            stored = (await conn.execute(sa.select(projections.complaints))).one()
        assert "ticket_code" not in columns["complaints"]
        assert {"salt"} <= columns["texts"] & columns["contacts"]
        expected = commitments(CommunitySettings()).ticket(OLD_TICKET)
        assert (stored.complaint_id, stored.ticket_commitment) == (complaint_id, expected)
        async with sessionmaker(engine)() as session, session.begin():
            twice = Envelope.wrap(
                ComplaintFiledV1(
                    ticket_code=OLD_TICKET,
                    category="other",
                    description_commitment="cd" * 32,
                    rw="01",
                    anonymous=True,
                ),
                aggregate_id=uuid4(),
                aggregate_version=1,
                actor="public",
            )
            with pytest.raises(sa.exc.IntegrityError, match="ticket_commitment"):
                await projections.projector(commitments(CommunitySettings()))(session, [twice])
    finally:
        await engine.dispose()


async def test_an_upgraded_database_tracks_its_old_tickets(
    database_url: str, nats_server: NatsServer
) -> None:
    engine = make_engine(database_url)
    complaint_id = uuid4()
    try:
        await _version_1_database(engine, complaint_id)
    finally:
        await engine.dispose()
    app = SERVICE.app(CommunitySettings(database_url=database_url, nats_url=nats_server.url))
    async with serve_app(app) as client:
        tracked = await client.get(f"/complaints/track/{OLD_TICKET}")
        assert tracked.status_code == 200 and tracked.json()["status"] == "acknowledged"
        full = (await client.get(f"/complaints/{complaint_id}", headers=FACILITATOR)).json()
        assert full["contact"] == {"name": "Ibu Sumiati", "phone": "081298765432", "email": None}
        assert full["history"][0]["description"] == "Pak Darto minta uang sebelum beras dibagi"


async def _version_1_database(engine: Any, complaint_id: UUID) -> None:
    """A database at c0001 with a complaint as a version-1 service had stored it."""
    await migrate(engine, [SERVICE.migrations], target="c0001")
    history = v1_complaint(complaint_id)
    async with sessionmaker(engine)() as session, session.begin():
        await eventstore.append(session, history)
        for name, row in _version_1_rows(complaint_id, history[0].event_id).items():
            table = sa.table(name, *(sa.column(k, _type(v)) for k, v in row.items()))
            await session.execute(table.insert().values(**row))


def _version_1_rows(complaint_id: UUID, filed: UUID) -> dict[str, dict[str, Any]]:
    """What a version-1 service had stored: the ticket code, texts and a contact."""
    now = datetime.now(UTC)
    return {
        "complaints": {
            "complaint_id": complaint_id,
            "ticket_code": OLD_TICKET,
            "category": "officer_conduct",
            "rw": "04",
            "status": "acknowledged",
            "anonymous": False,
            "references": {},
            "escalated_to": [],
            "filed_at": now,
            "acknowledged_at": now,
            "version": 2,
        },
        "texts": {
            "event_id": filed,
            "aggregate_id": complaint_id,
            "kind": "description",
            "body": "Pak Darto minta uang sebelum beras dibagi",
        },
        "contacts": {"complaint_id": complaint_id, "name": "Ibu Sumiati", "phone": "081298765432"},
    }


def _type(value: object) -> Any:
    """The column type of a version-1 value (the current models lack some columns)."""
    types: list[tuple[type | tuple[type, ...], Any]] = [
        (UUID, sa.Uuid()),
        (datetime, sa.DateTime(timezone=True)),
        (bool, sa.Boolean()),
        (int, sa.BigInteger()),
        (str, sa.String()),
        ((list, dict), sa.JSON()),
    ]
    return next(t for kind, t in types if isinstance(value, kind))
