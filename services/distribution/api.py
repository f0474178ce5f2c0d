"""Distribution HTTP API: budgets, officers, rounds, allocation, hand-over, queries (the
manifest is in manifest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from shared.api import caller, check_rw, fields, one, runtime, set_version
from shared.households import households
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.distribution import domain, notes
from services.distribution.notes import Note
from services.distribution.projections import allocations, budgets, certificates, rounds
from shared.auth import Principal, Role, require
from shared.domain import DomainError, NotFound
from shared.events.distribution import PackageItem, Posko, Programme, UndeliveredReason
from shared.pii import bearer_code, commitments

router = APIRouter()
Manager = Annotated[Principal, require(Role.programme_manager)]
Facilitator = Annotated[Principal, require(Role.community_facilitator)]
Officer = Annotated[Principal, require(Role.distribution_officer)]
READERS = (
    Role.programme_manager,
    Role.distribution_officer,
    Role.community_facilitator,
    Role.auditor,
)
Reader = Annotated[Principal, require(*READERS)]
PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"
CLOCK_SKEW = timedelta(minutes=5)
# The code a recipient is handed at the hand-over ("bukti terima"), e.g. BT-7K3M-9QXP-2RTW:
# 60 random bits, so its commitment on the ledger cannot be matched by guessing codes.
RECEIPT_PREFIX, RECEIPT_GROUPS = "BT", 3


# --- request bodies ------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BudgetIn(_Body):
    programme: Programme
    period: str = Field(pattern=PERIOD, examples=["2026-12", "2026-Q4"])
    amount_idr: int = Field(gt=0, le=10**13)
    benefit_idr: int = Field(gt=0, le=10**9, description="per household per round")
    package: list[PackageItem] = Field(default=[], max_length=30)


class TopUpIn(_Body):
    amount_idr: int = Field(gt=0, le=10**13)


class CertificateIn(_Body):
    certificate_number: str = Field(min_length=1, max_length=60)
    certified_on: date
    expires_on: date


class RoundIn(_Body):
    programme: Programme
    period: str = Field(pattern=PERIOD)
    poskos: list[Posko] = Field(min_length=1, max_length=30)


class EndorsementIn(_Body):
    meeting_id: UUID | None = Field(default=None, description="the community meeting, if any")
    note: str = Field(default="", max_length=500)


class AllocationIn(_Body):
    household_id: UUID


class ReceiptIn(_Body):
    recipient_nik: str = Field(pattern=r"^\d{16}$", description="typed from the recipient's KTP")
    received_at: datetime | None = Field(default=None, description="default: now")
    place: str = Field(min_length=1, max_length=120)
    evidence_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the photo or signature"
    )
    gps: (
        tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]
        | None
    ) = None


class UndeliveredIn(_Body):
    reason: UndeliveredReason
    note: str = Field(default="", max_length=500)


# --- facts read in the command's transaction -----------------------------------------------
async def _round(session: AsyncSession, round_id: UUID) -> domain.RoundFacts:
    row = (
        await session.execute(
            select(rounds, budgets.c.benefit_idr, budgets.c.package)
            .join(budgets, budgets.c.budget_id == rounds.c.budget_id)
            .where(rounds.c.round_id == round_id)
        )
    ).first()
    if row is None:
        raise NotFound("round_not_found", f"no round {round_id}", field="round_id")
    return domain.RoundFacts(
        round_id=round_id,
        status=row.status,
        programme=row.programme,
        period=row.period,
        rws=tuple(p["rw"] for p in row.poskos),
        benefit_idr=row.benefit_idr,
        package=tuple(PackageItem(**i) for i in row.package),
    )


def _household(row: Any) -> domain.EligibleHousehold:
    return domain.EligibleHousehold(
        household_id=row.household_id,
        active=row.active,
        eligible=row.eligible,
        rt=row.rt,
        rw=row.rw,
        member_commitments=tuple(row.member_commitments),
        decided_by_event_id=row.decided_by_event_id,
    )


async def _officer(session: AsyncSession, sub: str, on: date) -> domain.OfficerFacts:
    until = await session.scalar(
        select(func.max(certificates.c.expires_on)).where(
            certificates.c.officer_sub == sub,
            certificates.c.certified_on <= on,
            certificates.c.expires_on >= on,
        )
    )
    return domain.OfficerFacts(officer_id=domain.officer_id(sub), certified_until=until)


async def _allocation_row(session: AsyncSession, allocation_id: UUID) -> Any:
    row = (
        await session.execute(
            select(
                allocations, rounds.c.status.label("round_status"), households.c.member_commitments
            )
            .join(rounds, rounds.c.round_id == allocations.c.round_id)
            .join(households, households.c.household_id == allocations.c.household_id)
            .where(allocations.c.allocation_id == allocation_id)
        )
    ).first()
    if row is None:
        raise NotFound(
            "allocation_not_found", f"no allocation {allocation_id}", field="allocation_id"
        )
    return row


# --- budgets and officers ------------------------------------------------------------------
@router.post("/budgets", status_code=201, tags=["budgets"], summary="Budget a programme period")
async def set_budget(body: BudgetIn, request: Request, principal: Manager) -> dict[str, Any]:
    bid = domain.budget_id(body.programme, body.period)
    command = domain.SetBudget(
        body.programme, body.period, body.amount_idr, body.benefit_idr, tuple(body.package)
    )
    await runtime(request).commands.execute(
        domain.budgets, bid, command, caller(principal), must_exist=False
    )
    return await _budget(request, bid)


@router.post("/budgets/{programme}/{period}/top-ups", tags=["budgets"], summary="Add to a budget")
async def top_up(
    programme: Programme,
    period: Annotated[str, Path(pattern=PERIOD)],
    body: TopUpIn,
    request: Request,
    principal: Manager,
) -> dict[str, Any]:
    bid = domain.budget_id(programme, period)
    await runtime(request).commands.execute(
        domain.budgets, bid, domain.TopUp(body.amount_idr), caller(principal)
    )
    return await _budget(request, bid)


async def _budget(request: Request, bid: UUID) -> dict[str, Any]:
    query = _budget_query().where(budgets.c.budget_id == bid)
    return await one(request, query, NotFound("budget_not_found", f"no budget {bid}"))


def _budget_query() -> Any:
    b = budgets.c
    return select(
        b.budget_id,
        b.programme,
        b.period,
        b.total_idr,
        b.allocated_idr,
        (b.total_idr - b.allocated_idr).label("remaining_idr"),
        b.benefit_idr,
        b.package,
    )


@router.get("/budgets", tags=["budgets"], summary="Budgets with what remains of each")
async def list_budgets(
    request: Request, principal: Reader, programme: Programme | None = None
) -> list[dict[str, Any]]:
    query = _budget_query().order_by(budgets.c.period, budgets.c.programme)
    if programme is not None:
        query = query.where(budgets.c.programme == programme)
    async with runtime(request).reads() as session:
        return [dict(r._mapping) for r in await session.execute(query)]


@router.post(
    "/officers/{officer_sub}/certificates",
    status_code=201,
    tags=["officers"],
    summary="Record an officer's distribution certificate (after training)",
)
async def certify(
    officer_sub: Annotated[str, Path(min_length=1, max_length=120)],
    body: CertificateIn,
    request: Request,
    principal: Manager,
) -> dict[str, Any]:
    command = domain.Certify(
        officer_sub, body.certificate_number, body.certified_on, body.expires_on, date.today()
    )
    await runtime(request).commands.execute(
        domain.officers,
        domain.officer_id(officer_sub),
        command,
        caller(principal),
        must_exist=False,
    )
    return {
        "officer_sub": officer_sub,
        "officer_id": domain.officer_id(officer_sub),
        **body.model_dump(),
    }


@router.get("/officers", tags=["officers"], summary="Certificates, newest first")
async def list_certificates(request: Request, principal: Reader) -> list[dict[str, Any]]:
    today = date.today()
    async with runtime(request).reads() as session:
        rows = await session.execute(
            select(certificates).order_by(certificates.c.certified_on.desc())
        )
        return [
            {**r._mapping, "valid_today": r.certified_on <= today <= r.expires_on} for r in rows
        ]


# --- rounds --------------------------------------------------------------------------------
@router.post("/rounds", status_code=201, tags=["rounds"], summary="Schedule a round per RW")
async def schedule_round(
    body: RoundIn, request: Request, response: Response, principal: Manager
) -> dict[str, Any]:
    for i, posko in enumerate(body.poskos):
        check_rw(request.app.state.settings, posko.rw, f"poskos.{i}.rw")
    round_id = uuid4()

    async def command(session: AsyncSession) -> domain.Schedule:
        bid = domain.budget_id(body.programme, body.period)
        exists = await session.scalar(select(budgets.c.budget_id).where(budgets.c.budget_id == bid))
        return domain.Schedule(
            body.programme, body.period, exists is not None, tuple(body.poskos), date.today()
        )

    outcome = await runtime(request).commands.execute(
        domain.rounds, round_id, command, caller(principal), must_exist=False
    )
    response.headers["Location"] = f"/rounds/{round_id}"
    set_version(response, outcome.version)
    return await _round_reply(request, round_id)


@router.post("/rounds/{round_id}/endorsement", tags=["rounds"], summary="Community endorsement")
async def endorse(
    round_id: UUID, body: EndorsementIn, request: Request, principal: Facilitator
) -> dict[str, Any]:
    note = Note.of(commitments(request.app.state.settings), body.note)
    await runtime(request).commands.execute(
        domain.rounds,
        round_id,
        domain.Endorse(body.meeting_id, note.commitment),
        caller(principal),
        also=note.keep,
    )
    return await _round_reply(request, round_id)


@router.post("/rounds/{round_id}/closure", tags=["rounds"], summary="Close a round, with totals")
async def close_round(round_id: UUID, request: Request, principal: Manager) -> dict[str, Any]:
    async def command(session: AsyncSession) -> domain.Close:
        # Locks the round's row: a hand-over committing meanwhile is counted, a later one
        # finds the round closed.
        row = (
            await session.execute(
                select(rounds).where(rounds.c.round_id == round_id).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("round_not_found", f"no round {round_id}", field="round_id")
        return domain.Close(
            row.allocated,
            row.received,
            row.undelivered,
            row.amount_allocated_idr,
            row.amount_received_idr,
        )

    await runtime(request).commands.execute(domain.rounds, round_id, command, caller(principal))
    return await _round_reply(request, round_id)


def _round_query() -> Any:
    return select(rounds, notes.latest(rounds.c.round_id).label("endorsement_note"))


async def _round_reply(request: Request, round_id: UUID) -> dict[str, Any]:
    missing = NotFound("round_not_found", f"no round {round_id}", field="round_id")
    return await one(request, _round_query().where(rounds.c.round_id == round_id), missing)


@router.get("/rounds", tags=["rounds"], summary="Rounds, newest first")
async def list_rounds(
    request: Request,
    principal: Reader,
    programme: Programme | None = None,
    status: Literal["scheduled", "endorsed", "closed"] | None = None,
) -> list[dict[str, Any]]:
    query = _round_query().order_by(rounds.c.seq.desc())
    if programme is not None:
        query = query.where(rounds.c.programme == programme)
    if status is not None:
        query = query.where(rounds.c.status == status)
    async with runtime(request).reads() as session:
        return [fields(r) for r in await session.execute(query)]


@router.get("/rounds/{round_id}", tags=["rounds"], summary="One round with its counters")
async def get_round(round_id: UUID, request: Request, principal: Reader) -> dict[str, Any]:
    return await _round_reply(request, round_id)


@router.get("/rounds/{round_id}/summary", tags=["rounds"], summary="Totals, per RW")
async def round_summary(round_id: UUID, request: Request, principal: Reader) -> dict[str, Any]:
    overall = await _round_reply(request, round_id)
    a = allocations.c
    query = (
        select(
            a.rw, a.status, func.count().label("households"), func.sum(a.amount_idr).label("idr")
        )
        .where(a.round_id == round_id)
        .group_by(a.rw, a.status)
        .order_by(a.rw)
    )
    per_rw: dict[str, dict[str, int]] = {}
    async with runtime(request).reads() as session:
        for rw, status, count, idr in await session.execute(query):
            entry = per_rw.setdefault(
                rw,
                {
                    "allocated": 0,
                    "received": 0,
                    "undelivered": 0,
                    "pending": 0,
                    "amount_allocated_idr": 0,
                    "amount_received_idr": 0,
                },
            )
            entry["allocated"] += count
            entry["amount_allocated_idr"] += int(idr)
            key = {"allocated": "pending"}.get(status, status)
            entry[key] += count
            if status == "received":
                entry["amount_received_idr"] += int(idr)
    keys = ("allocated", "received", "undelivered", "amount_allocated_idr", "amount_received_idr")
    return {
        "round_id": round_id,
        "programme": overall["programme"],
        "period": overall["period"],
        "status": overall["status"],
        **{k: overall[k] for k in keys},
        "pending": overall["allocated"] - overall["received"] - overall["undelivered"],
        "per_rw": [{"rw": rw, **v} for rw, v in sorted(per_rw.items())],
    }


# --- allocation and hand-over --------------------------------------------------------------
@router.post(
    "/rounds/{round_id}/allocations",
    status_code=201,
    tags=["allocations"],
    summary="Allocate aid to one eligible household",
)
async def allocate(
    round_id: UUID, body: AllocationIn, request: Request, response: Response, principal: Manager
) -> dict[str, Any]:
    async def command(session: AsyncSession) -> domain.Allocate:
        facts = await _round(session, round_id)
        row = (
            await session.execute(
                select(households).where(households.c.household_id == body.household_id)
            )
        ).first()
        return domain.Allocate(facts, _household(row) if row is not None else None)

    async with runtime(request).reads() as session:
        facts = await _round(session, round_id)  # the id is the programme's and period's
    allocation_id = domain.allocation_id(facts.programme, facts.period, body.household_id)
    await runtime(request).commands.execute(
        domain.allocations, allocation_id, command, caller(principal), must_exist=False
    )
    response.headers["Location"] = f"/allocations/{allocation_id}"
    return await _allocation_reply(request, allocation_id)


@router.post(
    "/rounds/{round_id}/allocations/bulk",
    tags=["allocations"],
    summary="Allocate to every eligible household in the round's RWs not yet allocated",
)
async def allocate_all(round_id: UUID, request: Request, principal: Manager) -> dict[str, Any]:
    async def commands(session: AsyncSession) -> list[tuple[UUID, domain.Allocate]]:
        facts = await _round(session, round_id)
        # Households with this programme for this period already, in any round.
        taken = (
            select(allocations.c.household_id)
            .join(rounds, rounds.c.round_id == allocations.c.round_id)
            .where(rounds.c.programme == facts.programme, rounds.c.period == facts.period)
        )
        rows = await session.execute(
            select(households)
            .where(
                households.c.rw.in_(facts.rws),
                households.c.active.is_(True),
                households.c.eligible.is_(True),
                households.c.decided_by_event_id.is_not(None),
                households.c.household_id.not_in(taken),
            )
            .order_by(households.c.rw, households.c.rt)
        )
        return [
            (
                domain.allocation_id(facts.programme, facts.period, r.household_id),
                domain.Allocate(facts, _household(r)),
            )
            for r in rows
        ]

    outcomes = await runtime(request).commands.execute_many(
        domain.allocations, commands, caller(principal)
    )
    amounts = [o.events[0].payload["amount_idr"] for o in outcomes]
    return {"round_id": round_id, "allocated": len(outcomes), "amount_idr": sum(amounts)}


@router.post(
    "/allocations/{allocation_id}/receipt",
    tags=["allocations"],
    summary="Confirm the hand-over (the officer, with the recipient's NIK and evidence)",
)
async def confirm_receipt(
    allocation_id: UUID, body: ReceiptIn, request: Request, principal: Officer
) -> dict[str, Any]:
    now = datetime.now(UTC)
    received_at = (body.received_at or now).astimezone(UTC)
    if received_at > now + CLOCK_SKEW:
        raise DomainError(
            "received_at_future", "received_at cannot be in the future", field="received_at"
        )
    committed = commitments(request.app.state.settings)
    recipient = committed.nik(body.recipient_nik)
    # For the recipient (slip or SMS), to find their aid in the public ledger: the code
    # goes out in this reply only; the event carries its commitment; nothing stores it.
    code = bearer_code(RECEIPT_PREFIX, RECEIPT_GROUPS)

    async def command(session: AsyncSession) -> domain.ConfirmReceipt:
        row = await _allocation_row(session, allocation_id)
        return domain.ConfirmReceipt(
            round_status=row.round_status,
            officer=await _officer(session, principal.sub, received_at.date()),
            recipient_commitment=recipient,
            member_commitments=tuple(row.member_commitments),
            receipt_commitment=committed.receipt(code),
            received_at=received_at,
            place=body.place,
            evidence_sha256=body.evidence_sha256,
            gps=body.gps,
        )

    await runtime(request).commands.execute(
        domain.allocations, allocation_id, command, caller(principal)
    )
    return {**await _allocation_reply(request, allocation_id), "receipt_code": code}


@router.post(
    "/allocations/{allocation_id}/undelivered",
    tags=["allocations"],
    summary="Report aid not handed over, with the reason",
)
async def report_undelivered(
    allocation_id: UUID, body: UndeliveredIn, request: Request, principal: Officer
) -> dict[str, Any]:
    note = Note.of(commitments(request.app.state.settings), body.note)

    async def command(session: AsyncSession) -> domain.ReportUndelivered:
        row = await _allocation_row(session, allocation_id)
        officer = await _officer(session, principal.sub, date.today())
        return domain.ReportUndelivered(row.round_status, officer, body.reason, note.commitment)

    await runtime(request).commands.execute(
        domain.allocations, allocation_id, command, caller(principal), also=note.keep
    )
    return await _allocation_reply(request, allocation_id)


async def _allocation_reply(request: Request, allocation_id: UUID) -> dict[str, Any]:
    query = select(
        allocations, notes.latest(allocations.c.allocation_id).label("undelivered_note")
    ).where(allocations.c.allocation_id == allocation_id)
    return await one(
        request, query, NotFound("allocation_not_found", f"no allocation {allocation_id}")
    )


@router.get("/allocations/{allocation_id}", tags=["allocations"], summary="One allocation")
async def get_allocation(
    allocation_id: UUID, request: Request, principal: Reader
) -> dict[str, Any]:
    return await _allocation_reply(request, allocation_id)
