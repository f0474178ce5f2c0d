"""Demo data for community: complaints in every state, feedback on the demo rounds and
courses, outreach and focus-group meetings with their follow-ups, and an appeal.

The demo enters complaints and ratings as a facilitator would from the paper forms of a
posko (staff are not rate-limited); residents use the same endpoints without a token."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import httpx

from services.community.demo_verification import seed_verifications
from shared import clock
from shared.auth import Role
from shared.demo import DemoContext, DemoError, ok

COMPLAINTS = [
    ("exclusion_error", "Keluarga kami lansia dan tidak bekerja, tetapi tidak terdaftar."),
    ("inclusion_error", "Tetangga yang punya mobil dan warung besar ikut menerima BLT."),
    ("distribution", "Beras sembako yang diterima berkutu dan kurang dari 10 kg."),
    ("distribution", "Antrean di posko terlalu lama, lansia menunggu lebih dari tiga jam."),
    ("officer_conduct", "Ada permintaan uang 'administrasi' sebelum bantuan diberikan."),
    ("training", "Pelatihan digital penuh, kami di daftar tunggu tanpa kabar."),
    ("other", "Mohon informasi jadwal pembagian berikutnya diumumkan di masjid."),
]
TOPICS = [
    "Jadwal dan lokasi pembagian bantuan",
    "Syarat dan cara mendaftar DTKS",
    "Cara menyampaikan pengaduan tanpa nama",
    "Pelatihan usaha mikro untuk ibu rumah tangga",
]
# What facilitators write in the demo's mentoring cases (kept in the service only).
CASE_NOTES = {
    "opened": "Lansia tinggal sendiri, sering sakit",
    "visit": "Batuk lebih dari dua minggu",
    "answer": "Dijadwalkan periksa minggu ini",
}
# What an outreach session covered, from the fixed list (meeting_held version 2).
TOPIC_CODES = [
    ["posko_schedule", "rights_and_entitlements"],
    ["eligibility_rules", "how_to_complain", "how_to_appeal"],
    ["training_offers", "how_to_complain"],
]
ASPIRATIONS = [
    "Posko lebih dekat untuk lansia dan penyandang disabilitas",
    "Pengumuman penerima ditempel di balai warga",
    "Pelatihan di sore hari agar pekerja bisa ikut",
]


async def seed(ctx: DemoContext) -> None:
    """Complaints in every state, feedback on the rounds and courses the earlier seeders
    made (`made["rounds"]`, `made["courses"]`), meetings; sets `made["community"]`."""
    subjects = [("round", str(r["round_id"])) for r in ctx.made.get("rounds", [])]
    subjects += [("course", str(c["course_id"])) for c in ctx.made.get("courses", [])]
    with ctx.status("community: complaints, feedback, meetings ..."):
        async with ctx.client("community", Role.community_facilitator, timeout=60) as client:
            done = await _seed(client, ctx.settings.rw_list, subjects, ctx.rng)
    ctx.made["community"] = done
    ctx.report(
        f"{len(done['tickets'])} complaints (tickets e.g. {done['tickets'][0]}), "
        f"{done['ratings']} ratings, {done['meetings']} meetings"
    )
    await seed_cases(ctx)
    await seed_appeal(ctx)
    await seed_verifications(ctx)


# --- appeals (issue 15) --------------------------------------------------------------------
APPEAL_WORDS = "Suami sakit sejak bulan lalu, penghasilan keluarga turun jauh."


async def seed_appeal(ctx: DemoContext) -> None:
    """One appeal a month, by the head of a household the registry refused, filed at the
    public form as a resident would; the registry puts its re-survey on the operators' work
    list. A re-run in the same month finds this month's appeal and files none."""
    if "registry" not in ctx.urls:
        return
    month = f"{clock.today():%Y-%m}"
    async with ctx.client("community", Role.community_facilitator) as facilitator:
        listed = ok(await facilitator.get("/appeals", params={"limit": 200}))["items"]
    if any(a["filed_at"].startswith(month) for a in listed):
        ctx.report("appeals: this month's demo appeal is already filed")
        return
    async with ctx.client("registry", Role.registry_operator) as registry:
        params = {"eligible": "false", "status": "active", "limit": "1"}
        found = ok(await registry.get("/households", params=params))["items"]
        if not found:
            return
        household = ok(await registry.get(f"/households/{found[0]['household_id']}"))
    head = next(m for m in household["members"] if m["relationship"] == "head")
    body = {
        "head_nik": head["nik"],
        "reason": "wrongly_refused",
        "rw": household["rw"],
        "description": APPEAL_WORDS,
    }
    async with httpx.AsyncClient(base_url=ctx.urls["community"], timeout=30) as public:
        filed = ok(await public.post("/appeals", json=body))
    ctx.made["appeal"] = filed["tracking_code"]
    ctx.report(f"1 appeal of a refused household in RW {household['rw']} ({filed['track']})")


async def _seed(
    facilitator: httpx.AsyncClient,
    rws: list[str],
    subjects: list[tuple[str, str]],
    rng: random.Random,
) -> dict[str, Any]:
    """`subjects`: (subject_type, id) of rounds and courses to give feedback on."""
    tickets = [await _complaint(facilitator, rng, rws) for _ in range(12)]
    listing = ok(await facilitator.get("/complaints", params={"limit": 200}))["items"]
    for i, item in enumerate(listing[-len(tickets) :]):
        await _handle(facilitator, item["complaint_id"], i % 4, rng)
    ratings = 0
    for subject_type, subject_id in subjects:
        for _ in range(rng.randint(3, 6)):
            await _feedback(facilitator, subject_type, subject_id, rng, rws)
            ratings += 1
    for i in range(6):
        meeting = ok(await facilitator.post("/meetings", json=_meeting(i, rng, rws)))
        if i % 3 != 2:
            status = "done" if i % 3 == 0 else "in_progress"
            ok(
                await facilitator.post(
                    f"/meetings/{meeting['meeting_id']}/follow-ups/0", json={"status": status}
                )
            )
    stats = ok(await facilitator.get("/complaints/stats"))
    return {"tickets": tickets, "ratings": ratings, "meetings": 6, "stats": stats}


def _meeting(i: int, rng: random.Random, rws: list[str]) -> dict[str, Any]:
    outreach = i % 2 == 0
    return {
        "topic_codes": TOPIC_CODES[(i // 2) % len(TOPIC_CODES)] if outreach else [],
        "kind": "outreach" if outreach else "focus_group",
        "held_on": str(clock.today() - timedelta(days=3 * i + 1)),
        "rw": rws[i % len(rws)],
        "attendance": {
            "female": rng.randint(10, 30),
            "male": rng.randint(5, 20),
            "elderly": rng.randint(1, 6),
            "disabled": rng.randint(0, 3),
            "youth": rng.randint(0, 8),
        },
        "topics": rng.sample(TOPICS, 2),
        "aspirations": rng.sample(ASPIRATIONS, rng.randint(1, 2)),
        "follow_ups": [{"action": "Sampaikan aspirasi ke kelurahan"}],
    }


async def _complaint(client: httpx.AsyncClient, rng: random.Random, rws: list[str]) -> str:
    category, text = rng.choice(COMPLAINTS)
    body: dict[str, Any] = {"category": category, "description": text, "rw": rng.choice(rws)}
    if rng.random() < 0.3:
        body["anonymous"] = False
        body["contact"] = {"name": "Warga", "phone": f"08{rng.randint(10**9, 10**10 - 1)}"}
    return str(ok(await client.post("/complaints", json=body))["ticket_code"])


async def _handle(
    client: httpx.AsyncClient, complaint_id: str, stage: int, rng: random.Random
) -> None:
    """0: left filed, 1: acknowledged, 2: escalated, 3: resolved."""
    path = f"/complaints/{complaint_id}"
    if stage >= 1:
        ok(await client.post(f"{path}/acknowledgement", json={"note": "Diterima, sedang dicek."}))
    if stage >= 2:
        to = rng.choice(["programme_manager", "inspectorate"])
        ok(
            await client.post(
                f"{path}/escalation", json={"to": to, "reason": "Perlu tindak lanjut"}
            )
        )
    if stage >= 3:
        ok(
            await client.post(
                f"{path}/resolution",
                json={
                    "outcome": rng.choice(["upheld", "partly_upheld", "not_upheld"]),
                    "resolution": "Sudah ditindaklanjuti bersama RT/RW dan petugas.",
                },
            )
        )


async def _feedback(
    client: httpx.AsyncClient,
    subject_type: str,
    subject_id: str,
    rng: random.Random,
    rws: list[str],
    within: float = 30,
) -> None:
    """Community learns rounds and courses from the bus: retry until it has this one."""
    body = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "rating": rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 6, 4])[0],
        "rw": rng.choice(rws),
    }
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        reply = await client.post("/feedback", json=body)
        if reply.status_code != 422 or reply.json().get("error") != "subject_unknown":
            ok(reply)
            return
        await asyncio.sleep(0.2)
    raise DemoError(f"community did not learn {subject_type} {subject_id} within {within} s")


# --- mentoring cases -----------------------------------------------------------------------
async def seed_cases(ctx: DemoContext) -> None:
    """A few mentoring cases over the registry's demo households (`made["households"]`):
    one with a visit planned and missed (overdue), one referred to the puskesmas and
    answered, a trainee's business follow-up, closed, and one after a complaint, referred
    and waiting. Once a month: a re-run that finds this month's cases adds none."""
    households = [h for h in ctx.made.get("households", []) if h.get("members")]
    if len(households) < 4:
        ctx.report("mentoring cases: no demo households to accompany, none opened")
        return
    with ctx.status("community: mentoring cases ..."):
        async with ctx.client("community", Role.community_facilitator, timeout=60) as client:
            opened = await _seed_cases(client, ctx.rng.sample(households, 4))
    if opened:
        ctx.report(f"{opened} mentoring cases (one visit overdue, referrals to the offices)")
    else:
        ctx.report("mentoring cases: this month's are there already")


async def _seed_cases(client: httpx.AsyncClient, households: list[dict[str, Any]]) -> int:
    today = clock.today()
    mine = ok(await client.get("/cases", params={"limit": 200}))["items"]
    if any(c["opened_on"][:7] == today.isoformat()[:7] for c in mine):
        return 0
    missed, referred, trainee, complained = households
    on_paper = today - timedelta(days=10)  # entered from the posko's paper register

    async def open_case(household: dict[str, Any], **body: Any) -> str:
        body |= {"household_id": household["household_id"], "rw": household["rw"]}
        return str(ok(await client.post("/cases", json=body))["case_id"])

    cid = await open_case(missed, reason="after_aid", opened_on=str(on_paper))
    ok(
        await client.post(
            f"/cases/{cid}/visits/plan", json={"planned_on": str(today - timedelta(days=3))}
        )
    )

    cid = await open_case(
        referred,
        reason="vulnerable_member",
        opened_on=str(on_paper),
        note=CASE_NOTES["opened"],
    )
    ok(
        await client.post(
            f"/cases/{cid}/visits",
            json={
                "visited_on": str(today - timedelta(days=8)),
                "kind": "home",
                "findings": ["health_problem", "elderly_alone"],
                "needs": ["health_care"],
                "next_steps": ["refer_to_office", "visit_again"],
                "note": CASE_NOTES["visit"],
            },
        )
    )
    ok(await client.post(f"/cases/{cid}/referrals", json={"office": "puskesmas"}))
    ok(
        await client.post(
            f"/cases/{cid}/referrals/0/answer",
            json={
                "answer": "accepted",
                "note": CASE_NOTES["answer"],
            },
        )
    )
    ok(
        await client.post(
            f"/cases/{cid}/visits/plan", json={"planned_on": str(today + timedelta(days=7))}
        )
    )

    member = trainee["members"][0]["member_id"]
    cid = await open_case(trainee, subject="trainee", reason="after_training", member_id=member)
    ok(
        await client.post(
            f"/cases/{cid}/visits",
            json={
                "visited_on": str(today),
                "kind": "business_follow_up",
                "business_running": True,
                "income_band": "500k_to_1m",
                "findings": ["income_unstable"],
                "needs": ["business_capital"],
                "next_steps": ["phone_again"],
            },
        )
    )
    ok(await client.post(f"/cases/{cid}/closure", json={"outcome": "improved"}))

    complaint = ok(await client.get("/complaints", params={"limit": 1}))["items"]
    if complaint:
        cid = await open_case(
            complained, reason="complaint", complaint_id=complaint[0]["complaint_id"]
        )
        ok(await client.post(f"/cases/{cid}/referrals", json={"office": "dinas_sosial"}))
        return 4
    return 3
