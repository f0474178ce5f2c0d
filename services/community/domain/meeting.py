"""Outreach (sosialisasi) and focus-group meetings with their follow-up actions. A pure
decider, no I/O. Topics, aspirations and follow-ups are the community's voice, recorded on
the bus as written."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from services.community.errors import (
    ATTENDANCE_INCONSISTENT,
    FOLLOW_UP_NOT_FOUND,
    HELD_ON_FUTURE,
    MEETING_EXISTS,
)
from shared.domain import DomainError
from shared.errors import ATTENDANCE_EMPTY
from shared.events import EventPayload
from shared.events.community import (
    Attendance,
    FollowUp,
    FollowUpUpdated,
    MeetingHeld,
    TopicCode,
)
from shared.uow import Decider

MeetingKind = Literal["outreach", "focus_group"]
FollowUpStatus = Literal["open", "in_progress", "done"]


@dataclass(frozen=True)
class Meeting:
    held: bool = False
    follow_ups: tuple[FollowUpStatus, ...] = ()


@dataclass(frozen=True)
class Hold:
    kind: MeetingKind
    held_on: date
    rw: str
    attendance: Attendance
    topics: tuple[str, ...]
    aspirations: tuple[str, ...]
    follow_ups: tuple[FollowUp, ...]
    today: date
    topic_codes: tuple[TopicCode, ...] = ()


@dataclass(frozen=True)
class UpdateFollowUp:
    index: int
    status: FollowUpStatus


Command = Hold | UpdateFollowUp


def decide(state: Meeting, command: Command) -> list[EventPayload]:
    """A meeting never held does not get an UpdateFollowUp: the unit of work answers
    `meeting_not_found` for a command on an aggregate without history."""
    match command:
        case Hold():
            return [_hold(state, command)]
        case UpdateFollowUp():
            if not 0 <= command.index < len(state.follow_ups):
                raise DomainError(
                    FOLLOW_UP_NOT_FOUND,
                    f"the meeting has {len(state.follow_ups)} follow-up action(s)",
                    field="index",
                )
            if state.follow_ups[command.index] == command.status:
                return []
            return [FollowUpUpdated(index=command.index, status=command.status)]
    raise TypeError(f"unknown command {command!r}")


def _hold(state: Meeting, command: Hold) -> MeetingHeld:
    if state.held:
        raise DomainError(MEETING_EXISTS, "this meeting is already recorded")
    if command.held_on > command.today:
        raise DomainError(HELD_ON_FUTURE, "record a meeting once it was held", field="held_on")
    a = command.attendance
    if a.female + a.male == 0:
        raise DomainError(ATTENDANCE_EMPTY, "a meeting has attendees", field="attendance")
    if max(a.elderly, a.disabled, a.youth) > a.female + a.male:
        raise DomainError(
            ATTENDANCE_INCONSISTENT,
            "a group (elderly, disabled, youth) cannot outnumber all attendees",
            field="attendance",
        )
    return MeetingHeld(
        kind=command.kind,
        held_on=command.held_on,
        rw=command.rw,
        attendance=command.attendance,
        topics=command.topics,
        aspirations=command.aspirations,
        follow_ups=command.follow_ups,
        topic_codes=tuple(dict.fromkeys(command.topic_codes)),
    )


def evolve(state: Meeting, event: EventPayload) -> Meeting:
    match event:
        case MeetingHeld():
            return replace(state, held=True, follow_ups=tuple(f.status for f in event.follow_ups))
        case FollowUpUpdated():
            statuses = list(state.follow_ups)
            statuses[event.index] = event.status
            return replace(state, follow_ups=tuple(statuses))
    return state


meetings: Decider[Meeting, Command] = Decider("meeting", Meeting(), decide, evolve)
