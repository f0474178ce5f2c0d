"""The mentoring-case commands, one named function each, in one unit of work apiece: what a
facilitator wrote goes to the private store beside the salt of the commitment the event
carries; the day is the programme's (`shared.clock.today`)."""

from __future__ import annotations

from uuid import UUID, uuid4

from services.community import private
from services.community.api.cases_schemas import (
    AnswerIn,
    CaseIn,
    CloseIn,
    ReferralIn,
    VisitIn,
    VisitPlanIn,
)
from services.community.domain.case import (
    AnswerReferral,
    Case,
    Close,
    Command,
    Open,
    PlanVisit,
    RecordVisit,
    Refer,
    cases,
)
from shared import clock
from shared.pii import Commitments
from shared.uow import Outcome, UnitOfWork, retried


async def _run(
    uow: UnitOfWork,
    case_id: UUID,
    command: Command,
    text: private.Written | None,
    *,
    new: bool = False,
) -> Outcome[Case]:
    async with uow:
        outcome = await uow.execute(cases, case_id, command, must_exist=not new)
        await private.keep_text(uow.session, outcome.events[0], text)
    return outcome


def _commitment(text: private.Written | None) -> str | None:
    return text.commitment if text else None


@retried
async def open_case(uow: UnitOfWork, form: CaseIn, keys: Commitments) -> Outcome[Case]:
    note = private.optional(keys, "note", form.note)
    command = Open(
        subject=form.subject,
        reason=form.reason,
        household_id=form.household_id,
        member_id=form.member_id,
        course_id=form.course_id,
        complaint_id=form.complaint_id,
        rw=form.rw,
        today=clock.today(),
        opened_on=form.opened_on,
        note_commitment=_commitment(note),
    )
    return await _run(uow, uuid4(), command, note, new=True)


@retried
async def plan_visit(uow: UnitOfWork, case_id: UUID, form: VisitPlanIn) -> Outcome[Case]:
    command = PlanVisit(planned_on=form.planned_on, kind=form.kind)
    return await _run(uow, case_id, command, None)


@retried
async def record_visit(
    uow: UnitOfWork, case_id: UUID, form: VisitIn, keys: Commitments
) -> Outcome[Case]:
    note = private.optional(keys, "note", form.note)
    command = RecordVisit(
        visited_on=form.visited_on,
        kind=form.kind,
        today=clock.today(),
        plan_index=form.plan_index,
        findings=tuple(form.findings),
        needs=tuple(form.needs),
        next_steps=tuple(form.next_steps),
        business_running=form.business_running,
        income_band=form.income_band,
        note_commitment=_commitment(note),
    )
    return await _run(uow, case_id, command, note)


@retried
async def refer(
    uow: UnitOfWork, case_id: UUID, form: ReferralIn, keys: Commitments, sla_days: int
) -> Outcome[Case]:
    reason = private.optional(keys, "reason", form.reason)
    command = Refer(
        office=form.office,
        today=clock.today(),
        sla_days=sla_days,
        reason_commitment=_commitment(reason),
    )
    return await _run(uow, case_id, command, reason)


@retried
async def answer_referral(
    uow: UnitOfWork, case_id: UUID, index: int, form: AnswerIn, keys: Commitments
) -> Outcome[Case]:
    note = private.optional(keys, "answer", form.note)
    command = AnswerReferral(
        index=index, answer=form.answer, today=clock.today(), note_commitment=_commitment(note)
    )
    return await _run(uow, case_id, command, note)


@retried
async def close_case(
    uow: UnitOfWork, case_id: UUID, form: CloseIn, keys: Commitments
) -> Outcome[Case]:
    note = private.optional(keys, "note", form.note)
    command = Close(outcome=form.outcome, today=clock.today(), note_commitment=_commitment(note))
    return await _run(uow, case_id, command, note)
