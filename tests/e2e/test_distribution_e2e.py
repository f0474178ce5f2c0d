"""End to end under `bansos up`: households registered and decided in the registry reach
distribution over the bus, are allocated and handed over, and every event of it lands in
the audit ledger, which verifies offline. The officer finds each recipient's allocation
by the NIK on their KTP and types it again for the hand-over; the recipient takes a
receipt code home. Neither the NIK (not even masked), nor the receipt code, nor the
staff's notes appear on the bus: commitments only (docs/architecture.md#personal-data)."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.registry import demo
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events import Envelope
from shared.pii import code_pattern, commitments
from shared.settings import CommonSettings
from tests.audit.test_audit_e2e import verify
from tests.e2e.test_registry_e2e import personal_data
from tests.helpers import UpProcess, bearer, eventually, stream_holds

pytestmark = pytest.mark.e2e
OPERATOR = bearer(Role.registry_operator, "operator.e2e")
MANAGER = bearer(Role.programme_manager, "manager.e2e")
FACILITATOR = bearer(Role.community_facilitator, "facilitator.e2e")
OFFICER = bearer(Role.distribution_officer, "petugas.e2e")
ENDORSEMENT = "jadwal disepakati dalam rembuk warga RW 04, berita acara no. 7"
NOT_AT_HOME = "rumah terkunci, kata tetangga sedang menjenguk anak di Cibubur"


@pytest.fixture
def up(tmp_path: Path, stack_env: dict[str, str]) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var", stack_env)
    process.start(wait_for=(1, 2, 5))
    yield process
    process.stop()


async def register(registry: httpx.AsyncClient, rng: random.Random) -> list[dict[str, Any]]:
    """Six poor households in RW 04, registered and decided eligible."""
    bodies = []
    for _ in range(6):
        body = demo.household(rng, "04")
        body["monthly_income_idr"] = 400_000
        reply = await registry.post("/households", json=body)
        assert reply.status_code == 201, reply.text
        body["household_id"] = reply.json()["household_id"]
        decided = await registry.post(f"/households/{body['household_id']}/eligibility")
        assert decided.json()["eligible"] is True
        bodies.append(body)
    return bodies


async def test_aid_goes_from_registry_to_hand_over_to_the_ledger(up: UpProcess) -> None:
    rng = random.Random(404)
    async with (
        httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as registry,
        httpx.AsyncClient(base_url=up.url(2), timeout=60) as distribution,
    ):
        seeded = await register(registry, rng)
        last = seeded[-1]["household_id"]

        async def known() -> bool:
            reply = await distribution.get(f"/eligibility/{last}", headers=MANAGER)
            return reply.status_code == 200 and reply.json()["eligible"] is True

        await eventually(known, within=30)
        period = f"{wib_today():%Y-%m}"
        steps = [
            (
                "/budgets",
                MANAGER,
                {
                    "programme": "SEMBAKO",
                    "period": period,
                    "amount_idr": 3_000_000,
                    "benefit_idr": 300_000,
                    "package": [{"name": "beras", "quantity": 10, "unit": "kg"}],
                },
            ),
            (
                "/officers/petugas.e2e/certificates",
                MANAGER,
                {
                    "certificate_number": "SERT-E2E-1",
                    "certified_on": str(wib_today()),
                    "expires_on": str(wib_today() + timedelta(days=365)),
                },
            ),
            (
                "/rounds",
                MANAGER,
                {
                    "programme": "SEMBAKO",
                    "period": period,
                    "poskos": [{"rw": "04", "place": "Posko RW 04", "on": str(wib_today())}],
                },
            ),
        ]
        for path, who, body in steps:
            reply = await distribution.post(path, json=body, headers=who)
            assert reply.status_code == 201, reply.text
        rid = reply.json()["round_id"]
        endorsed = await distribution.post(
            f"/rounds/{rid}/endorsement", json={"note": ENDORSEMENT}, headers=FACILITATOR
        )
        assert endorsed.status_code == 200, endorsed.text
        bulk = await distribution.post(f"/rounds/{rid}/allocations/bulk", headers=MANAGER)
        assert bulk.json()["allocated"] == 6, bulk.text

        manifest = await distribution.get(f"/rounds/{rid}/manifest", headers=OFFICER)
        items = manifest.json()["items"]
        assert not [key for item in items for key in item if "nik" in key]
        receipts = {}  # allocation_id -> the code its recipient took home
        for hh in seeded[:5]:
            # The recipient may be any member: here the last one listed (often not the head).
            member = hh["members"][-1]
            found = await distribution.post(
                f"/rounds/{rid}/manifest/lookup", json={"nik": member["nik"]}, headers=OFFICER
            )
            [item] = found.json()["items"]
            assert item["household_id"] == hh["household_id"]
            reply = await distribution.post(
                f"/allocations/{item['allocation_id']}/receipt",
                json={
                    "recipient_nik": member["nik"],
                    "place": "Posko RW 04",
                    "evidence_sha256": hashlib.sha256(member["full_name"].encode()).hexdigest(),
                },
                headers=OFFICER,
            )
            assert reply.status_code == 200, reply.text
            receipts[item["allocation_id"]] = reply.json()["receipt_code"]
        assert all(re.fullmatch(code_pattern("BT", 3), c) for c in receipts.values())
        [last] = [i for i in items if i["household_id"] == seeded[5]["household_id"]]
        away = await distribution.post(
            f"/allocations/{last['allocation_id']}/undelivered",
            json={"reason": "not_at_home", "note": NOT_AT_HOME},
            headers=OFFICER,
        )
        assert away.status_code == 200, away.text
        assert away.json()["undelivered_note"] == NOT_AT_HOME
        summary = (await distribution.get(f"/rounds/{rid}/summary", headers=MANAGER)).json()
        assert (summary["received"], summary["undelivered"]) == (5, 1)
        assert summary["amount_received_idr"] == 1_500_000

    # 6 x (registered, decided) + budget, certificate, round, endorsement, 6 allocations,
    # 5 receipts, 1 undelivered: 28 events on the stream, all in the ledger, verified offline.
    nats_url = f"nats://127.0.0.1:{up.nats_port}"
    messages = await eventually(lambda: stream_holds(nats_url, 28), within=30)
    assert len(messages) == 28
    async with httpx.AsyncClient(base_url=up.url(5), timeout=30) as audit:

        async def ledger_has_all() -> bool:
            stats = (await audit.get("/ledger/stats")).json()
            return bool(stats["checkpoint_size"] == 28)

        await eventually(ledger_has_all, within=30)
        received = await audit.get("/ledger/search", params={"type": "distribution.aid_received"})
        assert len(received.json()["entries"]) == 5
    verified = verify(up.url(5))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "28 entries verified" in verified.stdout

    everything = b"\n".join(m.data + repr(m.headers).encode() for m in messages).decode()
    private = personal_data(seeded) | set(receipts.values()) | {ENDORSEMENT, NOT_AT_HOME}
    assert sorted(s for s in private if s in everything) == []
    assert "•" not in everything  # no masked NIK or KK at all
    # What is there instead: each receipt code's commitment, on its hand-over.
    c = commitments(CommonSettings())
    envelopes = [Envelope.model_validate_json(m.data) for m in messages]
    handed = {
        str(e.aggregate_id): e.payload for e in envelopes if e.type == "distribution.aid_received"
    }
    assert {aid: p["receipt_commitment"] for aid, p in handed.items()} == {
        aid: c.receipt(code) for aid, code in receipts.items()
    }
    assert {(p["round_id"], p["rw"], p["amount_idr"]) for p in handed.values()} == {
        (rid, "04", 300_000)
    }
    notes = [e.payload["note_commitment"] for e in envelopes if "note_commitment" in e.payload]
    assert len(notes) == 2 and all(n and len(n) == 64 for n in notes)
