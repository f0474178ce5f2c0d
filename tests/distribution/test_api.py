"""Distribution over HTTP, with the registry beside it on one real nats-server: households
registered and decided in the registry reach distribution through the bus only.
Each service has its own database (SQLite files, or two PostgreSQL databases)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.distribution import projections
from services.distribution.app import create as create_distribution
from services.distribution.settings import DistributionSettings
from services.registry.app import create as create_registry
from services.registry.settings import RegistrySettings
from shared.auth import Role
from shared.runtime import Runtime
from tests.helpers import NatsServer, bearer, decided_household, serve_app

OPERATOR = bearer(Role.registry_operator, "operator.siti")
MANAGER = bearer(Role.programme_manager, "manager.dewi")
FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")
OFFICER = bearer(Role.distribution_officer, "officer.rudi")
OTHER_OFFICER = bearer(Role.distribution_officer, "officer.agus")
UNCERTIFIED = bearer(Role.distribution_officer, "officer.baru")
PERIOD = f"{date.today():%Y-%m}"
EVIDENCE = "9f" * 32


@dataclass
class System:
    registry: httpx.AsyncClient
    distribution: httpx.AsyncClient
    rng: random.Random
    runtime: Runtime  # distribution's


@pytest.fixture
async def system(two_databases: list[str], nats_server: NatsServer) -> AsyncIterator[System]:
    registry = create_registry(
        RegistrySettings(database_url=two_databases[0], nats_url=nats_server.url)
    )
    distribution = create_distribution(
        DistributionSettings(database_url=two_databases[1], nats_url=nats_server.url)
    )
    async with serve_app(registry) as reg, serve_app(distribution) as dist:
        yield System(reg, dist, random.Random(11), distribution.state.runtime)


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
            "certified_on": str(date.today() - timedelta(days=30)),
            "expires_on": str(date.today() + timedelta(days=335)),
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
                {"rw": rw, "place": f"Posko RW {rw}, balai warga", "on": str(date.today())}
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
    assert one.json()["amount_idr"] == 600_000 and one.json()["head_nik_masked"].endswith(
        first["head_nik"][-4:]
    )
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
            "poskos": [{"rw": "01", "place": "Posko RW 01", "on": str(date.today())}],
        },
        headers=MANAGER,
    )
    assert no_budget.status_code == 422 and no_budget.json()["error"] == "budget_not_found"
    outside = await d.post(
        "/rounds",
        json={
            "programme": "BLT",
            "period": PERIOD,
            "poskos": [{"rw": "42", "place": "Posko RW 42", "on": str(date.today())}],
        },
        headers=MANAGER,
    )
    assert outside.json()["details"][0]["field"] == "poskos.0.rw"
    unknown = await d.post(
        "/rounds/00000000-0000-4000-8000-000000000000/allocations/bulk", headers=MANAGER
    )
    assert unknown.status_code == 404 and unknown.json()["error"] == "round_not_found"
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

    async def snapshot() -> dict[str, list[Any]]:
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

    before = await snapshot()
    assert len(before["allocations"]) == 3
    async with system.runtime.sessions() as session, session.begin():
        replayed = await projections.rebuild(session)
    assert replayed == 1 + 1 + 1 + 1 + 3 + 2 + 1  # budget, certificate, round, endorsement,
    # allocations, hand-overs, top-up
    assert await snapshot() == before
