"""Training over HTTP, with the registry beside it on one real nats-server: only members of
households the registry announced enrol, eligible households first on a waiting list; the
trainer's name and staff notes stay in training (salted commitments on the bus)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from services.registry.service import SERVICE as REGISTRY
from services.registry.settings import RegistrySettings
from services.training import private, projections
from services.training.service import SERVICE as TRAINING
from services.training.settings import TrainingSettings
from shared import eventstore
from shared.auth import Role
from shared.clock import add_months
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events.training import OutcomeRecorded, TraineeWithdrawn
from shared.pii import commitments
from shared.runtime import Runtime
from tests.helpers import (
    NatsServer,
    bearer,
    decided_household,
    eventually,
    serve_app,
    stream_holds,
)

COORDINATOR = bearer(Role.training_coordinator, "coordinator.rina")
AUDITOR = bearer(Role.auditor, "inspektorat.hasan")
TODAY = wib_today()


@dataclass
class System:
    registry: httpx.AsyncClient
    training: httpx.AsyncClient
    rng: random.Random
    runtime: Runtime  # training's
    nats_url: str

    async def household(self, rw: str = "02", *, eligible: bool = True) -> dict[str, Any]:
        return await decided_household(
            self.registry, self.training, COORDINATOR, self.rng, rw, eligible=eligible
        )


@pytest.fixture
async def system(two_databases: list[str], nats_server: NatsServer) -> AsyncIterator[System]:
    registry = REGISTRY.app(
        RegistrySettings(database_url=two_databases[0], nats_url=nats_server.url)
    )
    training = TRAINING.app(
        TrainingSettings(database_url=two_databases[1], nats_url=nats_server.url)
    )
    async with serve_app(registry) as reg, serve_app(training) as tr:
        yield System(reg, tr, random.Random(5), training.state.runtime, nats_server.url)


TRAINER = "Ibu Lestari (PLUT Jakarta Selatan)"


async def course(
    system: System, capacity: int = 20, sessions: int = 4, ended: date = TODAY
) -> dict[str, Any]:
    """A course of weekly `sessions`, the last one on `ended`."""
    reply = await system.training.post(
        "/courses",
        json={
            "category": "micro_business",
            "title": "Usaha mikro: pembukuan sederhana dan pemasaran daring",
            "trainer": TRAINER,
            "sessions": [
                {"on": str(ended - timedelta(days=7 * (sessions - 1 - i))), "place": "Aula RW 02"}
                for i in range(sessions)
            ],
            "capacity": capacity,
        },
        headers=COORDINATOR,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["trainer"] == TRAINER
    return reply.json()  # type: ignore[no-any-return]


async def enrol(
    system: System, course_id: str, home: dict[str, Any], nik: str | None = None
) -> Any:
    return await system.training.post(
        f"/courses/{course_id}/enrolments",
        json={"household_id": home["household_id"], "member_nik": nik or home["head_nik"]},
        headers=COORDINATOR,
    )


async def test_a_course_from_enrolment_to_certificate_and_outcome(system: System) -> None:
    t = system.training
    # Recorded from the paper registers: the course ended four months ago.
    c = await course(system, sessions=4, ended=TODAY - timedelta(days=122))
    cid, sessions = c["course_id"], [s["session_id"] for s in c["sessions"]]
    assert c["completion_threshold_pct"] == 75
    keen, casual = await system.household(), await system.household()

    first = await enrol(system, cid, keen)
    assert first.status_code == 201 and first.json()["status"] == "enrolled"
    again = await enrol(system, cid, keen)
    assert again.status_code == 409 and again.json()["error"] == "already_enrolled"
    stranger = await enrol(system, cid, keen, nik=casual["head_nik"])
    assert stranger.status_code == 422 and stranger.json()["error"] == "not_a_member"
    second = await enrol(system, cid, casual)
    e1, e2 = first.json()["enrolment_id"], second.json()["enrolment_id"]

    for i, sid in enumerate(sessions):
        present, absent = ([e1, e2], []) if i < 2 else ([e1], [e2])
        reply = await t.post(
            f"/courses/{cid}/sessions/{sid}/attendance",
            json={"present": present, "absent": absent},
            headers=COORDINATOR,
        )
        assert reply.status_code == 200, reply.text
    unknown_session = await t.post(
        f"/courses/{cid}/sessions/{cid}/attendance", json={"present": [e1]}, headers=COORDINATOR
    )
    assert unknown_session.status_code == 404
    assert unknown_session.json()["error"] == "session_not_found"

    low = await t.post(f"/courses/{cid}/enrolments/{e2}/completion", headers=COORDINATOR)
    assert low.status_code == 422 and low.json()["error"] == "attendance_too_low"
    assert "50 %" in low.json()["message"]
    done = await t.post(f"/courses/{cid}/enrolments/{e1}/completion", headers=COORDINATOR)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["attendance_pct"] == 100
    assert done.json()["certificate_number"].startswith("TB-UMK-")

    outcome = {"months_after": 3, "monthly_income_idr": 2_400_000, "business_status": "running"}
    recorded = await t.post(
        f"/courses/{cid}/enrolments/{e1}/outcomes", json=outcome, headers=COORDINATOR
    )
    assert recorded.status_code == 201, recorded.text
    twice = await t.post(
        f"/courses/{cid}/enrolments/{e1}/outcomes", json=outcome, headers=COORDINATOR
    )
    assert twice.status_code == 409 and twice.json()["error"] == "outcome_recorded"
    early = await t.post(
        f"/courses/{cid}/enrolments/{e1}/outcomes",
        json={**outcome, "months_after": 6},
        headers=COORDINATOR,
    )
    assert early.status_code == 422 and early.json()["error"] == "follow_up_too_early"
    assert early.json()["details"][0]["field"] == "months_after"
    not_done = await t.post(
        f"/courses/{cid}/enrolments/{e2}/outcomes", json=outcome, headers=COORDINATOR
    )
    assert not_done.json()["error"] == "not_completed"

    history = (await t.get(f"/households/{keen['household_id']}/training", headers=AUDITOR)).json()
    assert [(h["status"], len(h["outcomes"])) for h in history] == [("completed", 1)]
    report = (await t.get("/reports/outcomes", headers=AUDITOR)).json()
    business = report["per_category"]["micro_business"]
    assert (business["enrolled"], business["completed"], business["in_business"]) == (2, 1, 1)
    assert business["completion_rate"] == 0.5 and business["avg_income_idr"] == 2_400_000
    assert report["per_rw"]["02"]["completed"] == 1


async def test_a_full_course_waitlists_eligible_households_first(system: System) -> None:
    t = system.training
    cid = (await course(system, capacity=2))["course_id"]
    seated = [await system.household() for _ in range(2)]
    for home in seated:
        assert (await enrol(system, cid, home)).json()["status"] == "enrolled"
    not_eligible = await system.household(eligible=False)
    eligible = await system.household()
    late = (await enrol(system, cid, not_eligible)).json()
    early = (await enrol(system, cid, eligible)).json()
    assert (late["status"], early["status"]) == ("waitlisted", "waitlisted")
    assert (late["waitlist_position"], early["waitlist_position"]) == (1, 1)  # then
    queue = (await t.get(f"/courses/{cid}/roster", headers=COORDINATOR)).json()["waiting_list"]
    assert all(q["rw"] == "02" and q["rt"] and "head_nik_masked" not in q for q in queue)
    assert [(q["enrolment_id"], q["waitlist_position"]) for q in queue] == [
        (early["enrolment_id"], 1),  # an eligible household goes first
        (late["enrolment_id"], 2),
    ]

    seat = (await t.get(f"/courses/{cid}/roster", headers=COORDINATOR)).json()["trainees"][0]
    withdrawn = await t.post(
        f"/courses/{cid}/enrolments/{seat['enrolment_id']}/withdrawal",
        json={"reason": "work", "note": "dapat pekerjaan di pabrik"},
        headers=COORDINATOR,
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawal_note"] == "dapat pekerjaan di pabrik"
    roster = (await t.get(f"/courses/{cid}/roster", headers=COORDINATOR)).json()
    assert early["enrolment_id"] in {r["enrolment_id"] for r in roster["trainees"]}
    assert [r["enrolment_id"] for r in roster["waiting_list"]] == [late["enrolment_id"]]
    first_session = (await t.get(f"/courses/{cid}", headers=AUDITOR)).json()["sessions"][0]
    waiting = await t.post(
        f"/courses/{cid}/sessions/{first_session['session_id']}/attendance",
        json={"present": [late["enrolment_id"]]},
        headers=COORDINATOR,
    )
    assert waiting.status_code == 422 and waiting.json()["error"] == "not_enrolled"
    assert waiting.json()["details"][0]["field"] == "present.0"


async def test_concurrent_enrolments_never_exceed_the_capacity(system: System) -> None:
    cid = (await course(system, capacity=5))["course_id"]
    homes = [await system.household(rw) for rw in ("01", "02", "03") * 4]
    replies = await asyncio.gather(*(enrol(system, cid, h) for h in homes))
    assert [r.text for r in replies if r.status_code != 201] == []
    statuses = sorted(r.json()["status"] for r in replies)
    assert statuses == ["enrolled"] * 5 + ["waitlisted"] * 7
    got = (await system.training.get(f"/courses/{cid}", headers=AUDITOR)).json()
    assert (got["seated"], got["waitlisted"]) == (5, 7)


async def test_only_members_of_active_households_enrol(system: System) -> None:
    cid = (await course(system))["course_id"]
    unknown = await system.training.post(
        f"/courses/{cid}/enrolments",
        json={
            "household_id": "00000000-0000-4000-8000-000000000000",
            "member_nik": "3174091203650001",
        },
        headers=COORDINATOR,
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "household_unknown"
    home = await system.household()
    operator = bearer(Role.registry_operator, "operator.tests")
    gone = await system.registry.post(
        f"/households/{home['household_id']}/deactivation",
        json={"reason": "moved"},
        headers=operator,
    )
    assert gone.status_code == 200

    async def refused() -> bool:
        return (await enrol(system, cid, home)).json().get("error") == "household_inactive"

    await eventually(refused)


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"capacity": 0}, "capacity", "greater_than_equal"),
        ({"category": "cooking"}, "category", "literal_error"),
        ({"sessions": []}, "sessions", "too_short"),
        ({"completion_threshold_pct": 120}, "completion_threshold_pct", "less_than_equal"),
    ],
)
async def test_bad_courses_name_the_field_and_the_rule(
    system: System, body: dict[str, Any], field: str, rule: str
) -> None:
    valid = {
        "category": "handicraft",
        "title": "Kerajinan anyaman bambu",
        "trainer": "Pak Slamet",
        "sessions": [{"on": str(TODAY), "place": "Balai warga RW 05"}],
        "capacity": 15,
    }
    reply = await system.training.post("/courses", json={**valid, **body}, headers=COORDINATOR)
    assert reply.status_code == 422
    [detail] = reply.json()["details"]
    assert (detail["field"], detail["rule"]) == (field, rule)


async def test_completion_and_follow_ups_wait_for_their_day(system: System) -> None:
    t = system.training
    running = await course(system, sessions=2, ended=TODAY + timedelta(days=7))
    ended = await course(system, sessions=2, ended=TODAY)
    home = await system.household()
    for c in (running, ended):
        eid = (await enrol(system, c["course_id"], home)).json()["enrolment_id"]
        first = c["sessions"][0]["session_id"]
        path = f"/courses/{c['course_id']}"
        await t.post(
            f"{path}/sessions/{first}/attendance", json={"present": [eid]}, headers=COORDINATOR
        )
        if c is ended:
            last = c["sessions"][1]["session_id"]
            await t.post(
                f"{path}/sessions/{last}/attendance", json={"present": [eid]}, headers=COORDINATOR
            )
        done = await t.post(f"{path}/enrolments/{eid}/completion", headers=COORDINATOR)
        if c is running:
            assert done.status_code == 422, done.text
            assert done.json()["error"] == "course_not_finished"
            assert c["sessions"][1]["on"] in done.json()["message"]
            continue
        assert done.status_code == 200, done.text
        outcome = await t.post(
            f"{path}/enrolments/{eid}/outcomes",
            json={"months_after": 3, "monthly_income_idr": 900_000, "business_status": "started"},
            headers=COORDINATOR,
        )
        assert outcome.status_code == 422 and outcome.json()["error"] == "follow_up_too_early"
        assert str(add_months(TODAY, 3)) in outcome.json()["message"]


async def test_the_trainer_and_staff_notes_stay_in_training(system: System) -> None:
    t = system.training
    c = await course(system, capacity=3, sessions=1, ended=TODAY - timedelta(days=100))
    cid, [only] = c["course_id"], [s["session_id"] for s in c["sessions"]]
    homes = [await system.household() for _ in range(3)]
    graduate, leaver, another = [(await enrol(system, cid, h)).json() for h in homes]
    await t.post(
        f"/courses/{cid}/sessions/{only}/attendance",
        json={"present": [graduate["enrolment_id"]]},
        headers=COORDINATOR,
    )
    eid = graduate["enrolment_id"]
    await t.post(f"/courses/{cid}/enrolments/{eid}/completion", headers=COORDINATOR)
    follow_up = "buka warung kelontong di Gang Langgar"
    recorded = await t.post(
        f"/courses/{cid}/enrolments/{eid}/outcomes",
        json={
            "months_after": 3,
            "monthly_income_idr": 1_200_000,
            "business_status": "started",
            "note": follow_up,
        },
        headers=COORDINATOR,
    )
    assert recorded.status_code == 201, recorded.text
    same_words = "sakit, dirawat di RSUD Pasar Minggu"
    for e in (leaver, another):  # the same words twice
        reply = await t.post(
            f"/courses/{cid}/enrolments/{e['enrolment_id']}/withdrawal",
            json={"reason": "health", "note": same_words},
            headers=COORDINATOR,
        )
        assert reply.json()["withdrawal_note"] == same_words

    # Commitments on the bus, the words in training's store with the salts that open them.
    async def published() -> list[Any] | None:
        got = await stream_holds(system.nats_url, 1) or []
        ours = [m for m in got if m.subject.startswith("bansos.training.")]
        return got if len(ours) == 1 + 3 + 1 + 1 + 1 + 2 else None  # opened ... withdrawn x2

    messages = await eventually(published)
    on_bus = b"\n".join(m.data for m in messages).decode()
    for secret in (TRAINER, follow_up, same_words, "Lestari", "RSUD"):
        assert secret not in on_bus
    cm = commitments(system.runtime.settings)
    async with system.runtime.reads() as session:
        kept = {r.event_id: r for r in await session.execute(select(private.notes))}
        history = await eventstore.load(session, UUID(cid))
    noted = [e for e in history if isinstance(e.typed(), TraineeWithdrawn | OutcomeRecorded)]
    assert len(noted) == 3 and set(kept) == {e.event_id for e in noted}
    for envelope in noted:
        commitment = envelope.payload["note_commitment"]
        row = kept[envelope.event_id]
        assert cm.opens("text", row.body, row.salt, commitment)
        assert not cm.opens("text", row.body + ".", row.salt, commitment)
    withdrawals = [e.payload["note_commitment"] for e in noted if e.type.endswith("withdrawn")]
    assert len(set(withdrawals)) == 2  # the same words, unrelated commitments

    async def shown() -> tuple[Any, ...]:
        got = (await t.get(f"/courses/{cid}", headers=AUDITOR)).json()
        lives = [
            (await t.get(f"/households/{h['household_id']}/training", headers=AUDITOR)).json()[0]
            for h in homes
        ]
        return got["trainer"], [(h.get("withdrawal_note"), h["outcomes"]) for h in lives]

    before = await shown()
    assert before[0] == TRAINER
    assert before[1][0][1][0]["note"] == follow_up
    assert [w for w, _ in before[1][1:]] == [same_words, same_words]
    async with system.runtime.sessions() as session, session.begin():
        await projections.rebuild(session)
    assert await shown() == before  # the private store outlives a rebuild


async def test_enrolment_matches_the_nik_commitment_of_the_registry(system: System) -> None:
    home = await system.household()
    known = await system.training.get(f"/eligibility/{home['household_id']}", headers=AUDITOR)
    assert known.json()["member_count"] == len(home["niks"])
    cid = (await course(system))["course_id"]
    enrolled = (await enrol(system, cid, home)).json()
    expected = commitments(system.runtime.settings).nik(home["head_nik"])
    assert enrolled["member_commitment"] == expected  # under the NIK key, as the registry's
