"""Distribution benchmark (PostgreSQL, one worker): bulk allocation of N eligible households
over HTTP, hand-over confirmations/s over HTTP, and a raw nats-py publish_async baseline on
the same server. The eligibility projection is fed the registry's events over JetStream.

Run from the repository root:
.venv/bin/python -m benchmarks.distribution [--households N] [--handovers N] [--concurrency N]
(and [--events N], the raw baseline's message count, 20,000 by default)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats

from benchmarks.common import nats_server, postgres_database, service
from benchmarks.registry import raw_publish_async_per_second
from shared.auth import Role, issue_token
from shared.events import Envelope
from shared.events.registry import (
    EligibilityDecided,
    HouseholdRegistered,
    MemberFacts,
    Relationship,
)
from shared.messaging import ensure_stream
from shared.pii import Commitments, commitments
from shared.settings import CommonSettings

PERIOD = f"{date.today():%Y-%m}"
BENEFIT_IDR = 600_000
RWS = [f"{n:02d}" for n in range(1, 11)]
RELATIONSHIPS: tuple[Relationship, ...] = ("head", "spouse", "child", "child")
MANAGER_SUB = "bench.manager"
FACILITATOR_SUB = "bench.facilitator"
OFFICER_SUB = "bench.officer"
EVIDENCE = "9f" * 32


@dataclass(frozen=True)
class Household:
    household_id: UUID
    head_nik: str
    events: tuple[Envelope, Envelope]  # registered (version 1), eligibility decided (version 2)


def synthetic_household(c: Commitments, i: int) -> Household:
    """Household i: 1..4 members with 16-digit NIKs 317409…, RW among 01..10, eligible."""
    hid = uuid4()
    rw = RWS[i % len(RWS)]
    rt = f"{i % 15 + 1:03d}"
    niks = [f"317409{i * 4 + m:010d}" for m in range(1 + i % 4)]
    members = tuple(
        MemberFacts(
            member_id=uuid4(),
            nik_commitment=c.nik(nik),
            sex="F" if m % 2 else "M",
            birth_year=1980 + m * 12,
            relationship=RELATIONSHIPS[m],
            disabled=False,
        )
        for m, nik in enumerate(niks)
    )
    kk = f"317409{i:010d}"
    registered = HouseholdRegistered(
        rt=rt,
        rw=rw,
        kk_commitment=c.kk(kk),
        members=members,
        monthly_income_idr=300_000 + i % 7 * 100_000,
        desil=1 + i % 3,
        dtks_listed=i % 2 == 0,
    )
    decided = EligibilityDecided(
        eligible=True,
        reasons=("desil_1_to_4",),
        pmt_score=20 + i % 30,
        desil=registered.desil,
        rt=rt,
        rw=rw,
        member_commitments=tuple(m.nik_commitment for m in members),
        policy_version="bench",
    )
    events = (
        Envelope.wrap(registered, aggregate_id=hid, aggregate_version=1, actor="bench"),
        Envelope.wrap(decided, aggregate_id=hid, aggregate_version=2, actor="bench"),
    )
    return Household(hid, niks[0], events)


async def publish_registry_events(nats_url: str, households: list[Household]) -> float:
    """Both events of every household onto JetStream; returns the seconds it took."""
    envelopes = [e for h in households for e in h.events]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, CommonSettings(nats_url=nats_url))
    started = time.perf_counter()
    for start in range(0, len(envelopes), 5000):
        futures = [
            await js.publish_async(
                e.subject, e.canonical(), headers={"Nats-Msg-Id": str(e.event_id)}
            )
            for e in envelopes[start : start + 5000]
        ]
        await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await nc.close()
    return elapsed


async def wait_until_known(
    client: httpx.AsyncClient, households: list[Household], patience_s: float
) -> None:
    """Poll until the last household, then a sample of the others, show as eligible."""
    step = max(1, len(households) // 20)
    sample = [households[-1], *households[::step], households[0]]
    deadline = time.monotonic() + patience_s
    for h in sample:
        while True:
            reply = await client.get(f"/eligibility/{h.household_id}")
            if reply.status_code == 200 and reply.json()["eligible"] is True:
                break
            if reply.status_code not in (200, 404):
                raise SystemExit(f"GET /eligibility: {reply.status_code} {reply.text}")
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"household {h.household_id} not eligible after {patience_s:.0f} s: "
                    f"{reply.status_code} {reply.text}"
                )
            await asyncio.sleep(0.05)


def line(label: str, figures: str) -> None:
    print(f"  {label:43}: {figures}")


def expect(reply: httpx.Response, status: int) -> dict[str, Any]:
    if reply.status_code != status:
        raise SystemExit(
            f"{reply.request.method} {reply.request.url.path}: "
            f"{reply.status_code} {reply.text[:2000]}"
        )
    body: dict[str, Any] = reply.json()
    return body


async def prepare_round(client: httpx.AsyncClient, households: int) -> str:
    """Budget, officer certificate, a round over the ten RWs, endorsed. Returns its id."""
    today = date.today()
    expect(
        await client.post(
            "/budgets",
            json={
                "programme": "BLT",
                "period": PERIOD,
                "amount_idr": BENEFIT_IDR * households,
                "benefit_idr": BENEFIT_IDR,
            },
        ),
        201,
    )
    expect(
        await client.post(
            f"/officers/{OFFICER_SUB}/certificates",
            json={
                "certificate_number": f"PKH-BENCH-{uuid4().hex[:8]}",
                "certified_on": str(today - timedelta(days=30)),
                "expires_on": str(today + timedelta(days=335)),
            },
        ),
        201,
    )
    scheduled = expect(
        await client.post(
            "/rounds",
            json={
                "programme": "BLT",
                "period": PERIOD,
                "poskos": [
                    {"rw": rw, "place": f"Posko RW {rw}, balai warga", "on": str(today)}
                    for rw in RWS
                ],
            },
        ),
        201,
    )
    round_id = str(scheduled["round_id"])
    facilitator = issue_token(CommonSettings(), FACILITATOR_SUB, Role.community_facilitator)
    expect(
        await client.post(
            f"/rounds/{round_id}/endorsement",
            json={"note": "disepakati dalam rembuk warga (benchmark)"},
            headers={"Authorization": f"Bearer {facilitator}"},
        ),
        200,
    )
    return round_id


async def manifest(client: httpx.AsyncClient, round_id: str) -> dict[str, str]:
    """household_id -> allocation_id, every page of the round's manifest."""
    out: dict[str, str] = {}
    params: dict[str, str | int] = {"limit": 500}
    while True:
        page = expect(await client.get(f"/rounds/{round_id}/manifest", params=params), 200)
        for item in page["items"]:
            out[str(item["household_id"])] = str(item["allocation_id"])
        if page["next_cursor"] is None:
            return out
        params["cursor"] = page["next_cursor"]


async def handovers_per_second(
    url: str, work: list[tuple[str, str]], concurrency: int
) -> tuple[float, float]:
    """POST /allocations/{id}/receipt for each (allocation_id, head NIK); the first one is
    a warm-up, not timed. Returns (confirmations/s, seconds)."""
    token = issue_token(CommonSettings(), OFFICER_SUB, Role.distribution_officer)
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    failures: list[str] = []
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits
    ) as client:

        async def one(allocation_id: str, nik: str) -> None:
            body = {
                "recipient_nik": nik,
                "place": "Posko RW, balai warga",
                "evidence_sha256": EVIDENCE,
                "gps": [-6.3098, 106.8362],
            }
            async with gate:
                reply = await client.post(f"/allocations/{allocation_id}/receipt", json=body)
            handed = reply.json() if reply.status_code == 200 else {}
            if handed.get("status") != "received" or not handed.get("receipt_code"):
                failures.append(f"{allocation_id}: {reply.status_code} {reply.text[:500]}")

        await one(*work[0])  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(one(a, n) for a, n in work[1:]))
        elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(
            f"{len(failures)} of {len(work)} hand-overs failed; first: " + "; ".join(failures[:5])
        )
    return (len(work) - 1) / elapsed, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=10000)
    parser.add_argument("--handovers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events", type=int, default=20000, help="for the raw baseline")
    args = parser.parse_args()
    if not 0 < args.handovers < args.households:
        raise SystemExit("need 0 < --handovers < --households (one more is the warm-up)")
    print(
        f"distribution benchmark, postgres, one worker: {args.households} households, "
        f"{args.handovers} hand-overs at concurrency {args.concurrency}"
    )
    # The service runs with the built-in development secrets, as `bansos up` does; the
    # commitments here are made under the same programme secret.
    os.environ.setdefault("BANSOS_MODE", "development")
    c = commitments(CommonSettings())
    households = [synthetic_household(c, i) for i in range(args.households)]
    manager = issue_token(CommonSettings(), MANAGER_SUB, Role.programme_manager)
    with nats_server() as nats_url:
        async with postgres_database() as db_url:
            with service("distribution", db_url, nats_url) as http:
                async with httpx.AsyncClient(
                    base_url=http.url,
                    headers={"Authorization": f"Bearer {manager}"},
                    timeout=300,
                ) as client:
                    started = time.perf_counter()
                    published = await publish_registry_events(nats_url, households)
                    await wait_until_known(client, households, patience_s=60 + args.households / 20)
                    known = time.perf_counter() - started
                    events = 2 * len(households)
                    line(
                        "eligibility feed over JetStream",
                        f"{events} events published in {published:.2f} s, all projected "
                        f"after {known:.2f} s  ({events / known:.0f} ev/s)",
                    )

                    round_id = await prepare_round(client, args.households)
                    started = time.perf_counter()
                    bulk = expect(await client.post(f"/rounds/{round_id}/allocations/bulk"), 200)
                    elapsed = time.perf_counter() - started
                    if bulk["allocated"] != args.households:
                        raise SystemExit(
                            f"bulk allocation allocated {bulk['allocated']} of "
                            f"{args.households} eligible households: {bulk}"
                        )
                    if bulk["amount_idr"] != BENEFIT_IDR * args.households:
                        raise SystemExit(f"bulk allocation amount is wrong: {bulk}")
                    line(
                        "bulk allocation over HTTP, one request",
                        f"{elapsed:8.2f} s  ({bulk['allocated'] / elapsed:.0f} allocations/s)",
                    )

                    allocated = await manifest(client, round_id)
                    if len(allocated) != args.households:
                        raise SystemExit(
                            f"manifest lists {len(allocated)} of {args.households} allocations"
                        )
                    work = [
                        (allocated[str(h.household_id)], h.head_nik)
                        for h in households[: args.handovers + 1]
                    ]
                    rate, seconds = await handovers_per_second(http.url, work, args.concurrency)
                    line(
                        "hand-over confirmations over HTTP",
                        f"{rate:8.0f} /s  ({args.handovers} in {seconds:.2f} s)",
                    )

                    summary = expect(await client.get(f"/rounds/{round_id}/summary"), 200)
                    expected = (args.households, args.handovers + 1, 0)
                    got = (summary["allocated"], summary["received"], summary["undelivered"])
                    line(
                        "round summary",
                        f"allocated {got[0]}, received {got[1]} (with the warm-up), "
                        f"undelivered {got[2]}, pending {summary['pending']}",
                    )
                    if got != expected:
                        raise SystemExit(f"round summary {got}, expected {expected}")
        # The service is gone: its durable consumer on `bansos.registry.>` would otherwise
        # take the baseline's messages as updates of households it never heard of.
        raw = await raw_publish_async_per_second(nats_url, args.events)
        line("raw nats-py publish_async baseline", f"{raw:8.0f} msg/s")


if __name__ == "__main__":
    asyncio.run(main())
