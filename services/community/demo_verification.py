"""Demo data for verification with recipients: the month's closed rounds get their sample,
drawn from the latest checkpoint every witness of the ledger cosigned (community requires
their cosignatures: `bansos up` gives it the audit's witnesses) once one covers the
closure, and a facilitator
verifies every sampled hand-over; one recipient says she was asked to pay, which files a
complaint and becomes the audit's `verification_discrepancy` finding. A re-run finds the
sample drawn and the verifications made, and adds nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from shared import clock
from shared.auth import Role
from shared.demo import DemoContext, DemoError, ok

# What the ledger may still be catching up on: the closure's leaf, the hand-overs, and
# the witnesses' next round (every 2 s under `bansos up --demo`).
WAITING = {"sample_checkpoint_early", "sample_incomplete"}
UNSIGNED = {"no_checkpoint", "no_cosigned_checkpoint"}
PATIENCE_S = 60


async def seed_verifications(ctx: DemoContext) -> None:
    if not {"distribution", "audit"} <= set(ctx.urls):
        return
    async with ctx.client("distribution", Role.programme_manager) as manager:
        listed = await manager.get(
            "/rounds", params={"status": "closed", "period": f"{clock.today():%Y-%m}"}
        )
    if listed.is_error:
        ok(listed)
    async with (
        ctx.client("community", Role.community_facilitator, timeout=60) as facilitator,
        httpx.AsyncClient(base_url=ctx.urls["audit"], timeout=30) as ledger,
    ):
        for found in listed.json():
            sample = await _sample(facilitator, ledger, str(found["round_id"]))
            made = await _verify(facilitator, sample)
            if made:
                ctx.report(
                    f"{found['programme']} round closed: {len(sample['allocation_ids'])} of "
                    f"{sample['population']} hand-overs drawn from checkpoint "
                    f"{sample['tree_size']} and verified ({made} now; one asked to pay)"
                )


async def _sample(
    facilitator: httpx.AsyncClient, ledger: httpx.AsyncClient, round_id: str
) -> dict[str, Any]:
    """The round's sample, drawn now if it is not yet: from the latest checkpoint all the
    ledger's witnesses cosigned, once one covers the closure and community knows every
    hand-over."""
    path = f"/rounds/{round_id}/verification-sample"
    held = await facilitator.get(path)
    if held.status_code == 200:
        return ok(held)
    witnesses = len(ok(await ledger.get("/ledger/witnesses"))["witnesses"])
    params = {"cosigned": witnesses} if witnesses else {}
    deadline = time.monotonic() + PATIENCE_S
    while True:
        served = await ledger.get("/ledger/checkpoint", params=params)
        if served.status_code == 200:
            drawn = await facilitator.post(path, json={"checkpoint": served.text})
            if not drawn.is_error:
                return ok(drawn)
            waiting, refused = drawn.json().get("error") in WAITING, drawn
        else:  # 404: no checkpoint yet, or the witnesses have not cosigned one yet
            waiting, refused = served.json().get("error") in UNSIGNED, served
        if not waiting or time.monotonic() > deadline:
            raise DemoError(
                f"{refused.request.method} {refused.request.url.path} -> "
                f"{refused.status_code}: {refused.text[:300]}"
            )
        await asyncio.sleep(0.25)


async def _verify(facilitator: httpx.AsyncClient, sample: dict[str, Any]) -> int:
    """Every sampled hand-over visited; the first recipient was asked to pay."""
    made = 0
    for n, allocation_id in enumerate(sample["allocation_ids"]):
        pungli = n == 0
        reply = await facilitator.post(
            f"/rounds/{sample['round_id']}/verifications/{allocation_id}",
            json={
                "received": True,
                "full": True,
                "asked_to_pay": pungli,
                "pay_band": "10k_50k" if pungli else None,
                "respectful": True,
            },
        )
        if not ok(reply, "verification_exists"):
            continue
        made += 1
    return made
