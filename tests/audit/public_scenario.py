"""A small programme in events, for the public page's tests: a sembako budget with its
package, a round with poskos in RW 03 (today), RW 04 (yesterday) and RW 05 (next week),
allocations and hand-overs (one with a known receipt code), a course with completions,
and complaints. Counts straddle five so that suppression shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from shared import clock
from shared.auth import Role
from shared.events import Envelope, EventPayload
from shared.events.community import ComplaintAcknowledged, ComplaintFiled, ComplaintResolved
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidUndelivered,
    PackageItem,
    Posko,
    ProgrammeBudgeted,
    RoundEndorsed,
    RoundScheduled,
)
from shared.events.training import CourseOpened, Session, TraineeEnrolled, TrainingCompleted
from shared.pii import Commitments

PACKAGE = (PackageItem(name="beras", quantity=10, unit="kg"),)
BENEFIT = 300_000
AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # day 2026-11-30 in Jakarta


def hexes(tag: int) -> str:
    return f"{tag:064x}"


def wrap(
    payload: EventPayload, aggregate_id: UUID, role: Role | str, at: datetime = AT
) -> Envelope:
    return Envelope.wrap(
        payload,
        aggregate_id=aggregate_id,
        aggregate_version=1,
        actor=f"someone.{role}",
        actor_role=str(role),
        occurred_at=at,
    )


@dataclass
class Scenario:
    """Every id and secret a test may look for in what the public sees."""

    receipt_code: str
    keys: Commitments
    today: date = field(default_factory=clock.today)
    round_id: UUID = field(default_factory=uuid4)
    budget_id: UUID = field(default_factory=uuid4)
    course_id: UUID = field(default_factory=uuid4)
    households: list[UUID] = field(default_factory=list)
    allocations: list[UUID] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # commitments, GPS: never public

    def events(self) -> list[Envelope]:
        out = [
            wrap(
                ProgrammeBudgeted(
                    programme="SEMBAKO",
                    period="2026-11",
                    amount_idr=100 * BENEFIT,
                    benefit_idr=BENEFIT,
                    package=PACKAGE,
                ),
                self.budget_id,
                Role.programme_manager,
            ),
            wrap(
                RoundScheduled(
                    programme="SEMBAKO",
                    period="2026-11",
                    budget_id=self.budget_id,
                    poskos=(
                        Posko(rw="03", place="Balai warga RW 03", on=self.today),
                        Posko(rw="04", place="Musala RW 04", on=self.today - timedelta(days=1)),
                        Posko(rw="05", place="Pos RW 05", on=self.today + timedelta(days=7)),
                    ),
                ),
                self.round_id,
                Role.programme_manager,
            ),
            wrap(RoundEndorsed(), self.round_id, Role.community_facilitator),
        ]
        # RW 03: 6 allocated, 5 received (the first with the known code), RW 04: 2 and 1.
        for rw, allocated, received in (("03", 6, 5), ("04", 2, 1)):
            for i in range(allocated):
                household, allocation = uuid4(), uuid4()
                self.households.append(household)
                self.allocations.append(allocation)
                out.append(
                    wrap(
                        AidAllocated(
                            round_id=self.round_id,
                            household_id=household,
                            programme="SEMBAKO",
                            amount_idr=BENEFIT,
                            package=PACKAGE,
                            rt="001",
                            rw=rw,
                            based_on_event_id=uuid4(),
                        ),
                        allocation,
                        Role.programme_manager,
                    )
                )
                if i >= received:
                    continue
                code = self.receipt_code if (rw, i) == ("03", 0) else f"BT-2222-2222-222{i + 2}"
                receipt = self.keys.receipt(code)
                recipient = self.keys.nik(f"31740912036500{i:02d}")
                self.secrets += [receipt, recipient]
                out.append(
                    wrap(
                        AidReceived(
                            round_id=self.round_id,
                            programme="SEMBAKO",
                            rw=rw,
                            amount_idr=BENEFIT,
                            officer_id=uuid4(),
                            recipient_commitment=recipient,
                            receipt_commitment=receipt,
                            received_at=AT,
                            place="Rumah Bu Sri, Gg. Mawar 3",
                            evidence_sha256=hexes(100 + i),
                            gps=(-6.3123, 106.8456),
                        ),
                        allocation,
                        Role.distribution_officer,
                    )
                )
        out.append(
            wrap(
                AidUndelivered(
                    round_id=self.round_id,
                    programme="SEMBAKO",
                    rw="04",
                    amount_idr=BENEFIT,
                    officer_id=uuid4(),
                    reason="moved",
                ),
                self.allocations[-1],
                Role.distribution_officer,
            )
        )
        out += self._training() + self._complaints()
        return out

    def _training(self) -> list[Envelope]:
        out = [
            wrap(
                CourseOpened(
                    category="handicraft",
                    title="Menjahit dasar",
                    sessions=(Session(session_id=uuid4(), on=self.today, place="Balai RW 03"),),
                    capacity=20,
                ),
                self.course_id,
                Role.training_coordinator,
            )
        ]
        for i in range(6):
            enrolment, household = uuid4(), uuid4()
            out.append(
                wrap(
                    TraineeEnrolled(
                        enrolment_id=enrolment,
                        household_id=household,
                        member_commitment=hexes(200 + i),
                        rw="03",
                    ),
                    self.course_id,
                    Role.training_coordinator,
                )
            )
            if i < 5:
                out.append(
                    wrap(
                        TrainingCompleted(
                            enrolment_id=enrolment,
                            member_commitment=hexes(200 + i),
                            certificate_number=f"SERT-{i}",
                            attendance_pct=90,
                        ),
                        self.course_id,
                        Role.training_coordinator,
                    )
                )
        return out

    def _complaints(self) -> list[Envelope]:
        """Eight filed in RW 03 30 days ago, one in RW 04 today; two of them resolved."""
        out, long_ago = [], datetime.combine(self.today - timedelta(days=30), AT.timetz())
        ids = [uuid4() for _ in range(9)]
        for i, complaint in enumerate(ids):
            out.append(
                wrap(
                    ComplaintFiled(
                        ticket_commitment=hexes(300 + i),
                        category="distribution",
                        description_commitment=hexes(400 + i),
                        rw="03" if i < 8 else "04",
                        anonymous=True,
                    ),
                    complaint,
                    "public",
                    long_ago if i < 8 else AT,
                )
            )
        for complaint in ids[:2]:
            out.append(wrap(ComplaintAcknowledged(), complaint, Role.community_facilitator))
            out.append(
                wrap(
                    ComplaintResolved(outcome="upheld", resolution_commitment=hexes(500)),
                    complaint,
                    Role.community_facilitator,
                )
            )
        return out
