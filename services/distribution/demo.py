"""Demo data for distribution: a BLT and a sembako round over the demo households, endorsed,
allocated, and mostly handed over (some households not at home, moved or refusing)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from datetime import date, timedelta
from typing import Any

import httpx

from shared.auth import Role
from shared.demo import DEMO_SUBJECTS, DemoContext, known, ok

SEMBAKO_PACKAGE = [
    {"name": "beras", "quantity": 10, "unit": "kg"},
    {"name": "minyak goreng", "quantity": 2, "unit": "liter"},
    {"name": "gula pasir", "quantity": 1, "unit": "kg"},
    {"name": "telur ayam", "quantity": 1, "unit": "kg"},
]
BENEFIT_IDR = {"BLT": 600_000, "SEMBAKO": 300_000}
KELURAHAN_HOUSEHOLDS = 2_000
CONCURRENCY = 8


async def seed(ctx: DemoContext) -> None:
    """Budget the month, certify the demo's officer, and run both rounds over the
    households the registry's seeder made (`made["households"]`) and those of earlier demo
    runs; `made["rounds"]` = the rounds' summaries, each with the receipt codes handed out."""
    households: list[dict[str, Any]] = ctx.made.get("households", [])
    heads = {
        h["household_id"]: next(m["nik"] for m in h["members"] if m["relationship"] == "head")
        for h in households
    }
    with ctx.status("aid rounds: budgets, endorsement, allocation, hand-over ..."):
        async with (
            ctx.client("distribution", Role.programme_manager) as manager,
            ctx.client("distribution", Role.community_facilitator) as facilitator,
            ctx.client("distribution", Role.distribution_officer) as officer,
            contextlib.AsyncExitStack() as stack,
        ):
            # The households of earlier demo runs: the registry (its personal data) stands
            # in for the KTP the officer reads at the posko.
            registry = None
            if "registry" in ctx.urls:
                registry = await stack.enter_async_context(
                    ctx.client("registry", Role.registry_operator, timeout=60)
                )
            if households:
                await known(manager, households[-1]["household_id"])
            period = f"{date.today():%Y-%m}"
            await _budget(manager, period)
            await _certify(manager, DEMO_SUBJECTS[Role.distribution_officer], ctx.rng)
            rws = ctx.settings.rw_list
            half = len(rws) // 2 or 1
            summaries = []
            for programme, covered in (("BLT", rws[:half]), ("SEMBAKO", rws[half:] or rws)):
                rid = await _round(manager, facilitator, programme, period, covered)
                ok(await manager.post(f"/rounds/{rid}/allocations/bulk"), "budget_exceeded")
                receipts = await _hand_over(officer, registry, rid, heads, ctx.rng)
                summary = ok(await manager.get(f"/rounds/{rid}/summary"))
                # The codes the officer handed to each recipient: the demo's residents hold them.
                summaries.append({**summary, "receipt_codes": receipts})
    ctx.made["rounds"] = summaries
    for s in summaries:
        ctx.report(
            f"{s['programme']} round {s['round_id']}: {s['allocated']} allocated, "
            f"{s['received']} handed over, {s['undelivered']} undelivered, "
            f"{s['pending']} pending"
        )
    codes = [c for s in summaries for c in s["receipt_codes"]]
    if codes:
        ctx.report(
            f"receipt codes handed to recipients, e.g. [bold]{codes[0]}[/bold] "
            "(a resident checks their aid with it)"
        )


async def _budget(manager: httpx.AsyncClient, period: str) -> None:
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


async def _certify(manager: httpx.AsyncClient, officer_sub: str, rng: random.Random) -> None:
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


async def _round(
    manager: httpx.AsyncClient,
    facilitator: httpx.AsyncClient,
    programme: str,
    period: str,
    rws: list[str],
) -> str:
    """A round over `rws`, its poskos open today, endorsed by the community."""
    created = ok(
        await manager.post(
            "/rounds",
            json={
                "programme": programme,
                "period": period,
                "poskos": [
                    {"rw": rw, "place": f"Posko RW {rw}, balai warga", "on": str(date.today())}
                    for rw in rws
                ],
            },
        )
    )
    rid = str(created["round_id"])
    ok(
        await facilitator.post(
            f"/rounds/{rid}/endorsement",
            json={"note": f"jadwal disepakati dalam rembuk warga RW {', '.join(rws)}"},
        )
    )
    return rid


async def _manifest(officer: httpx.AsyncClient, round_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = ok(await officer.get(f"/rounds/{round_id}/manifest", params=params))
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


async def _hand_over(
    officer: httpx.AsyncClient,
    registry: httpx.AsyncClient | None,
    round_id: str,
    heads: dict[str, str],
    rng: random.Random,
) -> list[str]:
    """85 % handed over, 10 % reported undelivered, the rest still pending; returns the
    receipt codes handed over."""
    gate = asyncio.Semaphore(CONCURRENCY)
    receipts: list[str] = []

    async def visit(item: dict[str, Any]) -> None:
        draw = rng.random()
        household = item["household_id"]
        async with gate:
            if household not in heads and registry is not None:
                reply = await registry.get(f"/households/{household}")
                if reply.status_code == 200:
                    members = reply.json()["members"]
                    heads[household] = next(
                        m["nik"] for m in members if m["relationship"] == "head"
                    )
            if household not in heads:
                return  # no one to hand it to yet: pending
            if draw < 0.85:
                photo = f"{item['allocation_id']}-{rng.random()}".encode()
                handed = ok(
                    await officer.post(
                        f"/allocations/{item['allocation_id']}/receipt",
                        json={
                            "recipient_nik": heads[household],
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

    await asyncio.gather(*(visit(i) for i in await _manifest(officer, round_id)))
    return receipts
