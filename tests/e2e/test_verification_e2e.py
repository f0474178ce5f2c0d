"""Issue 15's acceptance, with the real audit ledger: a round closes (as distribution
announces it on the stream) → a facilitator draws the sample from the ledger's own signed
checkpoint (GET /ledger/checkpoint), reproducibly from its root → a verification with a
discrepancy opens a complaint → the audit's oversight shows a verification_discrepancy
finding on the allocation. Community and audit in-process on one real nats-server."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from services.community.service import SERVICE as COMMUNITY
from services.community.settings import CommunitySettings
from shared.auth import Role
from shared.pii import commitments
from tests.audit.service import AUDITOR, running
from tests.community.verification_scene import publish_closed_round
from tests.helpers import NatsServer, bearer, eventually, serve_app

FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")


async def test_a_closed_round_is_verified_and_the_audit_sees_the_discrepancy(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with running(
        f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", nats_server.url, tmp_path / "audit"
    ) as audit:
        vkey = (await audit.client.get("/ledger/public-key")).json()["vkey"]
        settings = CommunitySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'community.db'}",
            nats_url=nats_server.url,
            ledger_public_key=vkey,
        )
        async with serve_app(COMMUNITY.app(settings)) as community:
            scene = await publish_closed_round(nats_server.url, commitments(settings), n=7)
            await audit.caught_up(scene.closure_seq)
            note = (await audit.client.get("/ledger/checkpoint")).text
            path = f"/rounds/{scene.round_id}/verification-sample"

            async def drawn() -> dict[str, Any] | None:
                reply = await community.post(path, json={"checkpoint": note}, headers=FACILITATOR)
                return reply.json() if reply.status_code == 201 else None

            sample = await eventually(drawn)
            # A round of 7: every hand-over is verified; the order comes from the root.
            root = base64.b64decode(note.split("\n")[2])
            ranked = sorted(
                (str(a) for a in scene.received),
                key=lambda a: hashlib.sha256(root + a.encode()).digest(),
            )
            assert sample["allocation_ids"] == ranked and sample["k"] == 7
            assert sample["tree_size"] >= scene.closure_seq

            target = sample["allocation_ids"][0]
            answers = {"received": False, "asked_to_pay": False, "respectful": True}
            verified = await community.post(
                f"/rounds/{scene.round_id}/verifications/{target}",
                json=answers,
                headers=FACILITATOR,
            )
            assert verified.status_code == 201, verified.text
            assert verified.json()["discrepancies"] == ["not_received"]
            complaint = await community.get(
                f"/complaints/{verified.json()['complaint_id']}", headers=FACILITATOR
            )
            assert complaint.json()["category"] == "distribution"

            async def found() -> list[dict[str, Any]] | None:
                reply = await audit.client.get(
                    "/oversight/findings",
                    params={"rule": "verification_discrepancy"},
                    headers=AUDITOR,
                )
                items: list[dict[str, Any]] = reply.json().get("findings", [])
                return items or None

            [finding] = await eventually(found, within=30)
            assert finding["round_id"] == str(scene.round_id)
            assert target in finding["subjects"] and "not received" in finding["description"]
