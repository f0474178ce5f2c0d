"""A round: one programme's aid for a period, at one posko per covered RW, endorsed by the
community before any hand-over, closed with its totals. A pure decider."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from services.distribution.domain.ids import budget_id
from services.distribution.errors import (
    BUDGET_REQUIRED,
    POSKO_DATE_PAST,
    POSKO_OUTSIDE_PERIOD,
    POSKOS_REQUIRED,
    ROUND_CLOSED,
    ROUND_ENDORSED,
    ROUND_EXISTS,
    RW_REPEATED,
)
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.distribution import (
    Posko,
    Programme,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
)
from shared.uow import Decider

RoundStatus = Literal["new", "scheduled", "endorsed", "closed"]


def period_contains(period: str, day: date) -> bool:
    """Whether a day falls in a period: a month (`2026-11`) or a quarter (`2026-Q4`)."""
    year, part = period.split("-")
    if day.year != int(year):
        return False
    if part.startswith("Q"):
        return (day.month - 1) // 3 + 1 == int(part[1:])
    return day.month == int(part)


@dataclass(frozen=True)
class Round:
    status: RoundStatus = "new"
    programme: Programme | None = None


@dataclass(frozen=True)
class Schedule:
    programme: Programme
    period: str
    budget_exists: bool  # read from the budgets read model in the command's transaction
    poskos: tuple[Posko, ...]
    today: date


@dataclass(frozen=True)
class Endorse:
    meeting_id: UUID | None = None
    note_commitment: str | None = None  # salted; the note stays in the service's store


@dataclass(frozen=True)
class Close:
    """The totals the round's read model holds, read with its row locked."""

    allocated: int
    received: int
    undelivered: int
    amount_allocated_idr: int
    amount_received_idr: int


Command = Schedule | Endorse | Close


def decide(state: Round, command: Command) -> list[EventPayload]:
    match command:
        case Schedule():
            return [_schedule(state, command)]
        case Endorse():
            _require_open(state)
            if state.status == "endorsed":
                raise DomainError(ROUND_ENDORSED, "the round is already endorsed")
            return [
                RoundEndorsed(
                    meeting_id=command.meeting_id, note_commitment=command.note_commitment
                )
            ]
        case Close():
            _require_open(state)
            return [
                RoundClosed(
                    allocated=command.allocated,
                    received=command.received,
                    undelivered=command.undelivered,
                    amount_allocated_idr=command.amount_allocated_idr,
                    amount_received_idr=command.amount_received_idr,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _schedule(state: Round, command: Schedule) -> RoundScheduled:
    if state.status != "new":
        raise DomainError(ROUND_EXISTS, "this round is already scheduled")
    if not command.budget_exists:
        raise DomainError(
            BUDGET_REQUIRED,
            f"{command.programme} {command.period} has no budget yet",
            field="period",
        )
    if not command.poskos:
        raise DomainError(POSKOS_REQUIRED, "a round covers at least one RW", field="poskos")
    rws = [p.rw for p in command.poskos]
    if len(set(rws)) != len(rws):
        raise DomainError(RW_REPEATED, "one posko per RW", field="poskos")
    if any(p.on < command.today for p in command.poskos):
        raise DomainError(POSKO_DATE_PAST, "a posko date is in the past", field="poskos")
    outside = [p for p in command.poskos if not period_contains(command.period, p.on)]
    if outside:
        raise DomainError(
            POSKO_OUTSIDE_PERIOD,
            f"the posko of RW {outside[0].rw} on {outside[0].on} is outside the "
            f"round's period {command.period}",
            field="poskos",
        )
    return RoundScheduled(
        programme=command.programme,
        period=command.period,
        budget_id=budget_id(command.programme, command.period),
        poskos=command.poskos,
    )


def _require_open(state: Round) -> None:
    # A round never scheduled is the unit of work's `round_not_found`, before deciding.
    if state.status == "closed":
        raise DomainError(ROUND_CLOSED, "the round is closed")


def evolve(state: Round, event: EventPayload) -> Round:
    match event:
        case RoundScheduled():
            return replace(state, status="scheduled", programme=event.programme)
        case RoundEndorsed():  # version 1 too: a subclass
            return replace(state, status="endorsed")
        case RoundClosed():
            return replace(state, status="closed")
    return state


rounds: Decider[Round, Command] = Decider("round", Round(), decide, evolve)
