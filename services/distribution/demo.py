"""Demo data for distribution: a BLT and a sembako round over the demo households, endorsed,
allocated, and mostly handed over (some households not at home, moved or refusing)."""

from __future__ import annotations

import asyncio
import hashlib
import random
from datetime import date, timedelta
from typing import Any

import httpx

from shared.demo import known, ok

SEMBAKO_PACKAGE = [
    {"name": "beras", "quantity": 10, "unit": "kg"},
    {"name": "minyak goreng", "quantity": 2, "unit": "liter"},
    {"name": "gula pasir", "quantity": 1, "unit": "kg"},
    {"name": "telur ayam", "quantity": 1, "unit": "kg"},
]
BENEFIT_IDR = {"BLT": 600_000, "SEMBAKO": 300_000}
KELURAHAN_HOUSEHOLDS = 2_000


async def seed(
    url: str,
    tokens: dict[str, str],
    officer_sub: str,
    households: list[dict[str, Any]],
    rws: list[str],
    rng: random.Random,
    concurrency: int = 8,
    registry: httpx.AsyncClient | None = None,
) -> list[dict[str, Any]]:
    """Run both rounds; returns their summaries. `tokens` maps role names to tokens; the
    officer token's subject is `officer_sub`. With `registry` (an operator's client), the
    households of earlier demo runs are handed their aid too."""
    heads = {
        h["household_id"]: next(m["nik"] for m in h["members"] if m["relationship"] == "head")
        for h in households
    }

    def client(role: str) -> httpx.AsyncClient:
        auth = {"Authorization": f"Bearer {tokens[role]}"}
        return httpx.AsyncClient(base_url=url, headers=auth, timeout=120)

    async with (
        client("programme_manager") as manager,
        client("community_facilitator") as facilitator,
        client("distribution_officer") as officer,
    ):
        if households:
            await known(manager, households[-1]["household_id"])
        period = f"{date.today():%Y-%m}"
        for programme, benefit in BENEFIT_IDR.items():
            budget = {
                "programme": programme,
                "period": period,
                # The kelurahan's budget for the month: room for every demo household so far.
                "amount_idr": benefit * KELURAHAN_HOUSEHOLDS,
                "benefit_idr": benefit,
                "package": SEMBAKO_PACKAGE if programme == "SEMBAKO" else [],
            }
            if not ok(await manager.post("/budgets", json=budget), "budget_exists"):
                # A demo run before this one budgeted the month: top it up.
                ok(
                    await manager.post(
                        f"/budgets/{programme}/{period}/top-ups",
                        json={"amount_idr": budget["amount_idr"]},
                    )
                )
        ok(
            await manager.post(
                f"/officers/{officer_sub}/certificates",
                json={
                    "certificate_number": f"SERT-BANSOS-{rng.randrange(10**6):06d}",
                    "certified_on": str(date.today() - timedelta(days=60)),
                    "expires_on": str(date.today() + timedelta(days=305)),
                },
            ),
            "certificate_recorded",
        )
        half = len(rws) // 2 or 1
        summaries = []
        for programme, covered in (("BLT", rws[:half]), ("SEMBAKO", rws[half:] or rws)):
            created = ok(
                await manager.post(
                    "/rounds",
                    json={
                        "programme": programme,
                        "period": period,
                        "poskos": [
                            {
                                "rw": rw,
                                "place": f"Posko RW {rw}, balai warga",
                                "on": str(date.today()),
                            }
                            for rw in covered
                        ],
                    },
                )
            )
            rid = created["round_id"]
            ok(
                await facilitator.post(
                    f"/rounds/{rid}/endorsement",
                    json={"note": f"jadwal disepakati dalam rembuk warga RW {', '.join(covered)}"},
                )
            )
            ok(await manager.post(f"/rounds/{rid}/allocations/bulk"), "budget_exceeded")
            receipts = await _hand_over(officer, registry, rid, heads, rng, concurrency)
            summary = ok(await manager.get(f"/rounds/{rid}/summary"))
            # The codes the officer handed to each recipient: the demo's residents hold them.
            summaries.append({**summary, "receipt_codes": receipts})
    return summaries


async def _hand_over(
    officer: httpx.AsyncClient,
    registry: httpx.AsyncClient | None,
    round_id: str,
    heads: dict[str, str],
    rng: random.Random,
    concurrency: int,
) -> list[str]:
    """85 % handed over, 10 % reported undelivered, the rest still pending; returns the
    receipt codes handed over."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = ok(await officer.get(f"/rounds/{round_id}/manifest", params=params))
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    gate = asyncio.Semaphore(concurrency)
    receipts: list[str] = []

    async def visit(item: dict[str, Any]) -> None:
        draw = rng.random()
        async with gate:
            if item["household_id"] not in heads and registry is not None:
                # A household of an earlier demo run: the officer reads the KTP, here the
                # registry (its personal data) stands in for it.
                reply = await registry.get(f"/households/{item['household_id']}")
                if reply.status_code == 200:
                    members = reply.json()["members"]
                    heads[item["household_id"]] = next(
                        m["nik"] for m in members if m["relationship"] == "head"
                    )
            if item["household_id"] not in heads:
                return  # no one to hand it to yet: pending
            if draw < 0.85:
                photo = f"{item['allocation_id']}-{rng.random()}".encode()
                handed = ok(
                    await officer.post(
                        f"/allocations/{item['allocation_id']}/receipt",
                        json={
                            "recipient_nik": heads[item["household_id"]],
                            "place": f"Posko RW {item['rw']}, balai warga",
                            "evidence_sha256": hashlib.sha256(photo).hexdigest(),
                            "gps": [
                                round(-6.31 + rng.uniform(-0.004, 0.004), 6),
                                round(106.836 + rng.uniform(-0.004, 0.004), 6),
                            ],
                        },
                    )
                )
                receipts.append(handed["receipt_code"])
            elif draw < 0.95:
                reason = rng.choice(["not_at_home", "not_at_home", "moved", "refused"])
                ok(
                    await officer.post(
                        f"/allocations/{item['allocation_id']}/undelivered",
                        json={"reason": reason, "note": "kunjungan petugas"},
                    )
                )

    await asyncio.gather(*(visit(i) for i in items))
    return receipts
