"""The oversight fold's state, the leaf being folded, and how a finding is raised: what the
parts of the fold (registry, rounds, distribution, community, training) share. Mutable and
owned by one fold (`fold.Oversight`), never shared, so the fold stays a pure function of
the leaves it was given."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from services.audit.domain.oversight.allocations import Allocations
from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.households import Households
from services.audit.domain.oversight.records import (
    AllocationRecord,
    BudgetRecord,
    Certificate,
    ComplaintRecord,
    CourseRecord,
    EnrolmentRecord,
    RoundRecord,
)


@dataclass(frozen=True)
class Leaf:
    """The leaf being folded, as a rule cites it and a timeline shows it."""

    index: int
    aggregate: UUID  # the envelope's aggregate
    kind: str  # the event type
    at: datetime  # the envelope's occurred_at
    day: str  # its Jakarta day


@dataclass(eq=False)
class State:
    size: int = 0  # leaves folded
    now: datetime | None = None  # the latest leaf's time
    # Households, their members and the timelines of every subject; allocations and what
    # their hand-overs left: in the fold's own store (households.py, allocations.py).
    households: Households = field(default_factory=Households)
    allocations: Allocations = field(init=False)
    rounds: dict[UUID, RoundRecord] = field(default_factory=dict)
    budgets: dict[UUID, BudgetRecord] = field(default_factory=dict)
    certificates: defaultdict[UUID, list[Certificate]] = field(
        default_factory=lambda: defaultdict(list)
    )
    complaints: dict[UUID, ComplaintRecord] = field(default_factory=dict)
    courses: dict[UUID, CourseRecord] = field(default_factory=dict)
    enrolments: dict[UUID, EnrolmentRecord] = field(default_factory=dict)
    raised: list[Finding] = field(default_factory=list)  # judged as their leaf was folded
    erasures: int = 0  # audit.leaves_erased leaves seen
    unjudged: list[int] = field(default_factory=list)  # leaves the fold could not take in

    def __post_init__(self) -> None:
        self.allocations = Allocations(self.households.connection)

    def on_timeline(self, household: UUID, leaf: Leaf) -> None:
        self.households.on_timeline(household, leaf.index, leaf.kind, leaf.day)

    def timeline(self, household: UUID) -> list[tuple[int, str, str]]:
        """(index, type, day) of every folded leaf about the household, in index order."""
        return self.households.timeline(household)

    def raise_for(
        self,
        rule: str,
        r: RoundRecord | None,
        a: AllocationRecord | None,
        day: str,
        description: str,
        evidence: tuple[int, ...],
        subjects: tuple[UUID, ...],
    ) -> None:
        """A finding placed by its allocation (else its round)."""
        place = {
            "rw": a.rw if a else None,
            "programme": a.programme if a else r.programme if r else None,
            "round_id": a.round_id if a else r.round_id if r else None,
        }
        self.raise_at(rule, place, r, day, description, evidence, subjects)

    def raise_at(
        self,
        rule: str,
        place: dict[str, Any],
        r: RoundRecord | None,
        day: str,
        description: str,
        evidence: tuple[int, ...],
        subjects: tuple[UUID, ...],
    ) -> None:
        self.raised.append(
            Finding(
                rule=rule,
                rw=place["rw"],
                programme=place["programme"],
                period=r.period if r else None,
                round_id=place["round_id"],
                day=day,
                description=description,
                evidence=tuple(sorted(set(evidence))),
                subjects=subjects,
            )
        )
