"""Demo data for training: a course of each category over the demo households — two run
(attendance, completions, a withdrawal, outcomes three months on), one still to start with
its waiting list. Trainers' names and the coordinator's notes are typed as in the field:
they stay in the training service (the events carry no trainer and only commitments of the
notes)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from shared import clock
from shared.auth import Role
from shared.clock import add_months
from shared.demo import DemoContext, known, ok
from shared.errors import HOUSEHOLD_INACTIVE, HOUSEHOLD_UNKNOWN


@dataclass(frozen=True)
class CourseSpec:
    category: str
    title: str
    trainer: str
    place: str
    weeks_ago: int  # of the first of four weekly sessions
    capacity: int


COURSES = [
    CourseSpec(
        "handicraft",
        "Kerajinan anyaman bambu dan eceng gondok",
        "Pak Slamet (pengrajin Setu Babakan)",
        "Aula RW 02",
        weeks_ago=17,  # ended 14 weeks ago: its 3-month follow-ups are due
        capacity=20,
    ),
    CourseSpec(
        "digital_skills",
        "Jualan daring: foto produk, WhatsApp Business dan marketplace",
        "Mbak Rina (relawan TIK)",
        "Ruang komputer Kelurahan Tanjung Barat",
        weeks_ago=4,
        capacity=15,
    ),
    CourseSpec(
        "micro_business",
        "Usaha mikro: pembukuan sederhana dan akses modal",
        "Ibu Lestari (PLUT Jakarta Selatan)",
        "Balai warga RW 07",
        weeks_ago=-1,  # starts next week: enrolments and a waiting list only
        capacity=12,
    ),
]

WITHDRAWAL_NOTES = {
    "work": "Diterima kerja shift pagi, jadwal bentrok",
    "health": "Sakit, dirawat beberapa minggu",
    "family": "Mengurus orang tua yang sakit",
}
OUTCOME_NOTES = {
    "none": "Belum memulai usaha",
    "planning": "Sedang menabung untuk modal awal",
    "started": "Mulai jual dari rumah",
    "running": "Usaha berjalan, pelanggan tetap dari tetangga",
}


async def seed(ctx: DemoContext) -> None:
    """Run the three courses over the registry's demo households (`made["courses"]`: each
    course's counters, as GET /courses/{id} answers them)."""
    households: list[dict[str, Any]] = ctx.made.get("households", [])
    with ctx.status("courses: enrolment, attendance, completion, outcomes ..."):
        async with ctx.client("training", Role.training_coordinator, timeout=60) as client:
            courses = await run_courses(client, households, ctx.rng)
    ctx.made["courses"] = courses
    for c in courses:
        ctx.report(
            f"{c['category']} course {c['course_id']}: {c['seated']} seated, "
            f"{c['waitlisted']} waiting, {c['completed']} completed"
        )


async def run_courses(
    client: httpx.AsyncClient, households: list[dict[str, Any]], rng: random.Random
) -> list[dict[str, Any]]:
    """Open and run the three courses; returns each course's counters."""
    members = [
        (h["household_id"], m["nik"])
        for h in households
        for m in h["members"]
        if clock.today().year - int(m["birth_date"][:4]) >= 17  # adults train
    ]
    rng.shuffle(members)
    results = []
    if households:
        await known(client, households[-1]["household_id"])
    for spec in COURSES:
        first = clock.today() - timedelta(weeks=spec.weeks_ago)
        course = ok(
            await client.post(
                "/courses",
                json={
                    "category": spec.category,
                    "title": spec.title,
                    "trainer": spec.trainer,
                    "sessions": [
                        {"on": str(first + timedelta(weeks=w)), "place": spec.place}
                        for w in range(4)
                    ],
                    "capacity": spec.capacity,
                },
            )
        )
        wanted = min(len(members), spec.capacity + 4)  # a few more than the seats
        applicants = [members.pop() for _ in range(wanted)]
        await _run_course(client, course, applicants, rng)
        results.append(ok(await client.get(f"/courses/{course['course_id']}")))
    return results


async def _run_course(
    client: httpx.AsyncClient,
    course: dict[str, Any],
    applicants: list[tuple[str, str]],
    rng: random.Random,
) -> None:
    cid = course["course_id"]
    seats: list[str] = []
    for household_id, nik in applicants:
        reply = await client.post(
            f"/courses/{cid}/enrolments", json={"household_id": household_id, "member_nik": nik}
        )
        if reply.is_error and reply.json()["error"] in (HOUSEHOLD_INACTIVE, HOUSEHOLD_UNKNOWN):
            continue  # a household deactivated in the demo
        enrolment = ok(reply)
        if enrolment["status"] == "enrolled":
            seats.append(enrolment["enrolment_id"])
    if seats and rng.random() < 0.9:
        reason = rng.choice(list(WITHDRAWAL_NOTES))
        ok(
            await client.post(
                f"/courses/{cid}/enrolments/{seats.pop()}/withdrawal",
                json={"reason": reason, "note": WITHDRAWAL_NOTES[reason]},
            )
        )
    held = [s for s in course["sessions"] if s["on"] <= str(clock.today())]
    if not held:
        return
    seats = [t["enrolment_id"] for t in ok(await client.get(f"/courses/{cid}/roster"))["trainees"]]
    if not seats:
        return  # a small demo (or a re-run) seated no one here: no session to record
    keen = {e: rng.random() < 0.8 for e in seats}  # most attend nearly every session
    for session in held:
        present = [e for e in seats if rng.random() < (0.95 if keen[e] else 0.5)]
        absent = [e for e in seats if e not in present]
        ok(
            await client.post(
                f"/courses/{cid}/sessions/{session['session_id']}/attendance",
                json={"present": present, "absent": absent},
            )
        )
    if len(held) < len(course["sessions"]):
        return
    # A 3-month follow-up is recorded once three months have passed since the last session.
    followed_up = add_months(date.fromisoformat(held[-1]["on"]), 3) <= clock.today()
    for enrolment_id in seats:
        reply = await client.post(f"/courses/{cid}/enrolments/{enrolment_id}/completion")
        if reply.status_code == 422:  # attendance too low: no certificate
            continue
        ok(reply)
        if followed_up and rng.random() < 0.4:
            status = rng.choice(["none", "planning", "started", "running", "running"])
            ok(
                await client.post(
                    f"/courses/{cid}/enrolments/{enrolment_id}/outcomes",
                    json={
                        "months_after": 3,
                        "monthly_income_idr": rng.randrange(800_000, 3_500_000, 50_000),
                        "business_status": status,
                        "employed": rng.random() < 0.2,
                        "note": OUTCOME_NOTES[status],
                    },
                )
            )
