"""Distribution's commands, one named function each: the facts it reads, what it decides
and everything it writes, in one unit of work (shared/uow.py). Staff notes go to the
private store here; a receipt code goes to the recipient only (the reply), never stored.

Every handler is `retried`: none takes If-Match, so a concurrent append to its aggregate
is decided again on the new state (two rounds racing for one household, say)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from services.distribution import facts, private
from services.distribution.api.schemas import (
    BudgetIn,
    CertificateIn,
    EndorsementIn,
    ReceiptIn,
    RoundIn,
    TopUpIn,
    UndeliveredIn,
)
from services.distribution.domain.allocation import (
    Allocate,
    Allocation,
    ConfirmReceipt,
    ReportUndelivered,
    allocations,
)
from services.distribution.domain.budget import Budget, SetBudget, TopUp, budgets
from services.distribution.domain.ids import allocation_id, budget_id, officer_id
from services.distribution.domain.officer import Certify, Officer, officers
from services.distribution.domain.round import Close, Endorse, Round, Schedule, rounds
from services.distribution.errors import RECEIVED_AT_FUTURE
from shared import clock
from shared.domain import DomainError
from shared.events.distribution import Programme
from shared.pii import Commitments, bearer_code
from shared.uow import Outcome, UnitOfWork, retried

CLOCK_SKEW = timedelta(minutes=5)
# The code a recipient is handed at the hand-over ("bukti terima"), e.g. BT-7K3M-9QXP-2RTW:
# 60 random bits, so its commitment on the ledger cannot be matched by guessing codes.
RECEIPT_PREFIX, RECEIPT_GROUPS = "BT", 3


# --- budgets and officers ------------------------------------------------------------------
@retried
async def set_budget(uow: UnitOfWork, form: BudgetIn) -> Outcome[Budget]:
    command = SetBudget(
        programme=form.programme,
        period=form.period,
        amount_idr=form.amount_idr,
        benefit_idr=form.benefit_idr,
        package=tuple(form.package),
    )
    async with uow:
        return await uow.execute(
            budgets, budget_id(form.programme, form.period), command, must_exist=False
        )


@retried
async def top_up(
    uow: UnitOfWork, programme: Programme, period: str, form: TopUpIn
) -> Outcome[Budget]:
    async with uow:
        return await uow.execute(
            budgets, budget_id(programme, period), TopUp(amount_idr=form.amount_idr)
        )


@retried
async def certify_officer(
    uow: UnitOfWork, officer_sub: str, form: CertificateIn
) -> Outcome[Officer]:
    command = Certify(
        officer_sub=officer_sub,
        certificate_number=form.certificate_number,
        certified_on=form.certified_on,
        expires_on=form.expires_on,
        today=clock.today(),
    )
    async with uow:
        return await uow.execute(officers, officer_id(officer_sub), command, must_exist=False)


# --- rounds --------------------------------------------------------------------------------
@retried
async def schedule_round(uow: UnitOfWork, form: RoundIn) -> Outcome[Round]:
    async with uow:
        command = Schedule(
            programme=form.programme,
            period=form.period,
            budget_exists=await facts.budget_exists(uow.session, form.programme, form.period),
            poskos=tuple(form.poskos),
            today=clock.today(),
        )
        return await uow.create(rounds, uuid4(), command)


@retried
async def endorse_round(
    uow: UnitOfWork, round_id: UUID, form: EndorsementIn, keys: Commitments
) -> Outcome[Round]:
    note = private.commit_to(keys, form.note)
    command = Endorse(meeting_id=form.meeting_id, note_commitment=note.commitment if note else None)
    async with uow:
        outcome = await uow.execute(rounds, round_id, command)
        if note is not None:
            await private.keep_note(uow.session, outcome.events[0], form.note, note)
    return outcome


@retried
async def close_round(uow: UnitOfWork, round_id: UUID) -> Outcome[Round]:
    async with uow:
        totals = await facts.lock_round_totals(uow.session, round_id)
        return await uow.execute(rounds, round_id, Close(**totals))


# --- allocations and hand-overs ------------------------------------------------------------
@retried
async def allocate(uow: UnitOfWork, round_id: UUID, household_id: UUID) -> Outcome[Allocation]:
    async with uow:
        round_ = await facts.round_facts(uow.session, round_id)
        household = await facts.household(uow.session, household_id)
        # One allocation per programme, period and household: its id says which.
        allocation = allocation_id(round_.programme, round_.period, household_id)
        command = Allocate(round=round_, household=household)
        return await uow.execute(allocations, allocation, command, must_exist=False)


@retried
async def allocate_all(uow: UnitOfWork, round_id: UUID) -> list[Outcome[Allocation]]:
    """Every household the round may still take, in one transaction: all or none."""
    async with uow:
        round_ = await facts.round_facts(uow.session, round_id)
        commands = [
            (
                allocation_id(round_.programme, round_.period, household.household_id),
                Allocate(round=round_, household=household),
            )
            for household in await facts.allocatable(uow.session, round_)
        ]
        return await uow.execute_many(allocations, commands)


@dataclass(frozen=True)
class Handed:
    outcome: Outcome[Allocation]
    receipt_code: str  # for the recipient; its commitment is on the event, it is nowhere


@retried
async def confirm_receipt(
    uow: UnitOfWork, allocation_id: UUID, form: ReceiptIn, keys: Commitments
) -> Handed:
    """The caller is the officer handing over (their certificate is checked)."""
    now = datetime.now(UTC)
    received_at = (form.received_at or now).astimezone(UTC)
    if received_at > now + CLOCK_SKEW:
        raise DomainError(
            RECEIVED_AT_FUTURE, "received_at cannot be in the future", field="received_at"
        )
    code = bearer_code(RECEIPT_PREFIX, RECEIPT_GROUPS)
    async with uow:
        round_status, members = await facts.hand_over(uow.session, allocation_id)
        command = ConfirmReceipt(
            round_status=round_status,
            officer=await facts.officer(uow.session, uow.caller.actor, clock.day_of(received_at)),
            recipient_commitment=keys.nik(form.recipient_nik),
            member_commitments=tuple(members),
            receipt_commitment=keys.receipt(code),
            received_at=received_at,
            place=form.place,
            evidence_sha256=form.evidence_sha256,
            gps=form.gps,
        )
        outcome = await uow.execute(allocations, allocation_id, command)
    return Handed(outcome, code)


@retried
async def report_undelivered(
    uow: UnitOfWork, allocation_id: UUID, form: UndeliveredIn, keys: Commitments
) -> Outcome[Allocation]:
    """The caller is the officer who visited (their certificate is checked)."""
    note = private.commit_to(keys, form.note)
    async with uow:
        round_status, _ = await facts.hand_over(uow.session, allocation_id)
        command = ReportUndelivered(
            round_status=round_status,
            officer=await facts.officer(uow.session, uow.caller.actor, clock.today()),
            reason=form.reason,
            note_commitment=note.commitment if note else None,
        )
        outcome = await uow.execute(allocations, allocation_id, command)
        if note is not None:
            await private.keep_note(uow.session, outcome.events[0], form.note, note)
    return outcome
