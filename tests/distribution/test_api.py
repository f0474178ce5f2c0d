"""Distribution over HTTP, with the registry beside it on one real nats-server: households
registered and decided in the registry reach distribution through the bus only.
Each service has its own database (SQLite files, or two PostgreSQL databases)."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx
import pytest
from sqlalchemy import inspect, select, text

from services.distribution import projections
from services.distribution.domain.ids import NAMESPACE, officer_id
from services.distribution.handlers import RECEIPT_GROUPS, RECEIPT_PREFIX
from services.distribution.private import staff_notes
from services.distribution.service import SERVICE as DISTRIBUTION
from services.distribution.settings import DistributionSettings
from services.registry.service import SERVICE as REGISTRY
from services.registry.settings import RegistrySettings
from shared import clock, eventstore
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events import Envelope, EventPayload
from shared.events.distribution import AidAllocatedV1, AidReceivedV1, AidUndeliveredV1
from shared.pii import code_pattern, commitments
from shared.runtime import Runtime
from tests.helpers import (
    NatsServer,
    bearer,
    decided_household,
    eventually,
    serve_app,
    stream_messages,
)

OPERATOR = bearer(Role.registry_operator, "operator.siti")
MANAGER = bearer(Role.programme_manager, "manager.dewi")
FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")
OFFICER = bearer(Role.distribution_officer, "officer.rudi")
OTHER_OFFICER = bearer(Role.distribution_officer, "officer.agus")
UNCERTIFIED = bearer(Role.distribution_officer, "officer.baru")
PERIOD = f"{wib_today():%Y-%m}"
EVIDENCE = "9f" * 32


@dataclass
class System:
    registry: httpx.AsyncClient
    distribution: httpx.AsyncClient
    rng: random.Random
    runtime: Runtime  # distribution's
    settings: DistributionSettings
    nats_url: str


@pytest.fixture
async def system(two_databases: list[str], nats_server: NatsServer) -> AsyncIterator[System]:
    registry = REGISTRY.app(
        RegistrySettings(database_url=two_databases[0], nats_url=nats_server.url)
    )
    settings = DistributionSettings(database_url=two_databases[1], nats_url=nats_server.url)
    distribution = DISTRIBUTION.app(settings)
    async with serve_app(registry) as reg, serve_app(distribution) as dist:
        yield System(
            reg, dist, random.Random(11), distribution.state.runtime, settings, nats_server.url
        )


async def household(system: System, rw: str, *, eligible: bool = True) -> dict[str, Any]:
    return await decided_household(
        system.registry, system.distribution, MANAGER, system.rng, rw, eligible=eligible
    )


async def budget(system: System, programme: str = "BLT", households: int = 100) -> None:
    body: dict[str, Any] = {
        "programme": programme,
        "period": PERIOD,
        "amount_idr": 600_000 * households,
        "benefit_idr": 600_000,
    }
    if programme == "SEMBAKO":
        body["package"] = [
            {"name": "beras", "quantity": 10, "unit": "kg"},
            {"name": "minyak goreng", "quantity": 2, "unit": "liter"},
        ]
    reply = await system.distribution.post("/budgets", json=body, headers=MANAGER)
    assert reply.status_code == 201, reply.text


async def certify(system: System, sub: str = "officer.rudi") -> None:
    reply = await system.distribution.post(
        f"/officers/{sub}/certificates",
        json={
            "certificate_number": f"PKH-{sub}-{system.rng.randrange(10**6)}",
            "certified_on": str(wib_today() - timedelta(days=30)),
            "expires_on": str(wib_today() + timedelta(days=335)),
        },
        headers=MANAGER,
    )
    assert reply.status_code == 201, reply.text


async def round_(system: System, *rws: str, programme: str = "BLT") -> str:
    reply = await system.distribution.post(
        "/rounds",
        json={
            "programme": programme,
            "period": PERIOD,
            "poskos": [
                {"rw": rw, "place": f"Posko RW {rw}, balai warga", "on": str(wib_today())}
                for rw in rws
            ],
        },
        headers=MANAGER,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["round_id"])


async def endorse(system: System, round_id: str) -> None:
    reply = await system.distribution.post(
        f"/rounds/{round_id}/endorsement",
        json={"note": "disepakati dalam rembuk warga RW"},
        headers=FACILITATOR,
    )
    assert reply.status_code == 200, reply.text


def receipt(nik: str) -> dict[str, Any]:
    return {
        "recipient_nik": nik,
        "place": "Posko RW 03, balai warga",
        "evidence_sha256": EVIDENCE,
        "gps": [-6.3098, 106.8362],
    }


async def test_a_round_from_budget_to_hand_over_and_closure(system: System) -> None:
    d = system.distribution
    await budget(system)
    await certify(system)
    first = await household(system, "03")
    second = await household(system, "03")
    richer = await household(system, "03", eligible=False)
    elsewhere = await household(system, "05")
    rid = await round_(system, "03")

    one = await d.post(
        f"/rounds/{rid}/allocations", json={"household_id": first["household_id"]}, headers=MANAGER
    )
    assert one.status_code == 201, one.text
    assert one.json()["amount_idr"] == 600_000 and one.json()["rw"] == "03"
    assert not any("nik" in key for key in one.json())  # events carry no masked NIK
    refused = await d.post(
        f"/rounds/{rid}/allocations", json={"household_id": richer["household_id"]}, headers=MANAGER
    )
    assert refused.status_code == 422 and refused.json()["error"] == "household_not_eligible"
    outside = await d.post(
        f"/rounds/{rid}/allocations",
        json={"household_id": elsewhere["household_id"]},
        headers=MANAGER,
    )
    assert outside.json()["error"] == "household_outside_round"
    twice = await d.post(
        f"/rounds/{rid}/allocations", json={"household_id": first["household_id"]}, headers=MANAGER
    )
    assert twice.status_code == 409 and twice.json()["error"] == "already_allocated"

    bulk = await d.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER)
    assert bulk.json()["allocated"] == 1 and bulk.json()["amount_idr"] == 600_000  # `second`
    assert (await d.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER)).json()[
        "allocated"
    ] == 0

    manifest = (await d.get(f"/rounds/{rid}/manifest", headers=OFFICER)).json()["items"]
    by_household = {m["household_id"]: m for m in manifest}
    assert set(by_household) == {first["household_id"], second["household_id"]}
    a1 = by_household[first["household_id"]]["allocation_id"]
    a2 = by_household[second["household_id"]]["allocation_id"]

    early = await d.post(
        f"/allocations/{a1}/receipt", json=receipt(first["head_nik"]), headers=OFFICER
    )
    assert early.status_code == 409 and early.json()["error"] == "round_not_endorsed"
    await endorse(system, rid)
    uncertified = await d.post(
        f"/allocations/{a1}/receipt", json=receipt(first["head_nik"]), headers=UNCERTIFIED
    )
    assert uncertified.status_code == 403
    assert uncertified.json()["error"] == "officer_not_certified"
    stranger = await d.post(
        f"/allocations/{a1}/receipt", json=receipt(second["head_nik"]), headers=OFFICER
    )
    assert stranger.status_code == 422 and stranger.json()["error"] == "recipient_not_member"

    handed = await d.post(
        f"/allocations/{a1}/receipt", json=receipt(first["head_nik"]), headers=OFFICER
    )
    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "received"
    again = await d.post(
        f"/allocations/{a1}/receipt", json=receipt(first["head_nik"]), headers=OFFICER
    )
    assert again.status_code == 409 and again.json()["error"] == "already_received"
    away = await d.post(
        f"/allocations/{a2}/undelivered", json={"reason": "not_at_home"}, headers=OFFICER
    )
    assert away.json()["status"] == "undelivered"

    summary = (await d.get(f"/rounds/{rid}/summary", headers=MANAGER)).json()
    assert (summary["allocated"], summary["received"], summary["undelivered"]) == (2, 1, 1)
    assert summary["amount_received_idr"] == 600_000 and summary["pending"] == 0
    assert summary["per_rw"] == [
        {
            "rw": "03",
            "allocated": 2,
            "received": 1,
            "undelivered": 1,
            "pending": 0,
            "amount_allocated_idr": 1_200_000,
            "amount_received_idr": 600_000,
        }
    ]
    budgets = (await d.get("/budgets", headers=MANAGER)).json()
    assert budgets[0]["allocated_idr"] == 1_200_000
    assert budgets[0]["remaining_idr"] == 600_000 * 98

    closed = await d.post(f"/rounds/{rid}/closure", headers=MANAGER)
    assert closed.json()["status"] == "closed"
    late = await d.post(
        f"/allocations/{a2}/receipt", json=receipt(second["head_nik"]), headers=OFFICER
    )
    assert late.status_code == 409 and late.json()["error"] == "round_closed"


async def test_a_certificate_counts_by_the_jakarta_day_of_the_hand_over(system: System) -> None:
    """00:00 WIB is 17:00 UTC the day before: an officer certified today (WIB) hands over at
    midnight, and the certificate is valid on the hand-over's Jakarta day, not the UTC one."""
    rid, homes = await ready_round(system, "03", 1)
    aid = await allocate(system, rid, homes[0])
    midnight = datetime.combine(clock.today(), time(0, 0), clock.JAKARTA)
    reply = await system.distribution.post(
        "/officers/officer.wati/certificates",
        json={
            "certificate_number": "PKH-officer.wati-1",
            "certified_on": str(clock.today()),
            "expires_on": str(clock.today() + timedelta(days=365)),
        },
        headers=MANAGER,
    )
    assert reply.status_code == 201, reply.text
    handed = await system.distribution.post(
        f"/allocations/{aid}/receipt",
        json={**receipt(homes[0]["head_nik"]), "received_at": midnight.isoformat()},
        headers=bearer(Role.distribution_officer, "officer.wati"),
    )
    assert handed.status_code == 200, handed.text


async def test_the_budget_is_never_overspent(system: System) -> None:
    d = system.distribution
    await budget(system, households=2)
    for _ in range(3):
        await household(system, "07")
    rid = await round_(system, "07")
    bulk = await d.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER)
    assert bulk.status_code == 409 and bulk.json()["error"] == "budget_exceeded"
    assert "1200000 IDR left" in bulk.json()["message"]
    assert (await d.get(f"/rounds/{rid}", headers=MANAGER)).json()["allocated"] == 0

    topped = await d.post(
        f"/budgets/BLT/{PERIOD}/top-ups", json={"amount_idr": 600_000}, headers=MANAGER
    )
    assert topped.json()["remaining_idr"] == 1_800_000
    assert (await d.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER)).json()[
        "allocated"
    ] == 3


async def test_concurrent_allocations_never_overspend_nor_repeat(system: System) -> None:
    d = system.distribution
    await budget(system, households=5)
    homes = [await household(system, rw) for rw in ("02", "02", "04", "04", "04", "02", "04")]
    rid = await round_(system, "02", "04")
    singles = [
        d.post(
            f"/rounds/{rid}/allocations", json={"household_id": h["household_id"]}, headers=MANAGER
        )
        for h in homes * 2
    ]
    bulks = [d.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER) for _ in range(4)]
    replies = await asyncio.gather(*singles, *bulks)
    assert all(r.status_code in (200, 201, 409) for r in replies), [r.text for r in replies]
    manifest = (await d.get(f"/rounds/{rid}/manifest", headers=MANAGER)).json()["items"]
    households = [m["household_id"] for m in manifest]
    assert len(households) == len(set(households)) == 5  # the budget, no household twice
    [b] = (await d.get("/budgets", headers=MANAGER)).json()
    assert b["allocated_idr"] == 5 * 600_000 and b["remaining_idr"] == 0
    assert (await d.get(f"/rounds/{rid}", headers=MANAGER)).json()["allocated"] == 5


async def test_a_household_gets_a_programme_once_per_period_whatever_the_round(
    system: System,
) -> None:
    d = system.distribution
    await budget(system)
    first, second = await household(system, "05"), await household(system, "05")
    round_a, round_b = await round_(system, "05"), await round_(system, "05")
    one = {"household_id": first["household_id"]}
    assert (await d.post(f"/rounds/{round_a}/allocations", json=one, headers=MANAGER)).is_success
    again = await d.post(f"/rounds/{round_b}/allocations", json=one, headers=MANAGER)
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "already_allocated_in_period"
    assert again.json()["details"][0]["field"] == "household_id"
    # A bulk allocation takes only who has nothing for the period yet, in any round.
    bulk_b = await d.post(f"/rounds/{round_b}/allocations/bulk", headers=MANAGER)
    assert bulk_b.json()["allocated"] == 1
    bulk_a = await d.post(f"/rounds/{round_a}/allocations/bulk", headers=MANAGER)
    assert bulk_a.json()["allocated"] == 0
    manifests = [
        (await d.get(f"/rounds/{r}/manifest", headers=MANAGER)).json()["items"]
        for r in (round_a, round_b)
    ]
    assert [[m["household_id"] for m in items] for items in manifests] == [
        [first["household_id"]],
        [second["household_id"]],
    ]
    # Another programme is another entitlement.
    await budget(system, "SEMBAKO")
    sembako = await round_(system, "05", programme="SEMBAKO")
    other = await d.post(f"/rounds/{sembako}/allocations", json=one, headers=MANAGER)
    assert other.status_code == 201, other.text


async def test_rounds_racing_for_the_same_households_allocate_each_once(system: System) -> None:
    d = system.distribution
    await budget(system)
    homes = [await household(system, "06") for _ in range(4)]
    rounds = [await round_(system, "06") for _ in range(2)]
    singles = [
        d.post(
            f"/rounds/{r}/allocations", json={"household_id": h["household_id"]}, headers=MANAGER
        )
        for h in homes
        for r in rounds
    ]
    bulks = [d.post(f"/rounds/{r}/allocations/bulk", headers=MANAGER) for r in rounds * 2]
    replies = await asyncio.gather(*singles, *bulks)
    assert all(r.status_code in (200, 201, 409) for r in replies), [r.text for r in replies]
    allocated = [
        m["household_id"]
        for r in rounds
        for m in (await d.get(f"/rounds/{r}/manifest", headers=MANAGER)).json()["items"]
    ]
    assert sorted(allocated) == sorted(h["household_id"] for h in homes)  # each once
    [b] = (await d.get("/budgets", headers=MANAGER)).json()
    assert b["allocated_idr"] == 4 * 600_000


def legacy_allocation_id(round_id: str, household_id: str) -> UUID:
    """How version 1 named an allocation: one per household and round."""
    return uuid5(NAMESPACE, f"allocation/{round_id}/{household_id}")


async def test_two_officers_confirming_one_hand_over_one_succeeds(system: System) -> None:
    d = system.distribution
    await budget(system)
    await certify(system, "officer.rudi")
    await certify(system, "officer.agus")
    home = await household(system, "09")
    rid = await round_(system, "09")
    await endorse(system, rid)
    allocated = await d.post(
        f"/rounds/{rid}/allocations", json={"household_id": home["household_id"]}, headers=MANAGER
    )
    aid = allocated.json()["allocation_id"]
    replies = await asyncio.gather(
        *(
            d.post(f"/allocations/{aid}/receipt", json=receipt(home["head_nik"]), headers=who)
            for who in (OFFICER, OTHER_OFFICER) * 3
        )
    )
    assert sorted(r.status_code for r in replies) == [200, 409, 409, 409, 409, 409]
    assert (await d.get(f"/rounds/{rid}", headers=MANAGER)).json()["received"] == 1


@pytest.mark.parametrize(
    ("path", "body", "field", "rule"),
    [
        (
            "/budgets",
            {"programme": "BLT", "period": PERIOD, "amount_idr": 0, "benefit_idr": 1},
            "amount_idr",
            "greater_than",
        ),
        (
            "/budgets",
            {"programme": "BLT", "period": "2026-13", "amount_idr": 9, "benefit_idr": 1},
            "period",
            "string_pattern_mismatch",
        ),
        (
            "/budgets",
            {"programme": "BANSOS", "period": PERIOD, "amount_idr": 9, "benefit_idr": 1},
            "programme",
            "literal_error",
        ),
        ("/rounds", {"programme": "BLT", "period": PERIOD, "poskos": []}, "poskos", "too_short"),
    ],
)
async def test_bad_input_names_the_field_and_the_rule(
    system: System, path: str, body: dict[str, Any], field: str, rule: str
) -> None:
    reply = await system.distribution.post(path, json=body, headers=MANAGER)
    assert reply.status_code == 422
    [detail] = reply.json()["details"]
    assert (detail["field"], detail["rule"]) == (field, rule)


async def test_rules_that_need_state_answer_with_their_code(system: System) -> None:
    d = system.distribution
    no_budget = await d.post(
        "/rounds",
        json={
            "programme": "SEMBAKO",
            "period": PERIOD,
            "poskos": [{"rw": "01", "place": "Posko RW 01", "on": str(wib_today())}],
        },
        headers=MANAGER,
    )
    assert no_budget.status_code == 422 and no_budget.json()["error"] == "budget_required"
    outside = await d.post(
        "/rounds",
        json={
            "programme": "BLT",
            "period": PERIOD,
            "poskos": [{"rw": "42", "place": "Posko RW 42", "on": str(wib_today())}],
        },
        headers=MANAGER,
    )
    assert outside.json()["details"][0]["field"] == "poskos.0.rw"
    unknown = await d.post(
        "/rounds/00000000-0000-4000-8000-000000000000/allocations/bulk", headers=MANAGER
    )
    assert unknown.status_code == 404 and unknown.json()["error"] == "round_not_found"
    # An aggregate never created: the unit of work answers its `<type>_not_found`.
    nowhere = "00000000-0000-4000-8000-000000000000"
    missing = [
        ("budget_not_found", MANAGER, f"/budgets/SEMBAKO/{PERIOD}/top-ups", {"amount_idr": 1}),
        ("round_not_found", FACILITATOR, f"/rounds/{nowhere}/endorsement", {}),
        ("round_not_found", MANAGER, f"/rounds/{nowhere}/closure", None),
        (
            "allocation_not_found",
            OFFICER,
            f"/allocations/{nowhere}/receipt",
            receipt("3174091203650001"),
        ),
        (
            "allocation_not_found",
            OFFICER,
            f"/allocations/{nowhere}/undelivered",
            {"reason": "moved"},
        ),
    ]
    for code, who, path, body in missing:
        reply = await d.post(path, json=body, headers=who)
        assert (reply.status_code, reply.json()["error"]) == (404, code), path
    not_manager = await d.post("/budgets", json={}, headers=OFFICER)
    assert not_manager.status_code == 403


async def test_read_models_rebuild_from_the_event_store(system: System) -> None:
    d = system.distribution
    await budget(system, households=3)
    await certify(system)
    homes = [await household(system, "06") for _ in range(3)]
    rid = await round_(system, "06")
    await endorse(system, rid)
    await d.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER)
    items = (await d.get(f"/rounds/{rid}/manifest", headers=OFFICER)).json()["items"]
    nik = {h["household_id"]: h["head_nik"] for h in homes}
    first, second = items[0], items[1]
    await d.post(
        f"/allocations/{first['allocation_id']}/receipt",
        json=receipt(nik[first["household_id"]]),
        headers=OFFICER,
    )
    await d.post(
        f"/allocations/{second['allocation_id']}/undelivered",
        json={"reason": "moved"},
        headers=OFFICER,
    )
    await d.post(f"/budgets/BLT/{PERIOD}/top-ups", json={"amount_idr": 50_000}, headers=MANAGER)

    before = await snapshot(system)
    assert len(before["allocations"]) == 3
    async with system.runtime.sessions() as session, session.begin():
        replayed = await projections.rebuild(session)
    assert replayed == 1 + 1 + 1 + 1 + 3 + 2 + 1  # budget, certificate, round, endorsement,
    # allocations, hand-overs, top-up
    assert await snapshot(system) == before


async def snapshot(system: System) -> dict[str, list[Any]]:
    """Distribution's read models, row order aside."""
    async with system.runtime.reads() as session:
        return {
            t.name: sorted(
                (tuple(v for k, v in r._mapping.items() if k != "seq") for r in rows),
                key=repr,
            )
            for t in (
                projections.budgets,
                projections.certificates,
                projections.rounds,
                projections.allocations,
            )
            for rows in [await session.execute(select(t))]
        }


# --- what leaves the service ----------------------------------------------------------------
async def ready_round(system: System, rw: str, homes: int) -> tuple[str, list[dict[str, Any]]]:
    """A budget, a certified officer, `homes` eligible households in `rw` and an endorsed
    round over it, not yet allocated."""
    await budget(system)
    await certify(system)
    households = [await household(system, rw) for _ in range(homes)]
    rid = await round_(system, rw)
    await endorse(system, rid)
    return rid, households


async def allocate(system: System, rid: str, home: dict[str, Any]) -> str:
    reply = await system.distribution.post(
        f"/rounds/{rid}/allocations", json={"household_id": home["household_id"]}, headers=MANAGER
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["allocation_id"])


async def published(system: System, n: int) -> list[Envelope]:
    """Distribution's events on the stream, once there are `n` of them."""

    async def enough() -> list[Envelope] | None:
        got = [
            Envelope.model_validate_json(m.data)
            for m in await stream_messages(system.nats_url)
            if m.subject.startswith("bansos.distribution.")
        ]
        return got if len(got) >= n else None

    result: list[Envelope] = await eventually(enough)
    return result


async def stored_anywhere(system: System, needle: str) -> list[str]:
    """Tables of distribution's database in which `needle` appears in some row."""
    async with system.runtime.sessions() as session:
        conn = await session.connection()
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        found = []
        for name in names:
            rows = (await session.execute(text(f'SELECT * FROM "{name}"'))).all()
            if needle in repr(rows):
                found.append(name)
        return found


async def test_a_hand_over_gives_the_recipient_a_receipt_code_that_only_commits_on_the_bus(
    system: System,
) -> None:
    d = system.distribution
    rid, homes = await ready_round(system, "03", 2)
    codes = []
    for home in homes:
        aid = await allocate(system, rid, home)
        handed = await d.post(
            f"/allocations/{aid}/receipt", json=receipt(home["niks"][-1]), headers=OFFICER
        )
        assert handed.status_code == 200, handed.text
        code = handed.json()["receipt_code"]
        assert re.fullmatch(code_pattern(RECEIPT_PREFIX, RECEIPT_GROUPS), code), code
        codes.append((aid, code))
        again = (await d.get(f"/allocations/{aid}", headers=OFFICER)).json()
        assert again["status"] == "received" and "receipt_code" not in again  # shown once
    assert codes[0][1] != codes[1][1]

    # budget, certificate, round, endorsement, then per household an allocation and a hand-over
    envelopes = await published(system, 4 + 2 * 2)
    received = {e.aggregate_id: e for e in envelopes if e.type == "distribution.aid_received"}
    committed = commitments(system.settings)
    for aid, code in codes:
        event = received[UUID(aid)]
        assert event.schema_version == 2
        assert event.payload["receipt_commitment"] == committed.receipt(code)
        assert (event.payload["round_id"], event.payload["rw"]) == (rid, "03")
        assert event.payload["amount_idr"] == 600_000 and event.payload["programme"] == "BLT"
        bus = b"".join(
            m.data + repr(m.headers).encode() for m in await stream_messages(system.nats_url)
        )
        assert code.encode() not in bus
        assert await stored_anywhere(system, code) == []  # not kept: the recipient holds it
    everything = b"".join(m.data for m in await stream_messages(system.nats_url)).decode()
    for home in homes:
        assert not [nik for nik in home["niks"] if nik in everything]
        assert not [nik for nik in home["niks"] if nik[:4] + "••••••••" + nik[-4:] in everything]


async def test_staff_notes_stay_in_distribution_and_their_events_commit_to_them(
    system: System,
) -> None:
    d = system.distribution
    await budget(system)
    await certify(system)
    home = await household(system, "08")
    rid = await round_(system, "08")
    endorsement = "disepakati dalam rembuk warga RW 08, berita acara no. 17"
    endorsed = await d.post(
        f"/rounds/{rid}/endorsement", json={"note": endorsement}, headers=FACILITATOR
    )
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["endorsement_note"] == endorsement
    aid = await allocate(system, rid, home)
    away = "rumah kosong, kata tetangga sedang ke Bogor sampai Jumat"
    reported = await d.post(
        f"/allocations/{aid}/undelivered",
        json={"reason": "not_at_home", "note": away},
        headers=OFFICER,
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["undelivered_note"] == away
    silent = await d.post(
        f"/allocations/{aid}/undelivered", json={"reason": "not_at_home"}, headers=OFFICER
    )
    assert silent.json()["undelivered_note"] == away  # the latest note there is

    envelopes = await published(system, 4 + 1 + 2)  # and an allocation, two reports
    committed = commitments(system.settings)
    async with system.runtime.reads() as session:
        kept = {r.event_id: r for r in await session.execute(select(staff_notes))}
    with_notes = [e for e in envelopes if e.payload.get("note_commitment")]
    assert [e.type for e in with_notes] == [
        "distribution.round_endorsed",
        "distribution.aid_undelivered",
    ]
    for envelope, note in zip(with_notes, (endorsement, away), strict=True):
        row = kept[envelope.event_id]
        assert row.note == note
        assert committed.opens("text", note, row.salt, envelope.payload["note_commitment"])
        assert "note" not in envelope.payload
    [bare] = [
        e for e in envelopes if e.type == "distribution.aid_undelivered" and e not in with_notes
    ]
    assert bare.payload["note_commitment"] is None
    assert (bare.payload["round_id"], bare.payload["rw"], bare.payload["amount_idr"]) == (
        rid,
        "08",
        600_000,
    )
    bus = b"".join(m.data for m in await stream_messages(system.nats_url)).decode()
    assert endorsement not in bus and away not in bus and "Bogor" not in bus


async def test_the_officer_finds_the_allocation_of_the_person_in_front_of_them(
    system: System,
) -> None:
    d = system.distribution
    rid, homes = await ready_round(system, "05", 3)
    allocated = {h["household_id"]: await allocate(system, rid, h) for h in homes[:2]}
    first, second, left_out = homes

    async def lookup(nik: str, who: dict[str, str] = OFFICER) -> httpx.Response:
        return await d.post(f"/rounds/{rid}/manifest/lookup", json={"nik": nik}, headers=who)

    for home in (first, second):
        for nik in home["niks"]:  # any member of the household, not only the head
            found = await lookup(nik)
            assert found.status_code == 200, found.text
            [item] = found.json()["items"]
            assert item["allocation_id"] == allocated[home["household_id"]]
            assert (item["household_id"], item["status"]) == (home["household_id"], "allocated")
            assert not any("nik" in key for key in item)
    assert (await lookup(left_out["head_nik"])).json() == {"items": []}
    stranger = "3174091203650001" if "3174091203650001" not in first["niks"] else "3174091203650002"
    assert (await lookup(stranger)).json() == {"items": []}
    manager = await lookup(first["head_nik"], MANAGER)
    assert manager.status_code == 200 and len(manager.json()["items"]) == 1

    malformed = await lookup("3174-0912-0365")
    assert malformed.status_code == 422
    assert (malformed.json()["details"][0]["field"], malformed.json()["details"][0]["rule"]) == (
        "nik",
        "string_pattern_mismatch",
    )
    nobody = await d.post(
        "/rounds/00000000-0000-4000-8000-000000000000/manifest/lookup",
        json={"nik": first["head_nik"]},
        headers=OFFICER,
    )
    assert (nobody.status_code, nobody.json()["error"]) == (404, "round_not_found")
    for role in (FACILITATOR, bearer(Role.auditor), bearer(Role.registry_operator)):
        refused = await lookup(first["head_nik"], role)
        assert (refused.status_code, refused.json()["error"]) == (403, "role_not_allowed")
    manifest = (await d.get(f"/rounds/{rid}/manifest", headers=OFFICER)).json()["items"]
    assert {m["household_id"] for m in manifest} == set(allocated)
    assert not any("nik" in key for m in manifest for key in m)


# --- histories stored as version 1 events ---------------------------------------------------
async def test_allocations_stored_as_version_1_events_project_and_take_commands(
    system: System,
) -> None:
    """Version 1 hand-over events are classes of their own (not subclasses of version 2):
    the projections and deciders still take them for hand-overs and undelivered reports."""
    d = system.distribution
    rid, homes = await ready_round(system, "02", 3)
    fresh, handed, moved = homes
    officer = officer_id("officer.rudi")
    when = datetime.now(UTC) - timedelta(hours=1)

    def allocated(home: dict[str, Any]) -> AidAllocatedV1:
        return AidAllocatedV1(
            round_id=UUID(rid),
            household_id=UUID(home["household_id"]),
            programme="BLT",
            amount_idr=600_000,
            rt="001",
            rw="02",
            based_on_event_id=uuid4(),
            head_nik_masked="3174••••••••0001",
        )

    histories: dict[str, list[EventPayload]] = {
        fresh["household_id"]: [allocated(fresh)],
        handed["household_id"]: [
            allocated(handed),
            AidReceivedV1(
                officer_id=officer,
                recipient_commitment=commitments(system.settings).nik(handed["head_nik"]),
                received_at=when,
                place="Posko RW 02",
                evidence_sha256=EVIDENCE,
            ),
        ],
        moved["household_id"]: [
            allocated(moved),
            AidUndeliveredV1(officer_id=officer, reason="moved", note="pindah ke Bekasi"),
        ],
    }
    async with system.runtime.sessions() as session, session.begin():
        for hid, payloads in histories.items():
            envelopes = [
                Envelope.wrap(
                    p,
                    aggregate_id=legacy_allocation_id(rid, hid),
                    aggregate_version=i,
                    actor="petugas.lama",
                )
                for i, p in enumerate(payloads, start=1)
            ]
            assert {e.schema_version for e in envelopes} == {1}
            await eventstore.append(session, envelopes)
            await projections.project(session, envelopes)

    status = (await d.get(f"/rounds/{rid}/summary", headers=MANAGER)).json()
    assert (status["allocated"], status["received"], status["undelivered"]) == (3, 1, 1)
    aid = {h: str(legacy_allocation_id(rid, h)) for h in histories}
    again = await d.post(
        f"/allocations/{aid[handed['household_id']]}/receipt",
        json=receipt(handed["head_nik"]),
        headers=OFFICER,
    )
    assert (again.status_code, again.json()["error"]) == (409, "already_received")
    final = await d.post(
        f"/allocations/{aid[moved['household_id']]}/receipt",
        json=receipt(moved["head_nik"]),
        headers=OFFICER,
    )
    assert (final.status_code, final.json()["error"]) == (409, "already_undelivered")
    now = await d.post(
        f"/allocations/{aid[fresh['household_id']]}/receipt",
        json=receipt(fresh["head_nik"]),
        headers=OFFICER,
    )
    assert now.status_code == 200, now.text
    assert now.json()["status"] == "received" and now.json()["receipt_code"]

    status = (await d.get(f"/rounds/{rid}/summary", headers=MANAGER)).json()
    assert (status["allocated"], status["received"], status["undelivered"]) == (3, 2, 1)
    before = await snapshot(system)
    async with system.runtime.sessions() as session, session.begin():
        await projections.rebuild(session)
    assert await snapshot(system) == before
