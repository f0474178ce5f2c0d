"""Ledgers in miniature for the oversight tests: a clean BLT round in RW 03 that raises no
finding, and the means to bend it so that exactly one rule should fire."""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from services.audit.domain.oversight import Oversight
from services.distribution.domain.ids import officer_id
from shared.events import Envelope, EventPayload, public_view
from shared.events.community import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintReferences,
    ComplaintResolved,
)
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidUndelivered,
    OfficerCertified,
    Posko,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
)
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    MemberFacts,
    SurveyRecorded,
)
from shared.events.training import (
    AttendanceRecorded,
    CourseOpened,
    Session,
    TraineeEnrolled,
    TrainingCompleted,
)

# The posko day: 30 November 2026, 10:00 WIB is 03:00 UTC.
POSKO_DAY = date(2026, 11, 30)
MORNING = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
BENEFIT = 600_000


def hexes(tag: int) -> str:
    return f"{tag:064x}"


@dataclass
class Scene:
    """Leaves in order; each `add` returns the new leaf's index."""

    leaves: list[tuple[Envelope | None, dict[str, Any]]] = field(default_factory=list)
    clock: datetime = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)

    def add(
        self, payload: EventPayload, aggregate: UUID, at: datetime | None = None, actor: str = "x"
    ) -> int:
        if at is None:
            self.clock += timedelta(minutes=1)
            at = self.clock
        envelope = Envelope.wrap(
            payload, aggregate_id=aggregate, aggregate_version=1, actor=actor, occurred_at=at
        )
        self.leaves.append((envelope, public_view(envelope)))
        return len(self.leaves) - 1

    def erase(self, index: int) -> None:
        """The leaf's content erased: only its public view is left."""
        self.leaves[index] = (None, self.leaves[index][1])

    def fold(self) -> Oversight:
        state = Oversight()
        for i, (envelope, public) in enumerate(self.leaves):
            state.apply(i, envelope, public)
        return state

    def rules(self) -> dict[str, int]:
        return self.fold().finding_counts()

    def fold_counting_heap(self) -> tuple[Oversight, int]:
        """The fold, and the bytes of Python objects it keeps (its stores flushed; their
        SQLite page cache is not Python's, and is bounded on its own)."""
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            fold = self.fold()
            fold.households.flush()
            fold.allocations.flush()
            gc.collect()
            return fold, tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()


@dataclass
class Round:
    """A budget, a certified officer, an endorsed round with a posko in RW 03."""

    scene: Scene
    budget_id: UUID = field(default_factory=uuid4)
    round_id: UUID = field(default_factory=uuid4)
    officer: UUID = field(default_factory=lambda: officer_id("petugas.rudi"))
    budget_idr: int = 10 * BENEFIT
    endorse: bool = True
    certified: bool = True
    poskos: tuple[Posko, ...] = (Posko(rw="03", place="Balai warga RW 03", on=POSKO_DAY),)
    indices: dict[str, int] = field(default_factory=dict)

    def set_up(self) -> Round:
        s = self.scene
        self.indices["budget"] = s.add(
            ProgrammeBudgeted(
                programme="BLT", period="2026-11", amount_idr=self.budget_idr, benefit_idr=BENEFIT
            ),
            self.budget_id,
        )
        if self.certified:
            self.indices["certificate"] = s.add(
                OfficerCertified(
                    officer_sub="petugas.rudi",
                    certificate_number="SERT-1",
                    certified_on=date(2026, 1, 1),
                    expires_on=date(2026, 12, 31),
                ),
                self.officer,
            )
        self.indices["scheduled"] = s.add(
            RoundScheduled(
                programme="BLT", period="2026-11", budget_id=self.budget_id, poskos=self.poskos
            ),
            self.round_id,
        )
        if self.endorse:
            self.indices["endorsed"] = s.add(RoundEndorsed(), self.round_id)
        return self

    def close(self, **totals: int) -> int:
        return self.scene.add(RoundClosed(**totals), self.round_id)


@dataclass
class Household:
    scene: Scene
    household_id: UUID = field(default_factory=uuid4)
    allocation_id: UUID = field(default_factory=uuid4)
    nik: str = hexes(1)
    rw: str = "03"
    indices: dict[str, int] = field(default_factory=dict)

    def register(self, eligible: bool = True, survey: bool = True) -> Household:
        s = self.scene
        member = MemberFacts(
            member_id=uuid4(),
            nik_commitment=self.nik,
            sex="F",
            birth_year=1980,
            relationship="head",
            disabled=False,
        )
        self.indices["registered"] = s.add(
            HouseholdRegistered(
                rt="005",
                rw=self.rw,
                kk_commitment=hexes(2),
                members=(member,),
                monthly_income_idr=1_200_000,
            ),
            self.household_id,
        )
        if survey:
            self.indices["surveyed"] = s.add(
                SurveyRecorded(
                    survey_id=uuid4(),
                    surveyed_on=date(2026, 11, 1),
                    answers={},
                    pmt_score=20,
                    formula_version="2026.1",
                ),
                self.household_id,
            )
        self.indices["decided"] = s.add(
            EligibilityDecided(
                eligible=eligible,
                reasons=("desil_1_4",),
                rt="005",
                rw=self.rw,
                policy_version="2026.1",
            ),
            self.household_id,
        )
        return self

    def deactivate(self) -> int:
        index = self.scene.add(HouseholdDeactivated(reason="moved"), self.household_id)
        self.indices["deactivated"] = index
        return index

    def allocate(self, r: Round, amount: int = BENEFIT, rw: str | None = None) -> int:
        index = self.scene.add(
            AidAllocated(
                round_id=r.round_id,
                household_id=self.household_id,
                programme="BLT",
                amount_idr=amount,
                rt="005",
                rw=rw or self.rw,
                based_on_event_id=uuid4(),
            ),
            self.allocation_id,
        )
        self.indices["allocated"] = index
        return index

    def receive(
        self,
        r: Round,
        *,
        received_at: datetime = MORNING,
        recorded_at: datetime | None = None,
        evidence: str | None = None,
        place: str = "Balai warga RW 03",
        recipient: str | None = None,
        officer: UUID | None = None,
    ) -> int:
        index = self.scene.add(
            AidReceived(
                round_id=r.round_id,
                programme="BLT",
                rw=self.rw,
                amount_idr=BENEFIT,
                officer_id=officer or r.officer,
                recipient_commitment=recipient or self.nik,
                receipt_commitment=hexes(uuid4().int % 2**200),
                received_at=received_at,
                place=place,
                evidence_sha256=evidence or hexes(uuid4().int % 2**200),
            ),
            self.allocation_id,
            at=recorded_at or received_at + timedelta(minutes=5),
        )
        self.indices["received"] = index
        return index

    def undelivered(self, r: Round) -> int:
        return self.scene.add(
            AidUndelivered(
                round_id=r.round_id,
                programme="BLT",
                rw=self.rw,
                amount_idr=BENEFIT,
                officer_id=r.officer,
                reason="not_at_home",
            ),
            self.allocation_id,
            at=MORNING,
        )


def complaint(
    scene: Scene,
    filed: datetime,
    acknowledged: datetime | None = None,
    resolved: datetime | None = None,
    household: UUID | None = None,
) -> tuple[UUID, list[int]]:
    cid = uuid4()
    indices = [
        scene.add(
            ComplaintFiled(
                ticket_commitment=hexes(6),
                category="distribution",
                description_commitment=hexes(7),
                rw="03",
                anonymous=True,
                references=ComplaintReferences(household_id=household),
            ),
            cid,
            at=filed,
        )
    ]
    if acknowledged is not None:
        indices.append(scene.add(ComplaintAcknowledged(), cid, at=acknowledged))
    if resolved is not None:
        indices.append(
            scene.add(
                ComplaintResolved(outcome="upheld", resolution_commitment=hexes(8)),
                cid,
                at=resolved,
            )
        )
    return cid, indices


def course(scene: Scene, h: Household, attended: int, sessions: int = 4) -> dict[str, Any]:
    """A course of `sessions` sessions; the member attends `attended`, then completes."""
    cid, eid = uuid4(), uuid4()
    held = [
        Session(session_id=uuid4(), on=POSKO_DAY + timedelta(days=d), place="Aula")
        for d in range(sessions)
    ]
    opened = scene.add(
        CourseOpened(category="handicraft", title="Anyaman", sessions=tuple(held), capacity=10),
        cid,
    )
    scene.add(
        TraineeEnrolled(
            enrolment_id=eid, household_id=h.household_id, member_commitment=h.nik, rw="03"
        ),
        cid,
    )
    present = [
        scene.add(
            AttendanceRecorded(
                session_id=s.session_id, enrolment_id=eid, member_commitment=h.nik, present=True
            ),
            cid,
        )
        for s in held[:attended]
    ]
    done = scene.add(
        TrainingCompleted(
            enrolment_id=eid,
            member_commitment=h.nik,
            certificate_number="C-1",
            attendance_pct=100,
        ),
        cid,
    )
    return {"opened": opened, "present": present, "completed": done, "enrolment_id": eid}
