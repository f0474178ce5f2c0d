"""The appeal (banding) of a household refused or dropped, and its SLA. A pure decider.

A resident files it (for their own household or on its behalf); the registry answers
through its events, which the community's consumers turn into the commands below: a
re-survey scheduled, the decision after it (upheld when the household is now eligible),
or no household matched. Those commands are idempotent and accept any order, since the
registry's answers arrive on separate consumers: an answer that no longer applies decides
nothing. The household is named only by commitments; the tracking code only by its
commitment; the description stays in the private store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from services.community.domain.complaint import SlaState, pending
from services.community.errors import APPEAL_EXISTS, APPEAL_HOUSEHOLD_REQUIRED
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.community_appeals import (
    AppealDecided,
    AppealFiled,
    AppealOutcome,
    AppealReason,
    AppealResurveyScheduled,
    AppealUnmatched,
)
from shared.uow import Decider

AppealStatus = Literal["new", "acknowledged", "resurvey_scheduled", "decided", "unmatched"]
OPEN: frozenset[str] = frozenset({"acknowledged", "resurvey_scheduled"})


# --- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Appeal:
    status: AppealStatus = "new"
    rw: str = ""
    reason: AppealReason = "other"


# --- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileAppeal:
    code_commitment: str
    reason: AppealReason
    rw: str
    nik_commitment: str | None = None
    kk_commitment: str | None = None
    description_commitment: str | None = None


@dataclass(frozen=True)
class ScheduleResurvey:
    """The registry matched the household and asked its operators to survey it again."""


@dataclass(frozen=True)
class Conclude:
    """The registry decided again after the re-survey."""

    outcome: AppealOutcome


@dataclass(frozen=True)
class MarkUnmatched:
    """No active household of the registry has the NIK or KK given."""


Command = FileAppeal | ScheduleResurvey | Conclude | MarkUnmatched


# --- rules ---------------------------------------------------------------------------------
def decide(state: Appeal, command: Command) -> list[EventPayload]:
    if isinstance(command, FileAppeal):
        return [_file(state, command)]
    known = {"rw": state.rw, "reason": state.reason}
    match command:
        case ScheduleResurvey():
            if state.status != "acknowledged":
                return []  # already scheduled, or answered before this arrived
            return [AppealResurveyScheduled(**known)]
        case Conclude():
            if state.status not in OPEN:
                return []
            return [AppealDecided(outcome=command.outcome, **known)]
        case MarkUnmatched():
            if state.status != "acknowledged":
                return []
            return [AppealUnmatched(**known)]
    raise TypeError(f"unknown command {command!r}")


def _file(state: Appeal, command: FileAppeal) -> AppealFiled:
    if state.status != "new":
        raise DomainError(APPEAL_EXISTS, "this appeal is already filed")
    if command.nik_commitment is None and command.kk_commitment is None:
        raise DomainError(
            APPEAL_HOUSEHOLD_REQUIRED,
            "give the head of the household's NIK or the KK number",
            field="head_nik",
        )
    return AppealFiled(
        code_commitment=command.code_commitment,
        reason=command.reason,
        rw=command.rw,
        nik_commitment=command.nik_commitment,
        kk_commitment=command.kk_commitment,
        description_commitment=command.description_commitment,
    )


def evolve(state: Appeal, event: EventPayload) -> Appeal:
    match event:
        case AppealFiled():
            return Appeal(status="acknowledged", rw=event.rw, reason=event.reason)
        case AppealResurveyScheduled():
            return replace(state, status="resurvey_scheduled")
        case AppealDecided():
            return replace(state, status="decided")
        case AppealUnmatched():
            return replace(state, status="unmatched")
    return state


appeals: Decider[Appeal, Command] = Decider("appeal", Appeal(), decide, evolve)


# --- the SLA -------------------------------------------------------------------------------
AppealSlaState = SlaState  # the same states as a complaint's


@dataclass(frozen=True)
class AppealSlaPolicy:
    decide_days: int = 30
    at_risk_share: float = 0.75  # of the time to the deadline, after which it is at risk


@dataclass(frozen=True)
class AppealSla:
    state: AppealSlaState
    decide_by: datetime


def appeal_sla(
    policy: AppealSlaPolicy, filed_at: datetime, closed_at: datetime | None, now: datetime
) -> AppealSla:
    """Answered (decided, or found to match no household) within the days allowed: met;
    answered late, or pending past them: breached; most of the time gone: at risk."""
    by = filed_at + timedelta(days=policy.decide_days)
    if closed_at is not None:
        return AppealSla("met" if closed_at <= by else "breached", by)
    return AppealSla(pending(filed_at, by, now, policy.at_risk_share), by)
