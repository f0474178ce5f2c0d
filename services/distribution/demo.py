"""Demo data for distribution: a BLT and a sembako round a month over the demo households,
endorsed, allocated, and mostly handed over (some households not at home, moved or
refusing), each RW's posko by its own officer, with a few planted irregularities."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from datetime import datetime, time, timedelta
from typing import Any

import httpx

from shared import clock
from shared.auth import Role, issue_token
from shared.demo import DemoContext, known, ok

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
    """Budget the month, certify one officer per RW, and run the month's two rounds over
    the households the registry's seeder made (`made["households"]`) and those of earlier
    demo runs; `made["rounds"]` = the rounds' summaries, each with the receipt codes
    handed out.

    Run again in the same month it schedules nothing new: it finds its own rounds (the
    programme's round over the same RWs), allocates the households registered since, and
    hands over what is still pending in the open one (the sembako round closes on the
    first run, for the community to verify). The first run of a month also plants a few
    irregularities for the oversight findings to show (`made["planted"]`)."""
    households: list[dict[str, Any]] = ctx.made.get("households", [])
    heads = {
        h["household_id"]: next(m["nik"] for m in h["members"] if m["relationship"] == "head")
        for h in households
    }
    planted: list[str] = []
    with ctx.status("aid rounds: budgets, endorsement, allocation, hand-over ..."):
        async with (
            ctx.client("distribution", Role.programme_manager) as manager,
            ctx.client("distribution", Role.community_facilitator) as facilitator,
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
            period = f"{clock.today():%Y-%m}"
            await _budget(manager, period)
            rws = ctx.settings.rw_list
            officers: dict[str, httpx.AsyncClient] = {}
            for rw in rws:  # one officer serves one posko
                sub = officer_of(rw)
                await _certify(manager, sub, ctx.rng)
                officers[rw] = await stack.enter_async_context(_officer(ctx, sub))
            half = len(rws) // 2 or 1
            summaries = []
            for programme, covered in (("BLT", rws[:half]), ("SEMBAKO", rws[half:] or rws)):
                rid, fresh, closed = await _round(manager, facilitator, programme, period, covered)
                receipts: list[str] = []
                if not closed:
                    ok(await manager.post(f"/rounds/{rid}/allocations/bulk"), "budget_exceeded")
                    pending = await _manifest(officers[covered[0]], rid, status="allocated")
                    if fresh and programme == "BLT":
                        planted = await _plant(officers, registry, pending, heads, ctx.rng)
                        done = {p.split()[0] for p in planted}
                        pending = [i for i in pending if i["allocation_id"] not in done]
                    receipts = await _hand_over(officers, registry, pending, heads, ctx.rng)
                if fresh and programme == "SEMBAKO":
                    # Sembako is handed out in one day: the round closes, and the community
                    # verifies a sample of it with the recipients (community's demo).
                    ok(await manager.post(f"/rounds/{rid}/closure"))
                summary = ok(await manager.get(f"/rounds/{rid}/summary"))
                # The codes the officer handed to each recipient: the demo's residents hold them.
                summaries.append({**summary, "receipt_codes": receipts})
    ctx.made["rounds"] = summaries
    ctx.made["planted"] = planted
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
            f"(a resident checks their aid with it at {ctx.urls.get('audit', '')}/cek)"
        )
    for line in planted:
        ctx.report(f"planted for the oversight findings: allocation {line}")


def officer_of(rw: str) -> str:
    """The demo's officer at RW `rw`'s posko (a token subject)."""
    return f"petugas.rw{rw}"


def _officer(ctx: DemoContext, sub: str) -> httpx.AsyncClient:
    token = issue_token(ctx.settings, sub, Role.distribution_officer)
    return httpx.AsyncClient(
        base_url=ctx.urls["distribution"],
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
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
                "certified_on": str(clock.today() - timedelta(days=60)),
                "expires_on": str(clock.today() + timedelta(days=305)),
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
) -> tuple[str, bool, bool]:
    """The programme's round of the month over `rws` (an earlier run's, or a new one with
    its poskos open today, endorsed by the community); whether it is new, and closed."""
    listed = await manager.get("/rounds", params={"programme": programme, "period": period})
    if listed.is_error:
        ok(listed)  # raises, naming the request
    for found in listed.json():
        if sorted(p["rw"] for p in found["poskos"]) == sorted(rws):
            return str(found["round_id"]), False, found["status"] == "closed"
    created = ok(
        await manager.post(
            "/rounds",
            json={
                "programme": programme,
                "period": period,
                "poskos": [{"rw": rw, "place": _posko(rw), "on": str(clock.today())} for rw in rws],
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
    return rid, True, False


def _posko(rw: str) -> str:
    return f"Posko RW {rw}, balai warga"


async def _manifest(officer: httpx.AsyncClient, round_id: str, status: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 500, "status": status}
        if cursor:
            params["cursor"] = cursor
        page = ok(await officer.get(f"/rounds/{round_id}/manifest", params=params))
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


async def _head(
    registry: httpx.AsyncClient | None, heads: dict[str, str], household: str
) -> str | None:
    """The NIK on the head's KTP, shown at the posko."""
    if household not in heads and registry is not None:
        reply = await registry.get(f"/households/{household}")
        if reply.status_code == 200:
            members = reply.json()["members"]
            heads[household] = next(m["nik"] for m in members if m["relationship"] == "head")
    return heads.get(household)


def _receipt(item: dict[str, Any], nik: str, rng: random.Random, **changes: Any) -> dict[str, Any]:
    photo = f"{item['allocation_id']}-{rng.random()}".encode()
    return {
        **_evening_session(),
        "recipient_nik": nik,
        "place": _posko(item["rw"]),
        "evidence_sha256": hashlib.sha256(photo).hexdigest(),
        "gps": [
            round(-6.31 + rng.uniform(-0.004, 0.004), 6),
            round(106.836 + rng.uniform(-0.004, 0.004), 6),
        ],
        **changes,
    }


def _evening_session() -> dict[str, str]:
    """A demo started after 20:00 WIB records its hand-overs as the evening's posko
    session (19:30) rather than now: otherwise every one of them is, rightly, an auditor's
    `handover_at_night` (posko hours end at 20:00), which is not what the demo shows."""
    now = datetime.now(clock.JAKARTA)
    if now.hour < 20:
        return {}
    return {"received_at": now.replace(hour=19, minute=30, second=0, microsecond=0).isoformat()}


async def _hand_over(
    officers: dict[str, httpx.AsyncClient],
    registry: httpx.AsyncClient | None,
    items: list[dict[str, Any]],
    heads: dict[str, str],
    rng: random.Random,
) -> list[str]:
    """At each RW's posko its officer hands over 85 % of the pending allocations, reports
    10 % undelivered, and leaves the rest pending; returns the receipt codes handed over."""
    gate = asyncio.Semaphore(CONCURRENCY)
    receipts: list[str] = []

    async def visit(item: dict[str, Any]) -> None:
        draw = rng.random()
        officer = officers[item["rw"]]
        async with gate:
            nik = await _head(registry, heads, item["household_id"])
            if nik is None:
                return  # no one to hand it to yet: pending
            if draw < 0.85:
                handed = ok(
                    await officer.post(
                        f"/allocations/{item['allocation_id']}/receipt",
                        json=_receipt(item, nik, rng),
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


async def _plant(
    officers: dict[str, httpx.AsyncClient],
    registry: httpx.AsyncClient | None,
    items: list[dict[str, Any]],
    heads: dict[str, str],
    rng: random.Random,
) -> list[str]:
    """Hand-overs that the distribution accepts (each is possible in the field) but that
    an auditor must see: a receipt dated days before it was recorded, one photo used as
    evidence twice, and one officer at a second RW's posko within the hour. Returns
    "<allocation id> <what>" lines."""
    by_rw: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if await _head(registry, heads, item["household_id"]) is not None:
            by_rw.setdefault(item["rw"], []).append(item)
    rws = [rw for rw in sorted(by_rw) if len(by_rw[rw]) >= 2]
    if len(rws) < 2:
        return []  # too few households for the plants
    first, second = by_rw[rws[0]], by_rw[rws[1]]
    backdated, reused, evidence_of = first[0], first[1], second[0]
    away = second[1]
    planted: list[tuple[dict[str, Any], dict[str, Any], httpx.AsyncClient, str]] = []
    days_ago = datetime.combine(clock.today() - timedelta(days=5), time(10), clock.JAKARTA)
    planted.append(
        (backdated, {"received_at": days_ago.isoformat()}, officers[rws[0]], "backdated")
    )
    photo = hashlib.sha256(f"{rng.random()}".encode()).hexdigest()
    planted.append(
        (evidence_of, {"evidence_sha256": photo}, officers[rws[1]], "photo first used here")
    )
    planted.append((reused, {"evidence_sha256": photo}, officers[rws[0]], "evidence reused"))
    # RW rws[0]'s officer hands over at RW rws[1]'s posko too.
    planted.append((away, {}, officers[rws[0]], f"officer of RW {rws[0]} at RW {rws[1]}"))
    lines = []
    for item, changes, officer, what in planted:
        nik = heads[item["household_id"]]
        ok(
            await officer.post(
                f"/allocations/{item['allocation_id']}/receipt",
                json=_receipt(item, nik, rng, **changes),
            )
        )
        lines.append(f"{item['allocation_id']} {what}")
    return lines
