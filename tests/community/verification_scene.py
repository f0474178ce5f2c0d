"""A closed round as distribution announces it on the stream, for the verification tests:
scheduled, hand-overs received (with receipt codes whose commitments the events carry;
the first `revisited` of them after a visit that found no one at home) and one
undelivered, then closed; the closure's stream sequence is kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

import nats

from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events import Envelope, EventPayload
from shared.events.distribution import (
    AidReceived,
    AidUndelivered,
    Posko,
    RoundClosed,
    RoundScheduled,
)
from shared.messaging import ensure_stream
from shared.pii import Commitments, bearer_code
from shared.settings import CommonSettings

BENEFIT = 600_000


@dataclass
class ClosedRound:
    round_id: UUID = field(default_factory=uuid4)
    received: dict[UUID, str] = field(default_factory=dict)  # allocation -> receipt code
    rws: dict[UUID, str] = field(default_factory=dict)
    undelivered: UUID = field(default_factory=uuid4)
    closure_seq: int = 0
    envelopes: list[Envelope] = field(default_factory=list)


def _wrap(payload: EventPayload, aggregate_id: UUID, actor: str, role: str) -> Envelope:
    return Envelope.wrap(
        payload, aggregate_id=aggregate_id, aggregate_version=1, actor=actor, actor_role=role
    )


async def publish_closed_round(
    nats_url: str, keys: Commitments, n: int = 12, revisited: int = 0
) -> ClosedRound:
    scene = ClosedRound()
    today = wib_today()
    rid = scene.round_id
    scene.envelopes.append(
        _wrap(
            RoundScheduled(
                programme="BLT",
                period=f"{today:%Y-%m}",
                budget_id=uuid4(),
                poskos=(
                    Posko(rw="03", place="Balai warga RW 03", on=today),
                    Posko(rw="04", place="Masjid RW 04", on=today),
                ),
            ),
            rid,
            "manager.dewi",
            "programme_manager",
        )
    )
    officer = uuid4()
    for i in range(n):
        allocation, code, rw = uuid4(), bearer_code("BT", 3), "03" if i % 3 else "04"
        scene.received[allocation], scene.rws[allocation] = code, rw
        if i < revisited:
            away = AidUndelivered(
                round_id=rid,
                programme="BLT",
                rw=rw,
                amount_idr=BENEFIT,
                officer_id=officer,
                reason="not_at_home",
            )
            scene.envelopes.append(_wrap(away, allocation, "petugas.rudi", "distribution_officer"))
        scene.envelopes.append(
            _wrap(
                AidReceived(
                    round_id=rid,
                    programme="BLT",
                    rw=rw,
                    amount_idr=BENEFIT,
                    officer_id=officer,
                    recipient_commitment=keys.nik(f"31740912036500{i:02d}"),
                    receipt_commitment=keys.receipt(code),
                    received_at=datetime.now(UTC),
                    place="Balai warga",
                    evidence_sha256=hashlib.sha256(code.encode()).hexdigest(),
                ),
                allocation,
                "petugas.rudi",
                "distribution_officer",
            )
        )
    scene.envelopes.append(
        _wrap(
            AidUndelivered(
                round_id=rid,
                programme="BLT",
                rw="03",
                amount_idr=BENEFIT,
                officer_id=officer,
                reason="not_at_home",
            ),
            scene.undelivered,
            "petugas.rudi",
            "distribution_officer",
        )
    )
    scene.envelopes.append(
        _wrap(
            RoundClosed(
                allocated=n + 1,
                received=n,
                undelivered=1,
                amount_allocated_idr=(n + 1) * BENEFIT,
                amount_received_idr=n * BENEFIT,
            ),
            rid,
            "manager.dewi",
            "programme_manager",
        )
    )
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, CommonSettings(nats_url=nats_url))
        for envelope in scene.envelopes:
            ack = await js.publish(envelope.subject, envelope.canonical())
        scene.closure_seq = ack.seq
    finally:
        await nc.close()
    return scene
