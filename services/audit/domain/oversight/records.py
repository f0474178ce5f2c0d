"""What the oversight fold remembers of each aggregate: only what its rules, the
reconciliation, the times and the timelines need. Mutable records owned by one fold
(`Oversight`), never shared: the fold stays a pure function of the leaves it was given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID


@dataclass(slots=True)
class HouseholdRecord:
    """A household as the fold's store (`households.Households`) reads and writes it whole;
    its members, first allocations and timeline are kept beside it there."""

    rw: str | None = None
    registered_at: datetime | None = None
    active: bool = True
    deactivated_idx: int | None = None
    eligible: bool | None = None
    decision_idx: int | None = None
    first_survey_at: datetime | None = None
    first_eligible_at: datetime | None = None
    # The RW it counted in among the eligible when read: what `put` moves it from.
    counted: str | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class AllocationRecord:
    allocation_id: UUID
    household_id: UUID
    round_id: UUID
    programme: str
    rw: str
    amount_idr: int
    idx: int
    at: datetime
    status: str = "allocated"  # allocated | received | undelivered
    received_idx: int | None = None
    received_at: datetime | None = None  # the envelope's occurred_at


@dataclass(slots=True)
class Counts:
    """A round's figures in one RW."""

    allocated: int = 0
    allocated_idr: int = 0
    received: int = 0
    received_idr: int = 0
    undelivered: int = 0
    undelivered_idr: int = 0


@dataclass(slots=True)
class RoundRecord:
    round_id: UUID
    programme: str
    period: str
    budget_id: UUID
    poskos: dict[str, list[tuple[str, date]]]  # rw -> (place, day)
    scheduled_idx: int
    endorsed_idx: int | None = None
    closed_idx: int | None = None
    closed_day: str | None = None
    declared: dict[str, int | str] | None = None  # the closure's totals
    ledger_at_close: dict[str, int] | None = None
    eligible_at_close: dict[str, int] | None = None  # RW -> eligible households
    counts: dict[str, Counts] = field(default_factory=dict)
    unattributed_undelivered: int = 0  # erased leaves: their public view names no RW

    def rw(self, rw: str) -> Counts:
        return self.counts.setdefault(rw, Counts())


@dataclass(slots=True)
class BudgetRecord:
    budget_id: UUID
    programme: str
    period: str
    total_idr: int = 0
    benefit_idr: int | None = None
    indices: list[int] = field(default_factory=list)
    allocated_idr: int = 0
    exceeded: bool = False


@dataclass(frozen=True, slots=True)
class Certificate:
    certified_on: date
    expires_on: date
    idx: int


@dataclass(slots=True)
class ComplaintRecord:
    rw: str
    category: str
    filed_idx: int
    filed_at: datetime
    household_id: UUID | None = None
    acknowledged_idx: int | None = None
    acknowledged_at: datetime | None = None
    resolved_idx: int | None = None
    resolved_at: datetime | None = None


@dataclass(slots=True)
class CourseRecord:
    sessions: frozenset[UUID]
    threshold_pct: int
    opened_idx: int


@dataclass(slots=True)
class EnrolmentRecord:
    course_id: UUID
    household_id: UUID
    rw: str
    attended: dict[UUID, int] = field(default_factory=dict)  # session -> attendance leaf


@dataclass(frozen=True, slots=True)
class HandOver:
    """A hand-over as the officer-centred rules see it."""

    received_at: datetime
    place: str  # normalised for comparison; never shown
    idx: int
