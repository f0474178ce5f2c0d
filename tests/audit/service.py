"""The audit service in-process against a real nats-server, and the events of a household
and its neighbours, for the API, erasure and cosignature tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
from fastapi import FastAPI

from services.audit.service import SERVICE
from services.audit.settings import AuditSettings
from shared.auth import Role
from shared.events import Envelope, EventPayload
from shared.events.community import ComplaintFiled, ComplaintReferences
from shared.events.distribution import AidAllocated, AidReceived
from shared.events.registry import EligibilityDecided, HouseholdRegistered, MemberFacts
from shared.events.training import AttendanceRecorded, TraineeEnrolled
from shared.messaging import ensure_stream
from shared.settings import CommonSettings
from tests.helpers import bearer, eventually, serve_app

AUDITOR = bearer(Role.auditor, "inspektorat.hasan")
ADMIN = bearer(Role.admin, "admin.dewi")
OPERATOR = bearer(Role.registry_operator, "operator.ani")


@dataclass
class Audit:
    client: httpx.AsyncClient
    app: FastAPI
    nats_url: str
    published: list[Envelope] = field(default_factory=list)

    async def publish(self, *messages: Envelope | tuple[str, bytes]) -> None:
        self.published += [m for m in messages if isinstance(m, Envelope)]
        await publish(self.nats_url, *messages)

    async def caught_up(self, size: int) -> dict[str, Any]:
        """Wait until a signed checkpoint covers `size` leaves; its JSON."""

        async def signed() -> dict[str, Any] | None:
            reply = await self.client.get("/ledger/checkpoint.json")
            found: dict[str, Any] = reply.json()
            return found if reply.status_code == 200 and found["tree_size"] >= size else None

        result: dict[str, Any] = await eventually(signed, within=30)
        return result

    async def entries(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start: int | None = 0
        while start is not None:
            page = (await self.client.get("/ledger/entries", params={"start": start})).json()
            out += page["entries"]
            start = page["next"]
        return out


async def publish(nats_url: str, *messages: Envelope | tuple[str, bytes]) -> None:
    """Onto the stream, in order: an envelope in its canonical bytes, or (subject, bytes)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, CommonSettings(nats_url=nats_url))
    for message in messages:
        if isinstance(message, Envelope):
            subject, body = message.subject, message.canonical()
        else:
            subject, body = message
        await js.publish(subject, body, headers={"Nats-Msg-Id": str(uuid4())})
    await nc.close()


@contextlib.asynccontextmanager
async def running(
    database_url: str, nats_url: str, data_dir: Path, **overrides: Any
) -> AsyncIterator[Audit]:
    settings = AuditSettings(
        database_url=database_url,
        nats_url=nats_url,
        audit_data_dir=data_dir,
        checkpoint_interval_s=0.05,
        **overrides,
    )
    app = SERVICE.app(settings)
    async with serve_app(app) as client:
        yield Audit(client, app, nats_url)


# --- events -----------------------------------------------------------------------------------
def hexes(tag: int) -> str:
    return f"{tag:064x}"


def wrap(payload: EventPayload, aggregate_id: UUID, actor: str, role: Role | str) -> Envelope:
    return Envelope.wrap(
        payload,
        aggregate_id=aggregate_id,
        aggregate_version=1,
        actor=actor,
        actor_role=str(role),
        occurred_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
    )


@dataclass(frozen=True)
class Household:
    """One household's trail across services: what an erasure of it must find."""

    household_id: UUID = field(default_factory=uuid4)
    allocation_id: UUID = field(default_factory=uuid4)
    enrolment_id: UUID = field(default_factory=uuid4)
    round_id: UUID = field(default_factory=uuid4)
    course_id: UUID = field(default_factory=uuid4)
    complaint_id: UUID = field(default_factory=uuid4)

    def events(self) -> list[Envelope]:
        operator, officer = "operator.ani", "officer.budi"
        member = MemberFacts(
            member_id=uuid4(),
            nik_commitment=hexes(1),
            sex="F",
            birth_year=1980,
            relationship="head",
            disabled=False,
        )
        return [
            wrap(
                HouseholdRegistered(
                    rt="005",
                    rw="03",
                    kk_commitment=hexes(2),
                    members=(member,),
                    monthly_income_idr=1_200_000,
                ),
                self.household_id,
                operator,
                Role.registry_operator,
            ),
            wrap(
                EligibilityDecided(
                    eligible=True,
                    reasons=("desil_1_4",),
                    rt="005",
                    rw="03",
                    policy_version="2026.1",
                ),
                self.household_id,
                operator,
                Role.registry_operator,
            ),
            wrap(
                AidAllocated(
                    round_id=self.round_id,
                    household_id=self.household_id,
                    programme="BLT",
                    amount_idr=600_000,
                    rt="005",
                    rw="03",
                    based_on_event_id=uuid4(),
                ),
                self.allocation_id,
                "manager.sri",
                Role.programme_manager,
            ),
            wrap(
                AidReceived(
                    round_id=self.round_id,
                    programme="BLT",
                    rw="03",
                    amount_idr=600_000,
                    officer_id=uuid4(),
                    recipient_commitment=hexes(3),
                    receipt_commitment=hexes(4),
                    received_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
                    place="Posko RW 03",
                    evidence_sha256=hexes(5),
                    gps=(-6.3123, 106.8456),
                ),
                self.allocation_id,
                officer,
                Role.distribution_officer,
            ),
            wrap(
                TraineeEnrolled(
                    enrolment_id=self.enrolment_id,
                    household_id=self.household_id,
                    member_commitment=hexes(1),
                    rw="03",
                ),
                self.course_id,
                "coordinator.eko",
                Role.training_coordinator,
            ),
            wrap(
                AttendanceRecorded(
                    session_id=uuid4(),
                    enrolment_id=self.enrolment_id,
                    member_commitment=hexes(1),
                    present=True,
                ),
                self.course_id,
                "coordinator.eko",
                Role.training_coordinator,
            ),
            wrap(
                ComplaintFiled(
                    ticket_commitment=hexes(6),
                    category="distribution",
                    description_commitment=hexes(7),
                    rw="03",
                    anonymous=True,
                    references=ComplaintReferences(household_id=self.household_id),
                ),
                self.complaint_id,
                "public",
                "public",
            ),
        ]
