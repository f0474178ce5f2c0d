"""Distribution's read models on SQLite and PostgreSQL, without HTTP or a broker: events in,
rows out; a rebuild from the event store equals the live read models; the constraints
that stand for rules answer with their codes; and the two invariants the projections hold
across aggregates, tried against the deciders' backs and under concurrency:

- a budget never goes below zero (`projections.charge_budget`);
- a hand-over only in an endorsed round (`projections.count_hand_over`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.distribution import handlers, projections
from services.distribution.api.schemas import (
    BudgetIn,
    CertificateIn,
    EndorsementIn,
    ReceiptIn,
    RoundIn,
    TopUpIn,
    UndeliveredIn,
)
from services.distribution.domain.ids import budget_id, officer_id
from services.distribution.service import SERVICE
from services.registry import published
from shared import eventstore
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.db import make_engine, migrate, sessionmaker
from shared.domain import DomainError
from shared.events import Envelope, EventPayload
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidUndelivered,
    OfficerCertified,
    Posko,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
)
from shared.events.registry import EligibilityDecided, HouseholdRegistered, MemberFacts
from shared.pii import Commitments, commitments
from shared.settings import CommonSettings
from shared.uow import Caller, UnitOfWork

TODAY = wib_today()
PERIOD = f"{TODAY:%Y-%m}"
BENEFIT = 600_000
EVIDENCE = "9f" * 32
MANAGER = Caller(actor="manager.dewi", role="programme_manager")
FACILITATOR = Caller(actor="facilitator.yusuf", role="community_facilitator")
OFFICER = Caller(actor="officer.rudi", role="distribution_officer")
KEYS: Commitments = commitments(CommonSettings())


@dataclass
class Db:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def work(self, caller: Caller = MANAGER) -> UnitOfWork:
        """A command's unit of work, as the service's runtime makes it."""
        return UnitOfWork(
            self.sessions,
            SERVICE.project,
            caller,
            constraints=SERVICE.constraints,
            metadata=SERVICE.metadata,
        )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine = make_engine(database_url)
    await migrate(engine, [SERVICE.migrations])
    yield Db(engine, sessionmaker(engine))
    await engine.dispose()


# --- givens ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Home:
    household_id: UUID
    niks: tuple[str, ...]


async def home(db: Db, rw: str = "03", members: int = 2) -> Home:
    """A household the registry registered and decided eligible, as its events reach
    this service's copy of the households (services/registry/published.py)."""
    hid = uuid4()
    niks = tuple(f"3174{uuid4().int % 10**12:012d}" for _ in range(members))
    facts = tuple(
        MemberFacts(
            member_id=uuid4(),
            nik_commitment=KEYS.nik(nik),
            sex="M",
            birth_year=1980,
            relationship="head" if i == 0 else "child",
            disabled=False,
        )
        for i, nik in enumerate(niks)
    )
    registered = HouseholdRegistered(
        rt="005",
        rw=rw,
        kk_commitment=KEYS.kk(f"3174{uuid4().int % 10**12:012d}"),
        members=facts,
        monthly_income_idr=300_000,
    )
    decided = EligibilityDecided(
        eligible=True,
        reasons=("low_income",),
        rt="005",
        rw=rw,
        member_commitments=tuple(m.nik_commitment for m in facts),
        policy_version="test",
    )
    async with db.sessions() as session, session.begin():
        for version, event in enumerate((registered, decided), start=1):
            envelope = Envelope.wrap(event, aggregate_id=hid, aggregate_version=version, actor="t")
            await published.on_registry_event(session, envelope, event)
    return Home(hid, niks)


async def budget(db: Db, households: int) -> None:
    form = BudgetIn(
        programme="BLT", period=PERIOD, amount_idr=BENEFIT * households, benefit_idr=BENEFIT
    )
    await handlers.set_budget(db.work(), form)


async def certify(db: Db, sub: str = "officer.rudi", number: str = "SERT-1") -> None:
    form = CertificateIn(certificate_number=number, certified_on=TODAY, expires_on=date.max)
    await handlers.certify_officer(db.work(), sub, form)


async def round_(db: Db, *, endorse: bool = True) -> UUID:
    form = RoundIn(programme="BLT", period=PERIOD, poskos=[Posko(rw="03", place="P", on=TODAY)])
    round_id = (await handlers.schedule_round(db.work(), form)).events[0].aggregate_id
    if endorse:
        await handlers.endorse_round(db.work(FACILITATOR), round_id, EndorsementIn(), KEYS)
    return round_id


def receipt(nik: str) -> ReceiptIn:
    return ReceiptIn(recipient_nik=nik, place="Posko RW 03", evidence_sha256=EVIDENCE)


async def row(db: Db, table: Any, key: Any, value: Any) -> Any:
    async with db.sessions() as session:
        return (await session.execute(select(table).where(key == value))).one()


async def project(db: Db, events: Sequence[tuple[UUID, EventPayload]], actor: str = "t") -> None:
    """Events in, as the unit of work stores them: appended, then projected."""
    versions: dict[UUID, int] = {}
    async with db.sessions() as session, session.begin():
        envelopes = []
        for aggregate_id, payload in events:
            if aggregate_id not in versions:
                versions[aggregate_id] = await eventstore.current_version(session, aggregate_id)
            versions[aggregate_id] += 1
            envelopes.append(
                Envelope.wrap(
                    payload,
                    aggregate_id=aggregate_id,
                    aggregate_version=versions[aggregate_id],
                    actor=actor,
                )
            )
        await eventstore.append(session, envelopes)
        await projections.project(session, envelopes)


def allocated(round_id: UUID, household: UUID, amount: int = BENEFIT) -> AidAllocated:
    return AidAllocated(
        round_id=round_id,
        household_id=household,
        programme="BLT",
        amount_idr=amount,
        rt="005",
        rw="03",
        based_on_event_id=uuid4(),
    )


def received(round_id: UUID) -> AidReceived:
    return AidReceived(
        round_id=round_id,
        programme="BLT",
        rw="03",
        amount_idr=BENEFIT,
        officer_id=officer_id("officer.rudi"),
        recipient_commitment=KEYS.nik("3174091203650001"),
        receipt_commitment=KEYS.receipt("BT-AAAA-BBBB-CCCC"),
        received_at=datetime.now(UTC),
        place="Posko RW 03",
        evidence_sha256=EVIDENCE,
    )


def scheduled() -> RoundScheduled:
    return RoundScheduled(
        programme="BLT",
        period=PERIOD,
        budget_id=budget_id("BLT", PERIOD),
        poskos=(Posko(rw="03", place="P", on=TODAY),),
    )


def budgeted(amount: int) -> ProgrammeBudgeted:
    return ProgrammeBudgeted(programme="BLT", period=PERIOD, amount_idr=amount, benefit_idr=BENEFIT)


# --- each read model from its events ---------------------------------------------------------
async def test_a_budget_row_adds_its_top_ups(db: Db) -> None:
    bid = budget_id("BLT", PERIOD)
    top_up = ProgrammeBudgeted(programme="BLT", period=PERIOD, amount_idr=50, kind="top_up")
    await project(db, [(bid, budgeted(1_000_000)), (bid, top_up)])
    got = await row(db, projections.budgets, projections.budgets.c.budget_id, bid)
    assert (got.total_idr, got.allocated_idr, got.benefit_idr, got.version) == (
        1_000_050,
        0,
        BENEFIT,
        2,
    )


async def test_a_certificate_row_per_certificate_recorded(db: Db) -> None:
    sub = "officer.rudi"
    certified = OfficerCertified(
        officer_sub=sub, certificate_number="C-7", certified_on=TODAY, expires_on=date.max
    )
    await project(db, [(officer_id(sub), certified)])
    got = await row(db, projections.certificates, projections.certificates.c.officer_sub, sub)
    assert (got.certificate_number, got.officer_id, got.expires_on) == (
        "C-7",
        officer_id(sub),
        date.max,
    )


async def test_a_round_row_follows_its_schedule_endorsement_and_closure(db: Db) -> None:
    rid = uuid4()
    await project(db, [(rid, scheduled())])
    r = projections.rounds
    got = await row(db, r, r.c.round_id, rid)
    assert (got.status, got.allocated, got.endorsed_by, got.poskos[0]["rw"]) == (
        "scheduled",
        0,
        None,
        "03",
    )
    await project(db, [(rid, RoundEndorsed())], actor="facilitator.yusuf")
    got = await row(db, r, r.c.round_id, rid)
    assert (got.status, got.endorsed_by, got.version) == ("endorsed", "facilitator.yusuf", 2)
    closing = RoundClosed(
        allocated=0, received=0, undelivered=0, amount_allocated_idr=0, amount_received_idr=0
    )
    await project(db, [(rid, closing)])
    assert (await row(db, r, r.c.round_id, rid)).status == "closed"


async def test_allocations_charge_the_budget_and_hand_overs_count_in_the_round(db: Db) -> None:
    bid, rid = budget_id("BLT", PERIOD), uuid4()
    first, second = uuid4(), uuid4()
    await project(db, [(bid, budgeted(BENEFIT * 5)), (rid, scheduled()), (rid, RoundEndorsed())])
    await project(db, [(first, allocated(rid, uuid4())), (second, allocated(rid, uuid4()))])
    not_at_home = AidUndelivered(
        round_id=rid,
        programme="BLT",
        rw="03",
        amount_idr=BENEFIT,
        officer_id=officer_id("officer.rudi"),
        reason="not_at_home",
    )
    await project(db, [(first, received(rid)), (second, not_at_home)])
    r, a = projections.rounds, projections.allocations
    got = await row(db, r, r.c.round_id, rid)
    assert (got.allocated, got.received, got.undelivered) == (2, 1, 1)
    assert (got.amount_allocated_idr, got.amount_received_idr) == (2 * BENEFIT, BENEFIT)
    assert (await row(db, a, a.c.allocation_id, second)).status == "undelivered"
    # Visited again, and found at home: no longer counted undelivered.
    await project(db, [(second, received(rid))])
    got = await row(db, r, r.c.round_id, rid)
    assert (got.received, got.undelivered) == (2, 0)
    b = projections.budgets
    assert (await row(db, b, b.c.budget_id, bid)).allocated_idr == 2 * BENEFIT


async def test_a_rebuild_from_the_event_store_equals_the_live_read_models(db: Db) -> None:
    homes = [await home(db) for _ in range(3)]
    await budget(db, households=3)
    await handlers.top_up(db.work(), "BLT", PERIOD, TopUpIn(amount_idr=50_000))
    await certify(db)
    rid = await round_(db)
    await handlers.allocate_all(db.work(), rid)
    first, second, _ = [await allocation_id_of(db, rid, h) for h in homes]
    await handlers.confirm_receipt(db.work(OFFICER), first, receipt(homes[0].niks[1]), KEYS)
    await handlers.report_undelivered(
        db.work(OFFICER), second, UndeliveredIn(reason="moved", note="pindah"), KEYS
    )
    before = await snapshot(db)
    assert len(before["allocations"]) == 3
    async with db.sessions() as session, session.begin():
        replayed = await projections.rebuild(session)
    assert replayed == 1 + 1 + 1 + 1 + 1 + 3 + 2  # budget, top-up, certificate, round,
    # endorsement, allocations, hand-overs
    assert await snapshot(db) == before


async def allocation_id_of(db: Db, round_id: UUID, h: Home) -> UUID:
    a = projections.allocations
    async with db.sessions() as session:
        found = await session.scalar(
            select(a.c.allocation_id).where(
                a.c.round_id == round_id, a.c.household_id == h.household_id
            )
        )
    assert found is not None
    return UUID(str(found))


async def snapshot(db: Db) -> dict[str, list[Any]]:
    """The service's own read models, row order and paging positions aside."""
    tables = (
        projections.budgets,
        projections.certificates,
        projections.rounds,
        projections.allocations,
    )
    async with db.sessions() as session:
        return {
            t.name: sorted(
                (tuple(v for k, v in r._mapping.items() if k != "seq") for r in rows), key=repr
            )
            for t in tables
            for rows in [await session.execute(select(t))]
        }


# --- constraints that stand for rules, by name ------------------------------------------------
def test_every_named_constraint_is_one_of_the_tables() -> None:
    names = set()
    for meta in SERVICE.metadata:
        for table in meta.tables.values():
            for c in table.constraints:
                columns = "_".join(col.name for col in c.columns)
                if isinstance(c, PrimaryKeyConstraint):
                    names.add(c.name if isinstance(c.name, str) else f"{table.name}_pkey")
                elif isinstance(c, UniqueConstraint):
                    names.add(c.name if isinstance(c.name, str) else f"{table.name}_{columns}_key")
    assert set(projections.CONSTRAINTS) <= names


async def test_a_certificate_number_is_one_officers(db: Db) -> None:
    await certify(db, "officer.rudi", "SERT-42")
    with pytest.raises(DomainError) as err:
        await certify(db, "officer.agus", "SERT-42")  # another officer's decider: the key says no
    assert (err.value.code, err.value.status, err.value.field) == (
        "certificate_recorded",
        409,
        "certificate_number",
    )


async def test_a_household_twice_in_one_round_is_already_allocated(db: Db) -> None:
    bid, rid, household = budget_id("BLT", PERIOD), uuid4(), uuid4()
    await project(db, [(bid, budgeted(BENEFIT * 5)), (rid, scheduled())])
    uow = db.work()
    with pytest.raises(DomainError) as err:
        async with uow:  # two allocation aggregates for one household: past every decider
            twice = [
                Envelope.wrap(
                    allocated(rid, household), aggregate_id=uuid4(), aggregate_version=1, actor="t"
                )
                for _ in range(2)
            ]
            await projections.project(uow.session, twice)
    assert (err.value.code, err.value.status) == ("already_allocated", 409)


# --- invariant: a budget never goes below zero ------------------------------------------------
async def test_a_budget_never_goes_below_zero_whatever_the_events_say(db: Db) -> None:
    bid, rid = budget_id("BLT", PERIOD), uuid4()
    await project(db, [(bid, budgeted(BENEFIT * 2)), (rid, scheduled())])
    # Three allocations in one transaction, past the deciders: the charge refuses them all.
    with pytest.raises(DomainError) as err:
        await project(db, [(uuid4(), allocated(rid, uuid4())) for _ in range(3)])
    assert (err.value.code, err.value.status) == ("budget_exceeded", 409)
    assert f"{BENEFIT * 2} IDR left" in err.value.message
    b, r = projections.budgets, projections.rounds
    assert (await row(db, b, b.c.budget_id, bid)).allocated_idr == 0
    assert (await row(db, r, r.c.round_id, rid)).allocated == 0
    # What fits is charged, to the last rupiah, and then nothing more.
    await project(db, [(uuid4(), allocated(rid, uuid4())) for _ in range(2)])
    with pytest.raises(DomainError) as err:
        await project(db, [(uuid4(), allocated(rid, uuid4(), amount=1))])
    assert (err.value.code, err.value.message.startswith("the budget has 0 IDR left")) == (
        "budget_exceeded",
        True,
    )
    got = await row(db, b, b.c.budget_id, bid)
    assert got.total_idr - got.allocated_idr == 0


async def test_a_budget_never_goes_below_zero_under_concurrent_allocations(db: Db) -> None:
    homes = [await home(db) for _ in range(8)]
    await budget(db, households=3)
    rid = await round_(db, endorse=False)

    async def one(h: Home) -> str:
        try:
            await handlers.allocate(db.work(), rid, h.household_id)
        except DomainError as refused:
            return refused.code
        return "allocated"

    async def bulk() -> str:
        try:
            await handlers.allocate_all(db.work(), rid)
        except DomainError as refused:
            return refused.code
        return "allocated"

    results = await asyncio.gather(*(one(h) for h in homes), bulk(), bulk())
    assert set(results) <= {"allocated", "budget_exceeded", "already_allocated"}, results
    b, r = projections.budgets, projections.rounds
    got = await row(db, b, b.c.budget_id, budget_id("BLT", PERIOD))
    assert (got.total_idr, got.allocated_idr) == (3 * BENEFIT, 3 * BENEFIT)
    assert (await row(db, r, r.c.round_id, rid)).allocated == 3
    async with db.sessions() as session:
        rows = (await session.execute(select(projections.allocations))).all()
    assert len(rows) == len({x.household_id for x in rows}) == 3


# --- invariant: a hand-over only in an endorsed round ------------------------------------------
@pytest.mark.parametrize("status", ["scheduled", "closed"])
async def test_a_hand_over_only_in_an_endorsed_round_whatever_the_events_say(
    db: Db, status: str
) -> None:
    bid, rid, aid = budget_id("BLT", PERIOD), uuid4(), uuid4()
    await project(db, [(bid, budgeted(BENEFIT * 5)), (rid, scheduled())])
    await project(db, [(aid, allocated(rid, uuid4()))])
    if status == "closed":
        closing = RoundClosed(
            allocated=1,
            received=0,
            undelivered=0,
            amount_allocated_idr=BENEFIT,
            amount_received_idr=0,
        )
        await project(db, [(rid, RoundEndorsed()), (rid, closing)])
    with pytest.raises(DomainError) as err:  # past the allocation's decider
        await project(db, [(aid, received(rid))])
    assert (err.value.code, err.value.status) == ("round_not_open", 409)
    r, a = projections.rounds, projections.allocations
    assert (await row(db, r, r.c.round_id, rid)).received == 0
    assert (await row(db, a, a.c.allocation_id, aid)).status == "allocated"


async def test_a_hand_over_racing_the_closure_is_counted_in_it_or_refused(db: Db) -> None:
    homes = [await home(db) for _ in range(6)]
    await budget(db, households=6)
    await certify(db)
    rid = await round_(db)
    await handlers.allocate_all(db.work(), rid)
    ids = [await allocation_id_of(db, rid, h) for h in homes]

    async def hand_over(aid: UUID, h: Home) -> str:
        try:
            await handlers.confirm_receipt(db.work(OFFICER), aid, receipt(h.niks[0]), KEYS)
        except DomainError as refused:
            return refused.code
        return "received"

    *outcomes, closed = await asyncio.gather(
        *(hand_over(aid, h) for aid, h in zip(ids, homes, strict=True)),
        handlers.close_round(db.work(), rid),
    )
    assert set(outcomes) <= {"received", "round_closed", "round_not_open"}, outcomes
    handed = outcomes.count("received")
    [closure] = closed.events
    assert closure.payload["received"] == handed  # every hand-over before it, none after
    assert closure.payload["amount_received_idr"] == handed * BENEFIT
    r = projections.rounds
    got = await row(db, r, r.c.round_id, rid)
    assert (got.status, got.received) == ("closed", handed)
