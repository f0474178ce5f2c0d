"""What a course is after its events: sessions, seats, trainees and their progress.

Frozen values; `course.evolve` makes the next one from an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from services.training.errors import ENROLMENT_NOT_FOUND
from shared.domain import DomainError
from shared.events.training import Category, Session

Status = Literal["enrolled", "waitlisted", "withdrawn", "completed"]
WithdrawalReason = Literal["work", "health", "moved", "family", "no_show", "other"]
BusinessStatus = Literal["none", "planning", "started", "running", "closed"]


@dataclass(frozen=True)
class Trainee:
    enrolment_id: UUID
    household_id: UUID
    member_commitment: str
    priority: bool
    status: Status
    attended: frozenset[UUID] = frozenset()
    followed_up: frozenset[int] = frozenset()  # months after the course


@dataclass(frozen=True)
class Course:
    opened: bool = False
    category: Category = "handicraft"
    capacity: int = 0
    threshold_pct: int = 75
    sessions: tuple[Session, ...] = ()
    trainees: tuple[Trainee, ...] = ()  # in enrolment order
    completed: int = 0

    @property
    def seated(self) -> int:
        return sum(1 for t in self.trainees if t.status in ("enrolled", "completed"))

    def trainee(self, enrolment_id: UUID) -> Trainee:
        for t in self.trainees:
            if t.enrolment_id == enrolment_id:
                return t
        raise DomainError(
            ENROLMENT_NOT_FOUND,
            f"no enrolment {enrolment_id} in this course",
            field="enrolment_id",
        )

    def next_in_line(self) -> Trainee | None:
        """Eligible households first, then in the order they applied."""
        waiting = [t for t in self.trainees if t.status == "waitlisted"]
        return min(waiting, key=lambda t: not t.priority) if waiting else None

    @property
    def ends_on(self) -> date | None:
        """The day of the last session: the course has ended once it is held."""
        return max((s.on for s in self.sessions), default=None)

    def attendance_pct(self, trainee: Trainee) -> int:
        held = {s.session_id for s in self.sessions}
        return round(100 * len(trainee.attended & held) / len(held)) if held else 0
