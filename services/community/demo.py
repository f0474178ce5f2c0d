"""Demo data for community: complaints in every state, feedback on the demo rounds and
courses, and outreach and focus-group meetings with their follow-ups.

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
