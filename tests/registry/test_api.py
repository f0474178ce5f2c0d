"""The registry over HTTP, in-process, on SQLite and PostgreSQL with a real nats-server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
import pytest
from sqlalchemy import insert, select

from services.registry import private, projections
from services.registry.service import SERVICE
from services.registry.settings import RegistrySettings
from shared import eventstore
from shared.auth import Role, issue_token
from shared.events import Envelope, EventPayload, utcnow
from shared.events.registry import (
    EligibilityDecidedV1,
    HouseholdRegisteredV1,
    MemberFactsV1,
)
from shared.pii import commitments
from shared.runtime import Runtime
from shared.settings import CommonSettings
from tests.helpers import NatsServer, bearer, eventually, serve_app, stream_holds

OPERATOR = bearer(Role.registry_operator, "operator.siti")

HOUSEHOLD: dict[str, Any] = {
    "kk_number": "3174090101090001",
    "rt": "005",
    "rw": "03",
    "address": "Jl. Tanjung Barat Raya No. 12",
    "phone": "081234567890",
    "monthly_income_idr": 1_800_000,
    "desil": 3,
    "members": [
        {
            "full_name": "Budi Santoso",
            "nik": "3174091203650001",
            "birth_date": "1965-03-12",
            "sex": "M",
            "relationship": "head",
        },
        {
            "full_name": "Sri Wahyuni",
            "nik": "3174095508700002",
            "birth_date": "1970-08-15",
            "sex": "F",
            "relationship": "spouse",
            "disabled": True,
        },
        {
            "full_name": "Andi Santoso",
            "nik": "3174090101150003",
            "birth_date": "2015-01-01",
            "sex": "M",
            "relationship": "child",
        },
    ],
}

SURVEY = {
    "surveyed_on": "2026-11-01",
    "monthly_income_idr": 1_800_000,
    "household_size": 3,
    "floor_area_m2": 30,
    "floor": "cement",
    "wall": "unplastered_brick",
    "water": "well",
    "sanitation": "shared",
    "electricity": "900VA",
    "cooking_fuel": "lpg_3kg",
}


def household(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(HOUSEHOLD)
    body.update(changes)
    return body


def single(nik: str, born: str, sex: str = "M", **changes: Any) -> dict[str, Any]:
    return household(
        members=[
            {
                "full_name": "Slamet",
                "nik": nik,
                "birth_date": born,
                "sex": sex,
                "relationship": "head",
            }
        ],
        **changes,
    )


@dataclass
class Registry:
    client: httpx.AsyncClient
    runtime: Runtime
    settings: RegistrySettings
    nats_url: str


@pytest.fixture
async def registry(database_url: str, nats_server: NatsServer) -> AsyncIterator[Registry]:
    settings = RegistrySettings(database_url=database_url, nats_url=nats_server.url)
    app = SERVICE.app(settings)
    async with serve_app(app) as client:
        yield Registry(client, app.state.runtime, settings, nats_server.url)


@pytest.fixture
def client(registry: Registry) -> httpx.AsyncClient:
    return registry.client


async def register(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    reply = await client.post("/households", json=body, headers=OPERATOR)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def test_a_household_is_registered_surveyed_and_decided(client: httpx.AsyncClient) -> None:
    created = await register(client, household())
    hid = created["household_id"]
    assert created["vulnerability"] == ["elderly", "disabled", "children"]
    assert [m["full_name"] for m in created["members"]] == [
        "Budi Santoso",
        "Sri Wahyuni",
        "Andi Santoso",
    ]
    assert created["head_nik_masked"] == "3174••••••••0001"

    survey = await client.post(f"/households/{hid}/surveys", json=SURVEY, headers=OPERATOR)
    assert survey.status_code == 201, survey.text
    assert 0 <= survey.json()["pmt_score"] <= 100
    decision = await client.post(f"/households/{hid}/eligibility", headers=OPERATOR)
    assert decision.status_code == 200
    assert decision.json()["eligible"] is True
    assert {"desil_3", "elderly_member", "disabled_member", "children"} <= set(
        decision.json()["reasons"]
    )

    got = await client.get(f"/households/{hid}", headers=OPERATOR)
    assert got.status_code == 200
    assert got.headers["ETag"] == '"3"'
    assert got.json()["eligible"] is True
    history = await client.get(f"/households/{hid}/history", headers=OPERATOR)
    assert [e["type"] for e in history.json()] == [
        "registry.household_registered",
        "registry.survey_recorded",
        "registry.eligibility_decided",
    ]
    assert {e["actor"] for e in history.json()} == {"operator.siti"}


async def test_members_updates_and_deactivation(registry: Registry) -> None:
    client = registry.client
    hid = (await register(client, single("3174091203650001", "1965-03-12")))["household_id"]
    baby = {
        "full_name": "Putri",
        "nik": "3174094102250004",
        "birth_date": "2025-02-01",
        "sex": "F",
        "relationship": "child",
    }
    added = await client.post(f"/households/{hid}/members", json=baby, headers=OPERATOR)
    assert added.status_code == 201, added.text
    assert added.json()["member_count"] == 2
    assert "children" in added.json()["vulnerability"]

    patched = await client.patch(
        f"/households/{hid}",
        headers={**OPERATOR, "If-Match": '"2"'},
        json={"rw": "04", "address": "Gg. Masjid No. 3"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["rw"], patched.json()["address"]) == ("04", "Gg. Masjid No. 3")

    gone = await client.post(
        f"/households/{hid}/deactivation",
        headers=OPERATOR,
        json={"reason": "moved", "note": "pindah ke Depok"},
    )
    assert gone.status_code == 200
    assert (gone.json()["status"], gone.json()["deactivation_reason"]) == ("inactive", "moved")
    assert gone.json()["deactivation_note"] == "pindah ke Depok"  # for operators, from here
    # The event commits to the note with a salt kept beside it; the note stays here.
    history = (await client.get(f"/households/{hid}/history", headers=OPERATOR)).json()
    deactivated = history[-1]["payload"]
    assert set(deactivated) == {"reason", "note_commitment", "duplicate_of"}
    async with registry.runtime.reads() as session:
        stored = (
            await session.execute(
                select(private.deactivation_notes).where(
                    private.deactivation_notes.c.household_id == UUID(hid)
                )
            )
        ).one()
    assert commitments(registry.settings).opens(
        "text", "pindah ke Depok", stored.salt, deactivated["note_commitment"]
    )
    messages = await eventually(lambda: stream_holds(registry.nats_url, 4))
    assert b"Depok" not in b"".join(m.data for m in messages)
    again = await client.patch(f"/households/{hid}", headers=OPERATOR, json={"rw": "05"})
    assert (again.status_code, again.json()["error"]) == (409, "household_inactive")
    # Once inactive, its NIKs may be registered again (e.g. in the new household).
    await register(client, single("3174091203650001", "1965-03-12", kk_number="3174090101090002"))


async def test_a_nik_belongs_to_one_active_household(client: httpx.AsyncClient) -> None:
    first = await register(client, household())
    reply = await client.post(
        "/households",
        headers=OPERATOR,
        json=single("3174095508700002", "1970-08-15", sex="F", kk_number="3174090101090009"),
    )
    assert reply.status_code == 409
    body = reply.json()
    assert body["error"] == "nik_already_registered"
    assert first["household_id"] in body["message"]
    assert body["details"][0]["field"] == "members.0.nik"


async def test_list_filters_and_pages(client: httpx.AsyncClient) -> None:
    for i in range(7):
        rw = "01" if i % 2 else "02"
        await register(
            client,
            single(
                f"31740912036500{i + 10:02d}",
                "1965-03-12",
                rw=rw,
                kk_number=f"31740901010900{i + 10:02d}",
            ),
        )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"rw": "02", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/households", params=params, headers=OPERATOR)).json()
        seen += [item["household_id"] for item in page["items"]]
        assert all(item["rw"] == "02" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4
    elderly = (
        await client.get("/households", params={"vulnerability": "elderly"}, headers=OPERATOR)
    ).json()
    assert len(elderly["items"]) == 7 and elderly["items"][0]["head_name"] == "Slamet"
    children = (
        await client.get("/households", params={"vulnerability": "children"}, headers=OPERATOR)
    ).json()
    assert children["items"] == []


def expired_token() -> str:
    claims = {
        "sub": "x",
        "role": "registry_operator",
        "iss": "bansos.tanjung-barat",
        "aud": "bansos",
        "exp": utcnow() - timedelta(minutes=1),
    }
    return jwt.encode(claims, CommonSettings().jwt_secret.get_secret_value(), algorithm="HS256")


@pytest.mark.parametrize(
    ("body", "status", "field", "rule"),
    [
        (
            household(members=[{**HOUSEHOLD["members"][0], "nik": "123"}]),
            422,
            "members.0.nik",
            "nik_format",
        ),
        (
            household(members=[{**HOUSEHOLD["members"][0], "birth_date": "1965-03-13"}]),
            422,
            "members.0.nik",
            "nik_birth_date",
        ),
        (
            household(members=[{**HOUSEHOLD["members"][0], "sex": "F"}]),
            422,
            "members.0.nik",
            "nik_sex",
        ),
        (household(kk_number="31740901010900"), 422, "kk_number", "kk_format"),
        (household(rw="13"), 422, "rw", "rw_outside_kelurahan"),
        (household(rw="3"), 422, "rw", "string_pattern_mismatch"),
        (household(rt="000"), 422, "rt", "string_pattern_mismatch"),
        (household(monthly_income_idr="banyak"), 422, "monthly_income_idr", "int_parsing"),
        (household(monthly_income_idr=-5), 422, "monthly_income_idr", "greater_than_equal"),
        (household(desil=11), 422, "desil", "less_than_equal"),
        (household(members=[]), 422, "members", "too_short"),
        (household(colour="blue"), 422, "colour", "unknown_field"),
        ({k: v for k, v in HOUSEHOLD.items() if k != "address"}, 422, "address", "required"),
        (
            household(members=[{**m, "relationship": "child"} for m in HOUSEHOLD["members"]]),
            422,
            "members",
            "one_head_required",
        ),
        (
            household(members=[{**HOUSEHOLD["members"][0], "birth_date": "2999-01-01"}]),
            422,
            "members.0.birth_date",
            "birth_date_range",
        ),
    ],
)
async def test_bad_registrations_name_the_field_and_the_rule(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, field: str, rule: str
) -> None:
    reply = await client.post("/households", json=body, headers=OPERATOR)
    assert reply.status_code == status, reply.text
    problems = {(d["field"], d["rule"]) for d in reply.json()["details"]}
    assert (field, rule) in problems
    listed = (await client.get("/households", headers=OPERATOR)).json()
    assert listed["items"] == []  # nothing half-written


async def test_malformed_requests_and_unknown_households(client: httpx.AsyncClient) -> None:
    broken = await client.post(
        "/households",
        content=b'{"kk_number": ',
        headers={**OPERATOR, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["details"][0]["rule"] == "valid_json"
    unknown = await client.get("/households/5b0b5b2e-51ce-4a32-9c1b-58bbd9c6bbd0", headers=OPERATOR)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "household_not_found")
    not_uuid = await client.get("/households/42", headers=OPERATOR)
    assert not_uuid.status_code == 422 and not_uuid.json()["details"][0]["field"] == "household_id"
    bad_cursor = await client.get("/households", params={"cursor": "!!"}, headers=OPERATOR)
    assert (bad_cursor.status_code, bad_cursor.json()["details"][0]["field"]) == (422, "cursor")
    survey = await client.post(
        "/households/5b0b5b2e-51ce-4a32-9c1b-58bbd9c6bbd0/surveys", json=SURVEY, headers=OPERATOR
    )
    assert survey.status_code == 404


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "token_missing"),
        ({"Authorization": "Bearer not-a-jwt"}, 401, "token_invalid"),
        ({"Authorization": f"Bearer {expired_token()}"}, 401, "token_expired"),
        (bearer(Role.distribution_officer), 403, "role_not_allowed"),
        (bearer(Role.auditor), 403, "role_not_allowed"),
    ],
)
async def test_registration_needs_a_valid_operator_token(
    client: httpx.AsyncClient, headers: dict[str, str], status: int, code: str
) -> None:
    reply = await client.post("/households", json=household(), headers=headers)
    assert (reply.status_code, reply.json()["error"]) == (status, code)
    assert reply.json()["details"][0]["field"] == "Authorization"


async def test_a_token_signed_with_another_secret_is_refused(client: httpx.AsyncClient) -> None:
    forged = issue_token(
        CommonSettings(jwt_secret="another-secret-of-sufficient-length-xx"), "mallory", Role.admin
    )
    reply = await client.get("/households", headers={"Authorization": f"Bearer {forged}"})
    assert reply.status_code == 401
    assert "BANSOS_JWT_SECRET" in reply.json()["message"]  # says which setting to look at


async def test_two_concurrent_updates_one_wins_one_gets_412(client: httpx.AsyncClient) -> None:
    hid = (await register(client, household()))["household_id"]
    headers = {**OPERATOR, "If-Match": '"1"'}
    replies = await asyncio.gather(
        client.patch(f"/households/{hid}", json={"monthly_income_idr": 900_000}, headers=headers),
        client.patch(f"/households/{hid}", json={"monthly_income_idr": 2_500_000}, headers=headers),
    )
    # Both said which version they read (If-Match): the second finds it moved on.
    assert sorted(r.status_code for r in replies) == [200, 412]
    loser = next(r for r in replies if r.status_code == 412)
    assert loser.json()["error"] == "version_stale"
    winner = next(r for r in replies if r.status_code == 200)
    final = (await client.get(f"/households/{hid}", headers=OPERATOR)).json()
    assert final["version"] == 2
    assert final["monthly_income_idr"] == winner.json()["monthly_income_idr"]
    history = (await client.get(f"/households/{hid}/history", headers=OPERATOR)).json()
    assert len(history) == 2


async def test_concurrent_registrations_of_one_nik_register_it_once(
    client: httpx.AsyncClient,
) -> None:
    bodies = [
        single("3174091203650001", "1965-03-12", kk_number=f"317409010109{i:04d}")
        for i in range(1, 6)
    ]
    replies = await asyncio.gather(
        *(client.post("/households", json=b, headers=OPERATOR) for b in bodies)
    )
    assert sorted(r.status_code for r in replies) == [201, 409, 409, 409, 409]
    assert all(
        r.json()["error"] == "nik_already_registered" for r in replies if r.status_code == 409
    )
    listed = (await client.get("/households", headers=OPERATOR)).json()
    assert len(listed["items"]) == 1


async def test_health_readiness_and_event_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "nats": "ok"}
    spec = (await client.get("/asyncapi.json")).json()
    assert spec["asyncapi"].startswith("3.")
    assert "bansos.registry.household_registered" in str(spec["channels"])


# --- histories stored as version 1 events ---------------------------------------------------
async def stored_v1_household(registry: Registry) -> UUID:
    """A household as the registry stored it before version 2: masked NIK and KK on its
    events, read models and personal data as they were projected then."""
    hid, head_id = uuid4(), uuid4()
    nik, kk = "3174091203650001", "3174090101090001"
    c = commitments(registry.settings)
    head = MemberFactsV1(
        member_id=head_id,
        nik_masked="3174••••••••0001",
        nik_commitment=c.nik(nik),
        sex="M",
        birth_year=1965,
        relationship="head",
        disabled=False,
    )
    payloads: list[EventPayload] = [
        HouseholdRegisteredV1(
            rt="005",
            rw="03",
            kk_masked="3174••••••••0001",
            kk_commitment=c.kk(kk),
            members=(head,),
            monthly_income_idr=400_000,
            vulnerability=("elderly",),
        ),
        EligibilityDecidedV1(
            eligible=True,
            reasons=("low_income",),
            rt="005",
            rw="03",
            vulnerability=("elderly",),
            member_commitments=(head.nik_commitment,),
            policy_version="eligibility-2026.1",
            head_nik_masked="3174••••••••0001",
        ),
    ]
    envelopes = [
        Envelope.wrap(p, aggregate_id=hid, aggregate_version=i, actor="operator.lama")
        for i, p in enumerate(payloads, start=1)
    ]
    assert [e.schema_version for e in envelopes] == [1, 1]
    async with registry.runtime.sessions() as session, session.begin():
        await eventstore.append(session, envelopes)
        await projections.project(session, envelopes)
        await session.execute(
            insert(private.household_pii).values(
                household_id=hid, kk_number=kk, address="Gg. Masjid No. 3"
            )
        )
        await session.execute(
            insert(private.members).values(
                member_id=head_id,
                household_id=hid,
                full_name="Slamet",
                nik=nik,
                birth_date=date(1965, 3, 12),
                sex="M",
                relationship="head",
                disabled=False,
                position=0,
            )
        )
    return hid


async def test_a_household_stored_as_version_1_events_loads_and_takes_commands(
    registry: Registry,
) -> None:
    client = registry.client
    hid = await stored_v1_household(registry)
    got = await client.get(f"/households/{hid}", headers=OPERATOR)
    assert got.status_code == 200, got.text
    assert (got.json()["eligible"], got.json()["head_nik_masked"]) == (True, "3174••••••••0001")

    child = {
        "full_name": "Putri",
        "nik": "3174094102250004",
        "birth_date": "2025-02-01",
        "sex": "F",
        "relationship": "child",
    }
    added = await client.post(f"/households/{hid}/members", json=child, headers=OPERATOR)
    assert added.status_code == 201, added.text
    assert added.json()["vulnerability"] == ["elderly", "children"]
    decided = await client.post(f"/households/{hid}/eligibility", headers=OPERATOR)
    assert decided.status_code == 200, decided.text
    twice = await client.post(
        "/households",
        json=single("3174091203650001", "1965-03-12", kk_number="3174090101090002"),
        headers=OPERATOR,
    )
    assert (twice.status_code, twice.json()["error"]) == (409, "nik_already_registered")
    gone = await client.post(
        f"/households/{hid}/deactivation", json={"reason": "deceased"}, headers=OPERATOR
    )
    assert gone.status_code == 200, gone.text
    assert (gone.json()["status"], gone.json()["version"]) == ("inactive", 5)

    history = (await client.get(f"/households/{hid}/history", headers=OPERATOR)).json()
    assert [e["type"].split(".")[1] for e in history] == [
        "household_registered",
        "eligibility_decided",
        "member_added",
        "eligibility_decided",
        "household_deactivated",
    ]
    assert "head_nik_masked" in history[1]["payload"]  # as stored, version 1
    assert "head_nik_masked" not in history[3]["payload"]
    assert "nik_masked" not in history[2]["payload"]["member"]

    async with registry.runtime.reads() as session:
        before = (await session.execute(select(projections.households))).all()
    async with registry.runtime.sessions() as session, session.begin():
        assert await projections.rebuild(session) == 5
    async with registry.runtime.reads() as session:
        after = (await session.execute(select(projections.households))).all()
    assert [r[1:] for r in after] == [r[1:] for r in before]  # all but the paging sequence
