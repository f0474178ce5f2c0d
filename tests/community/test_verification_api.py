"""Verification with recipients over HTTP, on SQLite and PostgreSQL with a real
nats-server: community learns a closed round from the stream, a facilitator draws its
sample from a checkpoint signed by the ledger's key (refused when unsigned, for another
key, or too old to cover the closure), anyone recomputes it from the root, each sampled
recipient's answers are recorded and a discrepancy files an anonymous complaint;
monitoring suppresses small cells; feedback names its hand-over by receipt code."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select

from services.community.projections import subjects
from services.community.service import SERVICE
from services.community.settings import CommunitySettings
from shared.auth import Role
from shared.checkpoint import Signer, sign_checkpoint
from shared.db import make_engine
from shared.events import decode
from shared.pii import commitments
from tests.community.verification_scene import ClosedRound, publish_closed_round
from tests.helpers import NatsServer, bearer, eventually, serve_app, stream_messages

FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")
AUDITOR = bearer(Role.auditor, "inspektorat.hasan")
ORIGIN = "bansos.tanjung-barat/ledger/v2"
LEDGER = Signer(ORIGIN, Ed25519PrivateKey.generate())
NOTE = "Bu Sumi bilang ketua RT minta Rp 20.000 untuk 'uang lelah'"


def checkpoint(tree_size: int, signer: Signer = LEDGER) -> tuple[str, bytes]:
    root = hashlib.sha256(f"the ledger at {tree_size}".encode()).digest()
    return sign_checkpoint(signer, ORIGIN, tree_size, root), root


@pytest.fixture
async def client(database_url: str, nats_server: NatsServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = CommunitySettings(
        database_url=database_url, nats_url=nats_server.url, ledger_public_key=LEDGER.vkey
    )
    async with serve_app(SERVICE.app(settings)) as client:
        yield client


async def closed_round(client: httpx.AsyncClient, nats_url: str) -> ClosedRound:
    scene = await publish_closed_round(nats_url, commitments(CommunitySettings()))
    note, _ = checkpoint(scene.closure_seq - 1)

    async def learnt() -> bool:  # an early checkpoint: refused only once the closure is known
        reply = await client.post(
            f"/rounds/{scene.round_id}/verification-sample",
            json={"checkpoint": note},
            headers=FACILITATOR,
        )
        return reply.json().get("error") == "sample_checkpoint_early"

    await eventually(learnt)
    return scene


async def test_a_sample_is_drawn_from_a_signed_checkpoint_and_recomputed(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    scene = await closed_round(client, nats_server.url)
    path = f"/rounds/{scene.round_id}/verification-sample"
    note, root = checkpoint(scene.closure_seq + 3)

    forged, _ = checkpoint(scene.closure_seq + 3, Signer(ORIGIN, Ed25519PrivateKey.generate()))
    refused = await client.post(path, json={"checkpoint": forged}, headers=FACILITATOR)
    assert refused.status_code == 422 and refused.json()["error"] == "sample_checkpoint_invalid"
    tampered = note.replace(base64.b64encode(root).decode(), base64.b64encode(b"\0" * 32).decode())
    refused = await client.post(path, json={"checkpoint": tampered}, headers=FACILITATOR)
    assert refused.json()["error"] == "sample_checkpoint_invalid"
    anonymous = await client.post(path, json={"checkpoint": note})
    assert anonymous.status_code == 401

    drawn = await client.post(path, json={"checkpoint": note}, headers=FACILITATOR)
    assert drawn.status_code == 201, drawn.text
    sample = drawn.json()
    assert (sample["population"], sample["k"], sample["tree_size"]) == (
        12,
        10,
        scene.closure_seq + 3,
    )
    assert str(scene.undelivered) not in sample["allocation_ids"]  # only received hand-overs
    # Anyone recomputes it from the published root and the round's allocation ids.
    ids = [str(a) for a in scene.received]
    ranked = sorted(ids, key=lambda a: hashlib.sha256(root + a.encode()).digest())
    assert sample["allocation_ids"] == ranked[:10]
    assert sample["root_hash"] == base64.b64encode(root).decode()
    again = await client.post(path, json={"checkpoint": note}, headers=FACILITATOR)
    assert again.status_code == 409 and again.json()["error"] == "sample_exists"
    assert (await client.get(path, headers=AUDITOR)).json() == sample
    assert (await client.get(path)).status_code == 401  # who is sampled is not public

    # The draw on the bus: the sampled ids sealed, the public view only the checkpoint.
    async def drawn_on_the_bus() -> dict[str, Any] | None:
        for msg in await stream_messages(nats_server.url):
            envelope, _ = decode(msg.data)
            if envelope.type == "community.verification_sample_drawn":
                from shared.events import public_view

                return public_view(envelope)
        return None

    public = await eventually(drawn_on_the_bus)
    assert set(public) == {"round_id", "tree_size", "root_hash", "k", "type", "day", "actor_role"}


async def test_verifications_file_complaints_and_show_in_monitoring(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    scene = await closed_round(client, nats_server.url)
    note, _ = checkpoint(scene.closure_seq)
    sample = (
        await client.post(
            f"/rounds/{scene.round_id}/verification-sample",
            json={"checkpoint": note},
            headers=FACILITATOR,
        )
    ).json()
    first, second, *rest = sample["allocation_ids"]
    base = f"/rounds/{scene.round_id}/verifications"
    fine = {"received": True, "full": True, "asked_to_pay": False, "respectful": True}
    ok = await client.post(f"{base}/{first}", json=fine, headers=FACILITATOR)
    assert ok.status_code == 201, ok.text
    assert ok.json()["discrepancies"] == [] and ok.json()["complaint_id"] is None
    twice = await client.post(f"{base}/{first}", json=fine, headers=FACILITATOR)
    assert twice.status_code == 409 and twice.json()["error"] == "verification_exists"
    outsider = await client.post(f"{base}/{scene.undelivered}", json=fine, headers=FACILITATOR)
    assert outsider.status_code == 409 and outsider.json()["error"] == "not_in_sample"
    muddled = await client.post(
        f"{base}/{second}", json={**fine, "asked_to_pay": True}, headers=FACILITATOR
    )
    assert muddled.status_code == 422 and muddled.json()["error"] == "verification_inconsistent"

    pungli = {**fine, "asked_to_pay": True, "pay_band": "10k_50k", "note": NOTE}
    flagged = await client.post(f"{base}/{second}", json=pungli, headers=FACILITATOR)
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["discrepancies"] == ["asked_to_pay"]
    complaint_id = flagged.json()["complaint_id"]
    complaint = (await client.get(f"/complaints/{complaint_id}", headers=FACILITATOR)).json()
    assert (complaint["category"], complaint["anonymous"], complaint["status"]) == (
        "officer_conduct",
        True,
        "filed",
    )
    assert complaint["references"] == {"round_id": str(scene.round_id), "allocation_id": second}
    assert complaint["rw"] == scene.rws[next(a for a in scene.rws if str(a) == second)]
    assert "pungli" in complaint["history"][0]["description"]
    assert NOTE not in str(complaint)  # the facilitator's note stays with the verification

    for allocation in rest[:4]:
        missing = {"received": False, "asked_to_pay": False, "respectful": False}
        assert (
            await client.post(f"{base}/{allocation}", json=missing, headers=FACILITATOR)
        ).status_code == 201
    monitoring = (await client.get(f"/rounds/{scene.round_id}/verification")).json()
    assert monitoring["sample_size"] == 10 and monitoring["verified"] == 6
    assert monitoring["discrepancies"] == {
        "not_received": "<5" if len(rest[:4]) < 5 else 4,
        "not_full": "<5",
        "asked_to_pay": "<5",
        "disrespect": "<5",
    }
    for row in monitoring["per_rw"]:
        assert row["verified"] == "<5" or row["verified"] >= 5
        if row["sampled"] == "<5":
            assert row["verification_rate"] is None
    assert sum(1 for _ in monitoring["per_rw"]) == len(
        {scene.rws[a] for a in scene.rws if str(a) in sample["allocation_ids"]}
    )

    # Nothing of the note, and no allocation id in a public view, on the bus.
    async def on_the_bus() -> list[Any] | None:
        found = [
            decode(m.data)[0]
            for m in await stream_messages(nats_server.url)
            if m.subject.startswith("bansos.community.")
        ]
        return found if len(found) >= 1 + 6 + 1 else None

    from shared.events import public_view

    for envelope in await eventually(on_the_bus):
        assert NOTE not in envelope.canonical().decode()
        view = str(public_view(envelope))
        assert second not in view and first not in view


async def test_feedback_names_its_hand_over_by_receipt_code(
    client: httpx.AsyncClient, nats_server: NatsServer, database_url: str
) -> None:
    scene = await closed_round(client, nats_server.url)
    code = next(iter(scene.received.values()))
    # Announcements and hand-overs come by two consumers: a receipt's round is known by its
    # hand-over even while the announcement is still on its way (as if it were not yet here).
    engine = make_engine(database_url)
    announced = subjects.c.subject_id == scene.round_id

    async def announcement() -> dict[str, Any] | None:
        async with engine.connect() as connection:
            row = (await connection.execute(select(subjects).where(announced))).first()
        return row._asdict() if row else None

    try:
        row = await eventually(announcement)  # learnt (never learnt again), then taken away
        async with engine.begin() as connection:
            await connection.execute(delete(subjects).where(announced))
        rated = await client.post("/feedback", json={"receipt_code": code, "rating": 5})
        async with engine.begin() as connection:  # the announcement arrives
            await connection.execute(insert(subjects).values(row))
    finally:
        await engine.dispose()
    assert rated.status_code == 201, rated.text
    assert rated.json()["subject_id"] == str(scene.round_id)
    twice = await client.post("/feedback", json={"receipt_code": code, "rating": 1})
    assert twice.status_code == 409 and twice.json()["error"] == "receipt_rated"
    wrong = await client.post("/feedback", json={"receipt_code": "BT-2222-3333-4444", "rating": 3})
    assert wrong.status_code == 404 and wrong.json()["error"] == "receipt_unknown"
    assert "receipt code" in wrong.json()["message"]
    other = next(iter(list(scene.received.values())[1:]))
    elsewhere = await client.post(
        "/feedback",
        json={"receipt_code": other, "rating": 3, "subject_id": str(scene.undelivered)},
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["error"] == "receipt_other_round"
    nothing = await client.post("/feedback", json={"rating": 3})
    assert nothing.status_code == 422
    named = await client.post(
        "/feedback", json={"receipt_code": other, "rating": 4, "subject_id": str(scene.round_id)}
    )
    assert named.status_code == 201, named.text
    summary = (await client.get(f"/feedback/summary?subject_id={scene.round_id}")).json()
    assert summary["per_subject"][0]["ratings"] == "<5"
    # The code never leaves the service, only its commitment (sealed).
    messages = await stream_messages(nats_server.url)
    assert not any(code.encode() in m.data for m in messages)


async def test_a_hand_over_after_an_undelivered_visit_is_in_the_population(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    """No one at home on the first visit, handed over on the second: the closure counts it
    received, and so must the draw (else the round could never be sampled)."""
    keys = commitments(CommunitySettings())
    scene = await publish_closed_round(nats_server.url, keys, n=6, revisited=2)
    note, _ = checkpoint(scene.closure_seq)
    path = f"/rounds/{scene.round_id}/verification-sample"

    async def drawn() -> dict[str, Any] | None:
        reply = await client.post(path, json={"checkpoint": note}, headers=FACILITATOR)
        return reply.json() if reply.status_code == 201 else None

    sample = await eventually(drawn)
    assert sample["population"] == 6
    assert sorted(sample["allocation_ids"]) == sorted(str(a) for a in scene.received)
