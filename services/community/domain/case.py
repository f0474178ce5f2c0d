"""A mentoring case (pendampingan): a facilitator accompanies a household or a trainee,
plans and records visits, refers it to an office with an SLA, records the office's answer
and closes it with an outcome. A pure decider, no I/O, no clock: `today` comes with each
command.

What the facilitator wrote never reaches the decider: the handlers keep it in the private
store and pass its salted commitment. The household id is the registry's, taken as given
(the community keeps no copy of the registry's households)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal
from uuid import UUID

from services.community.errors import (
    BUSINESS_FOLLOW_UP_INCOMPLETE,
    CASE_CLOSED,
    CASE_EXISTS,
    COMPLAINT_REQUIRED,
    MEMBER_REQUIRED,
    OPENED_ON_FUTURE,
    PLANNED_VISIT_NOT_FOUND,
    REFERRAL_ANSWERED,
    REFERRAL_NOT_FOUND,
    REFERRAL_PENDING,
    VISIT_PLANNED_BEFORE_OPENING,
    VISITED_ON_FUTURE,
)
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.community_cases import (
    CaseClosed,
    CaseOpened,
    CaseOutcome,
    CaseReason,
    CaseReferred,
    CaseSubject,
    CaseVisitPlanned,
    CaseVisitRecorded,
    Finding,
    IncomeBand,
    Need,
    NextStep,
    Office,
    OfficeAnswer,
    ReferralAnswered,
    VisitKind,
)
from shared.uow import Decider

CaseStatus = Literal["new", "open", "closed"]


# --- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    planned_on: date
    kind: VisitKind
    done: bool = False


@dataclass(frozen=True)
class Referral:
    office: Office
    due_on: date
    answered: bool = False


@dataclass(frozen=True)
class Case:
    status: CaseStatus = "new"
    opened_on: date = date.min
    plans: tuple[Plan, ...] = ()
    referrals: tuple[Referral, ...] = ()


# --- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Open:
    subject: CaseSubject
    reason: CaseReason
    household_id: UUID
    rw: str
    today: date
    opened_on: date | None = None  # a case opened on paper earlier; None: today
    member_id: UUID | None = None
    course_id: UUID | None = None
    complaint_id: UUID | None = None
    note_commitment: str | None = None


@dataclass(frozen=True)
class PlanVisit:
    """A plan may be entered late from the posko's paper agenda: it is then overdue at
    once, as it should be."""

    planned_on: date
    kind: VisitKind


@dataclass(frozen=True)
class RecordVisit:
    visited_on: date
    kind: VisitKind
    today: date
    plan_index: int | None = None  # None: the earliest plan due by the visit's day, if any
    findings: tuple[Finding, ...] = ()
    needs: tuple[Need, ...] = ()
    next_steps: tuple[NextStep, ...] = ()
    business_running: bool | None = None
    income_band: IncomeBand | None = None
    note_commitment: str | None = None


@dataclass(frozen=True)
class Refer:
    office: Office
    today: date
    sla_days: int
    reason_commitment: str | None = None


@dataclass(frozen=True)
class AnswerReferral:
    index: int
    answer: OfficeAnswer
    today: date
    note_commitment: str | None = None


@dataclass(frozen=True)
class Close:
    outcome: CaseOutcome
    today: date
    note_commitment: str | None = None


Command = Open | PlanVisit | RecordVisit | Refer | AnswerReferral | Close


# --- rules ---------------------------------------------------------------------------------
def decide(state: Case, command: Command) -> list[EventPayload]:
    """A case never opened gets no other command: the unit of work answers
    `case_not_found` for a command on an aggregate without history."""
    if isinstance(command, Open):
        return [_open(state, command)]
    if state.status == "closed":
        raise DomainError(CASE_CLOSED, "the case is closed")
    match command:
        case PlanVisit():
            if command.planned_on < state.opened_on:
                raise DomainError(
                    VISIT_PLANNED_BEFORE_OPENING,
                    f"the case was opened on {state.opened_on}",
                    field="planned_on",
                )
            return [
                CaseVisitPlanned(
                    index=len(state.plans), planned_on=command.planned_on, kind=command.kind
                )
            ]
        case RecordVisit():
            return [_visit(state, command)]
        case Refer():
            if any(r.office == command.office and not r.answered for r in state.referrals):
                raise DomainError(
                    REFERRAL_PENDING,
                    f"{command.office} has not answered this case's last referral yet",
                    field="office",
                )
            return [
                CaseReferred(
                    index=len(state.referrals),
                    office=command.office,
                    referred_on=command.today,
                    due_on=command.today + timedelta(days=command.sla_days),
                    reason_commitment=command.reason_commitment,
                )
            ]
        case AnswerReferral():
            return [_answer(state, command)]
        case Close():
            if any(not r.answered for r in state.referrals):
                raise DomainError(
                    REFERRAL_PENDING,
                    "record the office's answer first (no_answer is an answer)",
                    field="outcome",
                )
            return [
                CaseClosed(
                    outcome=command.outcome,
                    closed_on=command.today,
                    note_commitment=command.note_commitment,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _open(state: Case, command: Open) -> CaseOpened:
    if state.status != "new":
        raise DomainError(CASE_EXISTS, "this case is already open")
    opened_on = command.opened_on or command.today
    if opened_on > command.today:
        raise DomainError(
            OPENED_ON_FUTURE, "a case is opened on a day that has come", field="opened_on"
        )
    if command.subject == "trainee" and command.member_id is None:
        raise DomainError(MEMBER_REQUIRED, "a trainee's case names the member", field="member_id")
    if command.reason == "complaint" and command.complaint_id is None:
        raise DomainError(
            COMPLAINT_REQUIRED,
            "a case opened after a complaint names the complaint",
            field="complaint_id",
        )
    return CaseOpened(
        subject=command.subject,
        reason=command.reason,
        household_id=command.household_id,
        member_id=command.member_id,
        course_id=command.course_id,
        complaint_id=command.complaint_id,
        rw=command.rw,
        opened_on=opened_on,
        note_commitment=command.note_commitment,
    )


def _visit(state: Case, command: RecordVisit) -> CaseVisitRecorded:
    if command.visited_on > command.today:
        raise DomainError(VISITED_ON_FUTURE, "record a visit once it was made", field="visited_on")
    business = command.kind == "business_follow_up"
    answered = command.business_running is not None and command.income_band is not None
    given = command.business_running is not None or command.income_band is not None
    if (business and not answered) or (not business and given):
        raise DomainError(
            BUSINESS_FOLLOW_UP_INCOMPLETE,
            "a business follow-up gives business_running and income_band; other visits neither",
            field="business_running",
        )
    index = command.plan_index
    if index is None:
        index = next(
            (
                i
                for i, p in enumerate(state.plans)
                if not p.done and p.planned_on <= command.visited_on
            ),
            None,
        )
    elif not (0 <= index < len(state.plans)) or state.plans[index].done:
        raise DomainError(
            PLANNED_VISIT_NOT_FOUND,
            f"no planned visit {index} still to make (the case has {len(state.plans)})",
            field="plan_index",
        )
    return CaseVisitRecorded(
        visited_on=command.visited_on,
        kind=command.kind,
        plan_index=index,
        findings=tuple(dict.fromkeys(command.findings)),
        needs=tuple(dict.fromkeys(command.needs)),
        next_steps=tuple(dict.fromkeys(command.next_steps)),
        business_running=command.business_running,
        income_band=command.income_band,
        note_commitment=command.note_commitment,
    )


def _answer(state: Case, command: AnswerReferral) -> ReferralAnswered:
    if not 0 <= command.index < len(state.referrals):
        raise DomainError(
            REFERRAL_NOT_FOUND,
            f"the case has {len(state.referrals)} referral(s)",
            field="index",
        )
    referral = state.referrals[command.index]
    if referral.answered:
        raise DomainError(REFERRAL_ANSWERED, f"{referral.office} has answered", field="index")
    return ReferralAnswered(
        index=command.index,
        office=referral.office,
        answer=command.answer,
        answered_on=command.today,
        note_commitment=command.note_commitment,
    )


def evolve(state: Case, event: EventPayload) -> Case:
    match event:
        case CaseOpened():
            return replace(state, status="open", opened_on=event.opened_on)
        case CaseVisitPlanned():
            return replace(state, plans=(*state.plans, Plan(event.planned_on, event.kind)))
        case CaseVisitRecorded() if event.plan_index is not None:
            plans = list(state.plans)
            plans[event.plan_index] = replace(plans[event.plan_index], done=True)
            return replace(state, plans=tuple(plans))
        case CaseReferred():
            return replace(
                state, referrals=(*state.referrals, Referral(event.office, event.due_on))
            )
        case ReferralAnswered():
            referrals = list(state.referrals)
            referrals[event.index] = replace(referrals[event.index], answered=True)
            return replace(state, referrals=tuple(referrals))
        case CaseClosed():
            return replace(state, status="closed")
    return state


cases: Decider[Case, Command] = Decider("case", Case(), decide, evolve)
