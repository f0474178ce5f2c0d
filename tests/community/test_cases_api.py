"""Mentoring cases and outreach reach over HTTP on SQLite and PostgreSQL with a real
nats-server: a case through visits, a referral and its answer to its closure; caseloads,
what is overdue as the days pass, counts per RW with small cells suppressed; and nothing a
facilitator wrote, nor the household, reaches the bus or a public view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from services.community import private
from services.community.service import SERVICE
from services.community.settings import CommunitySettings
from shared import clock
from shared.auth import Role
from shared.events import Envelope, public_view
from shared.pii import commitments
from tests.helpers import NatsServer, bearer, eventually, serve_app, stream_holds

YUSUF = bearer(Role.community_facilitator, "facilitator.yusuf")
RINA = bearer(Role.community_facilitator, "facilitator.rina")
AUDITOR = bearer(Role.auditor, "inspektorat.hasan")
MANAGER = bearer(Role.programme_manager, "manager.dewi")
VISIT_NOTE = "Ibu Warsini batuk lama, anaknya putus sekolah kelas 8"
ANSWER_NOTE = "Puskesmas Tanjung Barat: dijadwalkan periksa TB tanggal 20"


def app_for(database_url: str, nats_url: str, **overrides: Any) -> Any:
    return SERVICE.app(CommunitySettings(database_url=database_url, nats_url=nats_url, **overrides))


@pytest.fixture
async def client(database_url: str, nats_server: NatsServer) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(app_for(database_url, nats_server.url)) as client:
        yield client


def days_later(monkeypatch: pytest.MonkeyPatch, days: int) -> date:
    """Move the programme's calendar on (the routes and handlers read `clock.today`)."""
    later = clock.today() + timedelta(days=days)
    monkeypatch.setattr(clock, "today", lambda: later)
    return later


async def open_case(
    client: httpx.AsyncClient, headers: dict[str, str] = YUSUF, **changes: Any
) -> dict[str, Any]:
    body = {"reason": "vulnerable_member", "household_id": str(uuid4()), "rw": "03", **changes}
    reply = await client.post("/cases", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    assert reply.headers["Location"] == f"/cases/{reply.json()['case_id']}"
    return dict(reply.json())


async def post(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    reply = await client.post(path, json=body, headers=YUSUF)
    assert reply.status_code == status, reply.text
    return dict(reply.json())


async def test_a_case_from_opening_through_a_referral_to_its_closure(
    database_url: str, nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(database_url, nats_server.url, referral_sla_days=10)
    today = clock.today()
    async with serve_app(app) as client:
        opened = await open_case(client, note="Lansia tinggal sendiri")
        cid, path = opened["case_id"], f"/cases/{opened['case_id']}"
        assert (opened["status"], opened["facilitator"], opened["opened_on"]) == (
            "open",
            "facilitator.yusuf",
            str(today),
        )
        plan = await post(client, f"{path}/visits/plan", {"planned_on": str(today), "kind": "home"})
        assert plan["visits"][0]["visited_on"] is None
        made = await post(
            client,
            f"{path}/visits",
            {
                "visited_on": str(today),
                "kind": "home",
                "findings": ["health_problem", "child_out_of_school"],
                "needs": ["health_care", "schooling"],
                "next_steps": ["refer_to_office"],
                "note": VISIT_NOTE,
            },
        )
        [visit] = made["visits"]  # the plan, made
        assert (visit["plan_index"], visit["visited_on"]) == (0, str(today))
        assert visit["findings"] == ["health_problem", "child_out_of_school"]
        assert made["visits_made"] == 1 and made["last_visit_on"] == str(today)

        sent = await post(client, f"{path}/referrals", {"office": "puskesmas", "reason": "TB?"})
        [referral] = sent["referrals"]
        assert referral["due_on"] == str(today + timedelta(days=10))  # the setting's SLA
        assert referral["answer"] is None and referral["overdue"] is False
        early = await client.post(f"{path}/closure", json={"outcome": "improved"}, headers=YUSUF)
        assert early.status_code == 409 and early.json()["error"] == "referral_pending"

        answered = await post(
            client, f"{path}/referrals/0/answer", {"answer": "accepted", "note": ANSWER_NOTE}
        )
        assert answered["referrals"][0]["answer"] == "accepted"
        again = await client.post(
            f"{path}/referrals/0/answer", json={"answer": "served"}, headers=YUSUF
        )
        assert again.status_code == 409 and again.json()["error"] == "referral_answered"
        closed = await post(client, f"{path}/closure", {"outcome": "referred_and_served"})
        assert (closed["status"], closed["outcome"]) == ("closed", "referred_and_served")
        late = await client.post(
            f"{path}/visits", json={"visited_on": str(today), "kind": "phone"}, headers=YUSUF
        )
        assert late.status_code == 409 and late.json()["error"] == "case_closed"

        # Facilitators read what was written; auditors read the case without it.
        mine = (await client.get(path, headers=RINA)).json()
        assert [n["text"] for n in mine["notes"]] == [
            "Lansia tinggal sendiri",
            VISIT_NOTE,
            "TB?",
            ANSWER_NOTE,
        ]
        audited = (await client.get(path, headers=AUDITOR)).json()
        assert audited["notes"] == [] and audited["referrals"][0]["office"] == "puskesmas"
        assert VISIT_NOTE not in str(audited)
        manager = await client.get(path, headers=MANAGER)
        assert manager.status_code == 403

        # While the service runs: its outbox relay publishes them.
        # The bus carries categories and commitments: no words, each commitment opens.
        messages = await eventually(lambda: stream_holds(nats_server.url, 6))
    envelopes = [Envelope.model_validate_json(m.data) for m in messages]
    everything = b"\n".join(m.data for m in messages).decode()
    for secret in (VISIT_NOTE, ANSWER_NOTE, "Lansia", "facilitator.rina"):
        assert secret not in everything
    runtime = app.state.runtime
    keys = commitments(runtime.settings)
    async with runtime.reads() as session:
        texts = {r.event_id: r for r in await session.execute(select(private.texts))}
    opened_commitments = 0
    for envelope in envelopes:
        view = str(public_view(envelope))
        assert opened["household_id"] not in view and cid not in view
        for key, commitment in envelope.payload.items():
            if key.endswith("_commitment") and commitment:
                row = texts[envelope.event_id]
                assert keys.opens("text", row.body, row.salt, commitment)
                opened_commitments += 1
    assert opened_commitments == 4


async def test_caseloads_are_ones_own_by_default(client: httpx.AsyncClient) -> None:
    yusuf = await open_case(client)
    rina = await open_case(client, RINA, rw="05", reason="after_aid")
    trainee = await open_case(
        client,
        reason="after_training",
        subject="trainee",
        member_id=str(uuid4()),
        course_id=str(uuid4()),
    )

    def ids(reply: httpx.Response) -> list[str]:
        assert reply.status_code == 200, reply.text
        return [c["case_id"] for c in reply.json()["items"]]

    assert ids(await client.get("/cases", headers=YUSUF)) == [
        yusuf["case_id"],
        trainee["case_id"],
    ]
    assert ids(await client.get("/cases", headers=RINA)) == [rina["case_id"]]
    assert len(ids(await client.get("/cases?all=true", headers=RINA))) == 3
    assert ids(await client.get("/cases?facilitator=facilitator.rina", headers=YUSUF)) == [
        rina["case_id"]
    ]
    assert len(ids(await client.get("/cases", headers=AUDITOR))) == 3  # everyone's
    assert ids(await client.get("/cases?subject=trainee", headers=YUSUF)) == [trainee["case_id"]]
    assert ids(await client.get("/cases?rw=05&all=true", headers=YUSUF)) == [rina["case_id"]]
    paged = (await client.get("/cases?all=true&limit=2", headers=AUDITOR)).json()
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    rest = await client.get(f"/cases?all=true&cursor={paged['next_cursor']}", headers=AUDITOR)
    assert ids(rest) == [trainee["case_id"]]


async def test_planned_visits_and_referrals_fall_overdue_as_the_days_pass(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = clock.today()
    visited = await open_case(client)
    waiting = await open_case(client)
    for case in (visited, waiting):
        path = f"/cases/{case['case_id']}"
        await post(client, f"{path}/visits/plan", {"planned_on": str(today + timedelta(days=1))})
    await post(client, f"/cases/{waiting['case_id']}/referrals", {"office": "dinas_sosial"})
    assert (await client.get("/cases/overdue", headers=YUSUF)).json()["visits"] == []

    later = days_later(monkeypatch, 3)
    await post(
        client,
        f"/cases/{visited['case_id']}/visits",
        {"visited_on": str(later), "kind": "phone"},
    )
    overdue = (await client.get("/cases/overdue", headers=YUSUF)).json()
    assert overdue["today"] == str(later)
    [late] = overdue["visits"]
    assert (late["case_id"], late["days_late"]) == (waiting["case_id"], 2)
    assert overdue["referrals"] == []  # 14 days by default
    assert (await client.get("/cases/overdue", headers=RINA)).json()["visits"] == []
    assert len((await client.get("/cases/overdue?all=true", headers=RINA)).json()["visits"]) == 1

    days_later(monkeypatch, 12)  # 15 days after the referral
    overdue = (await client.get("/cases/overdue", headers=AUDITOR)).json()
    [referral] = overdue["referrals"]
    assert (referral["office"], referral["days_late"]) == ("dinas_sosial", 1)
    case = (await client.get(f"/cases/{waiting['case_id']}", headers=YUSUF)).json()
    assert case["referrals"][0]["overdue"] is True


async def test_counts_per_rw_suppress_small_cells(client: httpx.AsyncClient) -> None:
    today = str(clock.today())
    for _ in range(6):
        await open_case(client, rw="02", reason="after_aid")
    business = await open_case(client, rw="02", reason="after_training")
    await post(
        client,
        f"/cases/{business['case_id']}/visits",
        {
            "visited_on": today,
            "kind": "business_follow_up",
            "business_running": True,
            "income_band": "500k_to_1m",
        },
    )
    await open_case(client, rw="07", reason="complaint", complaint_id=str(uuid4()))
    stats = await client.get("/cases/stats", headers=MANAGER)
    assert stats.status_code == 200, stats.text
    per_rw = {s["rw"]: s for s in stats.json()["per_rw"]}
    assert per_rw["02"]["open"] == 7 and per_rw["02"]["closed"] == "<5"
    assert per_rw["02"]["by_reason"] == {"after_aid": 6, "after_training": "<5"}
    assert per_rw["02"]["business_follow_ups"] == "<5"
    assert per_rw["07"]["open"] == "<5" and per_rw["07"]["by_reason"] == {"complaint": "<5"}
    assert "household" not in stats.text


async def test_case_commands_are_refused_by_their_rules(client: httpx.AsyncClient) -> None:
    today = clock.today()
    trainee = await client.post(
        "/cases",
        json={
            "subject": "trainee",
            "reason": "after_training",
            "household_id": str(uuid4()),
            "rw": "03",
        },
        headers=YUSUF,
    )
    assert trainee.status_code == 422 and trainee.json()["error"] == "member_required"
    outside = await client.post(
        "/cases",
        json={"reason": "after_aid", "household_id": str(uuid4()), "rw": "99"},
        headers=YUSUF,
    )
    assert outside.status_code == 422, outside.text
    bad_household = await client.post(
        "/cases", json={"reason": "after_aid", "household_id": "KK-123", "rw": "03"}, headers=YUSUF
    )
    assert bad_household.status_code == 422
    unknown = await client.post(
        f"/cases/{uuid4()}/visits/plan", json={"planned_on": str(today)}, headers=YUSUF
    )
    assert unknown.status_code == 404 and unknown.json()["error"] == "case_not_found"
    assert (await client.get(f"/cases/{uuid4()}", headers=AUDITOR)).status_code == 404
    future = await client.post(
        "/cases",
        json={
            "reason": "after_aid",
            "household_id": str(uuid4()),
            "rw": "03",
            "opened_on": str(today + timedelta(days=1)),
        },
        headers=YUSUF,
    )
    assert future.status_code == 422 and future.json()["error"] == "opened_on_future"
    on_paper = await open_case(client, opened_on=str(today - timedelta(days=5)))
    assert on_paper["opened_on"] == str(today - timedelta(days=5))
    path = f"/cases/{on_paper['case_id']}"
    past = await client.post(
        f"{path}/visits/plan", json={"planned_on": str(today - timedelta(days=6))}, headers=YUSUF
    )
    assert past.status_code == 422 and past.json()["error"] == "visit_planned_before_opening"
    unlisted = await client.post(
        f"{path}/visits",
        json={"visited_on": str(today), "kind": "home", "findings": ["rumah bocor"]},
        headers=YUSUF,
    )
    assert unlisted.status_code == 422  # findings come from the list
    incomplete = await client.post(
        f"{path}/visits",
        json={"visited_on": str(today), "kind": "business_follow_up", "income_band": "none"},
        headers=YUSUF,
    )
    assert incomplete.json()["error"] == "business_follow_up_incomplete"
    no_referral = await client.post(
        f"{path}/referrals/0/answer", json={"answer": "served"}, headers=YUSUF
    )
    assert no_referral.status_code == 404 and no_referral.json()["error"] == "referral_not_found"
    auditor_writes = await client.post(
        f"{path}/closure", json={"outcome": "improved"}, headers=AUDITOR
    )
    assert auditor_writes.status_code == 403


# --- socialisation -------------------------------------------------------------------------
def outreach(rw: str, female: int, male: int, codes: list[str], **changes: Any) -> dict[str, Any]:
    return {
        "kind": "outreach",
        "held_on": str(clock.today()),
        "rw": rw,
        "attendance": {"female": female, "male": male},
        "topics": ["Hak warga penerima bantuan, dibawakan Bu Lurah"],
        "topic_codes": codes,
        **changes,
    }


async def test_outreach_reach_per_rw_and_topic_beside_complaints(
    client: httpx.AsyncClient,
) -> None:
    for body in (
        outreach("04", 10, 6, ["rights_and_entitlements", "how_to_complain"]),
        outreach("04", 2, 1, ["how_to_complain", "posko_schedule"]),
        outreach("06", 1, 2, ["how_to_appeal"]),
        {**outreach("04", 30, 30, ["training_offers"]), "kind": "focus_group"},
    ):
        reply = await client.post("/meetings", json=body, headers=YUSUF)
        assert reply.status_code == 201, reply.text
    assert reply.json()["topic_codes"] == ["training_offers"]
    for _ in range(5):
        filed = await client.post(
            "/complaints",
            json={"category": "distribution", "description": "Beras kurang dari 10 kg", "rw": "04"},
        )
        assert filed.status_code == 201
    unlisted = await client.post("/meetings", json=outreach("04", 3, 3, ["gossip"]), headers=YUSUF)
    assert unlisted.status_code == 422

    reach = await client.get("/meetings/reach", headers=MANAGER)
    assert reach.status_code == 200, reach.text
    assert "how_to_appeal" in reach.json()["topic_codes"]
    per_rw = {r["rw"]: r for r in reach.json()["per_rw"]}
    assert per_rw["04"]["outreach_meetings"] == 2  # the focus group is not outreach
    assert per_rw["04"]["reached"] == 19
    assert per_rw["04"]["by_topic"] == {
        "how_to_complain": 19,
        "posko_schedule": "<5",
        "rights_and_entitlements": 16,
    }
    assert per_rw["04"]["complaints"] == 5
    assert per_rw["06"]["reached"] == "<5" and per_rw["06"]["complaints"] == "<5"
    # The list of meetings still shows the free-text topics to staff.
    listed = (await client.get("/meetings?rw=06", headers=AUDITOR)).json()
    assert listed[0]["topics"] and listed[0]["topic_codes"] == ["how_to_appeal"]
