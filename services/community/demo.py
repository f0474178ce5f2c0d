"""Demo data for community: complaints in every state, feedback on the demo rounds and
courses, outreach and focus-group meetings with their follow-ups, and an appeal.

The demo enters complaints and ratings as a facilitator would from the paper forms of a
posko (staff are not rate-limited); residents use the same endpoints without a token."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from typing import Any

import httpx

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
    await seed_appeal(ctx)


# --- appeals (issue 15) --------------------------------------------------------------------
APPEAL_WORDS = "Suami sakit sejak bulan lalu, penghasilan keluarga turun jauh."


async def seed_appeal(ctx: DemoContext) -> None:
    """One appeal a month, by the head of a household the registry refused, filed at the
    public form as a resident would; the registry puts its re-survey on the operators' work
    list. A re-run in the same month finds this month's appeal and files none."""
    if "registry" not in ctx.urls:
        return
    month = f"{date.today():%Y-%m}"
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
    return {
        "kind": "outreach" if i % 2 == 0 else "focus_group",
        "held_on": str(date.today() - timedelta(days=3 * i + 1)),
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
