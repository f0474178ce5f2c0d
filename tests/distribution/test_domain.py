"""The distribution deciders as given / when / then: events in, a command, events or errors out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from hashlib import sha256
from typing import get_args
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.distribution.domain.allocation import (
    RETRYABLE,
    Allocate,
    Allocated,
    Allocation,
    ConfirmReceipt,
    EligibleHousehold,
    OfficerFacts,
    ReportUndelivered,
    RoundFacts,
    allocations,
)
from services.distribution.domain.budget import Budget, SetBudget, TopUp, budgets
from services.distribution.domain.ids import allocation_id, budget_id, officer_id
from services.distribution.domain.officer import Certify, Officer, officers
from services.distribution.domain.round import (
    Close,
    Endorse,
    Round,
    RoundStatus,
    Schedule,
    period_contains,
    rounds,
)
from services.distribution.domain.round import Command as RoundCommand
from shared.domain import DomainError, fold
from shared.events import EventPayload
from shared.events.distribution import (
    AidAllocated,
    AidAllocatedV1,
    AidReceived,
    AidReceivedV1,
    AidUndelivered,
    AidUndeliveredV1,
    OfficerCertified,
    PackageItem,
    Posko,
    Programme,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundEndorsedV1,
    RoundScheduled,
    UndeliveredReason,
)

# A fixed day in the middle of its month: poskos a week on stay inside the period.
TODAY = date(2026, 11, 10)
PERIOD = f"{TODAY:%Y-%m}"
WIB = timezone(timedelta(hours=7))
EVIDENCE = "9f" * 32
PACKAGE = (
    PackageItem(name="beras", quantity=10, unit="kg"),
    PackageItem(name="minyak goreng", quantity=2, unit="liter"),
    PackageItem(name="telur", quantity=1, unit="kg"),
)
HEAD, SPOUSE, CHILD = "c0mm1t-head", "c0mm1t-spouse", "c0mm1t-child"


def hexdigest(label: str) -> str:
    """A stand-in commitment (64 hex digits): the same label gives the same one."""
    return sha256(label.encode()).hexdigest()


RECEIPT = hexdigest("receipt code BT-7K3M-9QXP-2RTW")
NOTE = hexdigest("salt + a staff note")
FINAL_REASONS: tuple[UndeliveredReason, ...] = ("moved", "deceased", "refused")


# --- budget builders -----------------------------------------------------------------------
def set_budget(
    programme: Programme = "BLT",
    amount: int = 60_000_000,
    benefit: int = 600_000,
    package: tuple[PackageItem, ...] = (),
) -> SetBudget:
    return SetBudget(
        programme=programme,
        period=PERIOD,
        amount_idr=amount,
        benefit_idr=benefit,
        package=package,
    )


def budgeted(programme: Programme = "BLT", amount: int = 60_000_000) -> ProgrammeBudgeted:
    return ProgrammeBudgeted(
        programme=programme,
        period=PERIOD,
        amount_idr=amount,
        benefit_idr=600_000 if programme == "BLT" else 250_000,
        package=() if programme == "BLT" else PACKAGE,
    )


def budget(*events: EventPayload) -> Budget:
    return fold(budgets.evolve, Budget(), events)


# --- officer builders ----------------------------------------------------------------------
def certify(
    number: str = "BNSP/DIST/2026/0001",
    certified_on: date = TODAY - timedelta(days=30),
    expires_on: date = TODAY + timedelta(days=335),
) -> Certify:
    return Certify(
        officer_sub="officer.rudi",
        certificate_number=number,
        certified_on=certified_on,
        expires_on=expires_on,
        today=TODAY,
    )


def certified(number: str = "BNSP/DIST/2026/0001") -> OfficerCertified:
    return OfficerCertified(
        officer_sub="officer.rudi",
        certificate_number=number,
        certified_on=TODAY - timedelta(days=30),
        expires_on=TODAY + timedelta(days=335),
    )


def officer(*events: EventPayload) -> Officer:
    return fold(officers.evolve, Officer(), events)


# --- round builders ------------------------------------------------------------------------
def posko(rw: str = "03", in_days: int = 7) -> Posko:
    return Posko(
        rw=rw, place=f"Posko RW {rw}, Jl. Tanjung Barat Raya", on=TODAY + timedelta(in_days)
    )


def schedule(*poskos: Posko, budget_exists: bool = True) -> Schedule:
    return Schedule(
        programme="SEMBAKO",
        period=PERIOD,
        budget_exists=budget_exists,
        poskos=poskos,
        today=TODAY,
    )


def scheduled(*poskos: Posko) -> RoundScheduled:
    return RoundScheduled(
        programme="SEMBAKO",
        period=PERIOD,
        budget_id=budget_id("SEMBAKO", PERIOD),
        poskos=poskos or (posko("03"), posko("04", in_days=8)),
    )


def endorsed() -> RoundEndorsed:
    return RoundEndorsed(meeting_id=uuid4(), note_commitment=NOTE)


def closed() -> RoundClosed:
    return RoundClosed(
        allocated=2,
        received=1,
        undelivered=1,
        amount_allocated_idr=500_000,
        amount_received_idr=250_000,
    )


def close_command() -> Close:
    return Close(
        allocated=120,
        received=113,
        undelivered=7,
        amount_allocated_idr=30_000_000,
        amount_received_idr=28_250_000,
    )


def round_(*events: EventPayload) -> Round:
    return fold(rounds.evolve, Round(), events)


# --- allocation builders -------------------------------------------------------------------
ROUND_ID = uuid4()
HOUSEHOLD_ID = uuid4()
DECIDED_BY = uuid4()
OFFICER_ID = officer_id("officer.rudi")


def round_facts(
    status: RoundStatus = "endorsed", rws: tuple[str, ...] = ("03", "04")
) -> RoundFacts:
    return RoundFacts(
        round_id=ROUND_ID,
        status=status,
        programme="SEMBAKO",
        period="2026-11",
        rws=rws,
        benefit_idr=250_000,
        package=PACKAGE,
    )


def household(
    *,
    active: bool = True,
    eligible: bool | None = True,
    rw: str = "03",
    decided_by_event_id: UUID | None = DECIDED_BY,
) -> EligibleHousehold:
    return EligibleHousehold(
        household_id=HOUSEHOLD_ID,
        active=active,
        eligible=eligible,
        rt="005",
        rw=rw,
        member_commitments=(HEAD, SPOUSE, CHILD),
        decided_by_event_id=decided_by_event_id,
    )


def allocate(
    facts: RoundFacts | None = None,
    hh: EligibleHousehold | None = None,
) -> Allocate:
    return Allocate(round=facts or round_facts(), household=hh or household())


def allocated() -> AidAllocated:
    [event] = allocations.decide(Allocation(), allocate())
    assert isinstance(event, AidAllocated)
    return event


def officer_facts(is_certified: bool = True) -> OfficerFacts:
    return OfficerFacts(
        officer_id=OFFICER_ID,
        certified_until=TODAY + timedelta(days=335) if is_certified else None,
    )


def receipt(
    round_status: RoundStatus = "endorsed",
    is_certified: bool = True,
    recipient: str = HEAD,
) -> ConfirmReceipt:
    return ConfirmReceipt(
        round_status=round_status,
        officer=officer_facts(is_certified),
        recipient_commitment=recipient,
        member_commitments=(HEAD, SPOUSE, CHILD),
        receipt_commitment=RECEIPT,
        received_at=datetime.combine(TODAY, time(9, 30), tzinfo=WIB),
        place="Posko RW 03, Jl. Tanjung Barat Raya",
        evidence_sha256=EVIDENCE,
        gps=(-6.3036, 106.8396),
    )


def report(
    reason: UndeliveredReason = "not_at_home", round_status: RoundStatus = "endorsed"
) -> ReportUndelivered:
    return ReportUndelivered(
        round_status=round_status,
        officer=officer_facts(),
        reason=reason,
        note_commitment=NOTE,
    )


def received() -> AidReceived:
    [event] = allocations.decide(allocation(allocated()), receipt())
    assert isinstance(event, AidReceived)
    return event


# What the allocation fixed, and its outcomes repeat.
FACTS = {"round_id": ROUND_ID, "programme": "SEMBAKO", "rw": "03", "amount_idr": 250_000}
ALLOCATED = Allocated(ROUND_ID, "SEMBAKO", "03", 250_000)


def undelivered(reason: UndeliveredReason) -> AidUndelivered:
    return AidUndelivered(**FACTS, officer_id=OFFICER_ID, reason=reason)


def allocation(*events: EventPayload) -> Allocation:
    return fold(allocations.evolve, Allocation(), events)


# --- budget --------------------------------------------------------------------------------
def test_an_initial_budget_records_the_amount_and_the_benefit() -> None:
    [event] = budgets.decide(Budget(), set_budget())
    assert isinstance(event, ProgrammeBudgeted)
    assert (event.programme, event.period, event.kind) == ("BLT", PERIOD, "initial")
    assert (event.amount_idr, event.benefit_idr, event.package) == (60_000_000, 600_000, ())
    assert budget(event) == Budget(programme="BLT", period=PERIOD, total_idr=60_000_000)


def test_a_sembako_budget_records_its_package() -> None:
    [event] = budgets.decide(Budget(), set_budget("SEMBAKO", benefit=250_000, package=PACKAGE))
    assert isinstance(event, ProgrammeBudgeted)
    assert event.package == PACKAGE


def test_a_programme_and_period_has_one_initial_budget() -> None:
    with pytest.raises(DomainError, match="top it up") as err:
        budgets.decide(budget(budgeted()), set_budget())
    assert (err.value.code, err.value.status) == ("budget_exists", 409)


def test_a_sembako_budget_needs_a_package() -> None:
    with pytest.raises(DomainError) as err:
        budgets.decide(Budget(), set_budget("SEMBAKO", benefit=250_000))
    assert (err.value.code, err.value.field) == ("package_required", "package")


def test_a_blt_budget_is_cash_and_refuses_a_package() -> None:
    with pytest.raises(DomainError) as err:
        budgets.decide(Budget(), set_budget("BLT", package=PACKAGE))
    assert (err.value.code, err.value.field) == ("package_not_cash", "package")


def test_the_benefit_per_household_cannot_exceed_the_budget() -> None:
    with pytest.raises(DomainError) as err:
        budgets.decide(Budget(), set_budget(amount=500_000, benefit=600_000))
    assert (err.value.code, err.value.field) == ("benefit_exceeds_budget", "benefit_idr")


def test_a_benefit_equal_to_the_budget_is_accepted() -> None:
    [event] = budgets.decide(Budget(), set_budget(amount=600_000, benefit=600_000))
    assert isinstance(event, ProgrammeBudgeted)


def test_a_top_up_adds_an_amount_only() -> None:
    [event] = budgets.decide(budget(budgeted()), TopUp(amount_idr=15_000_000))
    assert isinstance(event, ProgrammeBudgeted)
    assert (event.programme, event.period, event.kind) == ("BLT", PERIOD, "top_up")
    assert (event.amount_idr, event.benefit_idr, event.package) == (15_000_000, None, ())


def test_a_top_up_adds_to_the_total() -> None:
    given = budget(budgeted(amount=60_000_000))
    events = budgets.decide(given, TopUp(amount_idr=15_000_000))
    assert fold(budgets.evolve, given, events).total_idr == 75_000_000


def test_budget_ids_name_programme_and_period() -> None:
    assert budget_id("BLT", PERIOD) == budget_id("BLT", PERIOD)
    assert budget_id("BLT", PERIOD) != budget_id("SEMBAKO", PERIOD)
    assert budget_id("BLT", "2026-11") != budget_id("BLT", "2026-12")


# --- officer -------------------------------------------------------------------------------
def test_certifying_an_officer_records_the_certificate() -> None:
    [event] = officers.decide(Officer(), certify())
    assert isinstance(event, OfficerCertified)
    assert (event.officer_sub, event.certificate_number) == ("officer.rudi", "BNSP/DIST/2026/0001")
    assert officer(event).certificates == ("BNSP/DIST/2026/0001",)


def test_a_certificate_cannot_be_dated_ahead() -> None:
    with pytest.raises(DomainError) as err:
        officers.decide(Officer(), certify(certified_on=TODAY + timedelta(days=1)))
    assert (err.value.code, err.value.field) == ("certified_on_future", "certified_on")


def test_a_certificate_dated_today_is_accepted() -> None:
    [event] = officers.decide(Officer(), certify(certified_on=TODAY))
    assert isinstance(event, OfficerCertified)


@pytest.mark.parametrize("expires_in_days", [0, -1])
def test_a_certificate_expires_after_it_is_issued(expires_in_days: int) -> None:
    issued = TODAY - timedelta(days=10)
    command = certify(certified_on=issued, expires_on=issued + timedelta(days=expires_in_days))
    with pytest.raises(DomainError) as err:
        officers.decide(Officer(), command)
    assert (err.value.code, err.value.field) == ("expiry_before_certification", "expires_on")


def test_the_same_certificate_is_recorded_once() -> None:
    with pytest.raises(DomainError) as err:
        officers.decide(officer(certified("BNSP/DIST/2026/0001")), certify())
    assert (err.value.code, err.value.field, err.value.status) == (
        "certificate_recorded",
        "certificate_number",
        409,
    )


def test_a_renewal_with_a_new_number_is_recorded() -> None:
    given = officer(certified("BNSP/DIST/2025/0417"))
    [event] = officers.decide(given, certify("BNSP/DIST/2026/0001"))
    assert isinstance(event, OfficerCertified)
    assert officers.evolve(given, event).certificates == (
        "BNSP/DIST/2025/0417",
        "BNSP/DIST/2026/0001",
    )


# --- round ---------------------------------------------------------------------------------
def test_scheduling_a_round_names_its_budget_and_poskos() -> None:
    poskos = (posko("03"), posko("04", in_days=8))
    [event] = rounds.decide(Round(), schedule(*poskos))
    assert isinstance(event, RoundScheduled)
    assert event.budget_id == budget_id("SEMBAKO", PERIOD)
    assert event.poskos == poskos
    assert round_(event) == Round(status="scheduled", programme="SEMBAKO")


def test_a_round_is_scheduled_once() -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(round_(scheduled()), schedule(posko()))
    assert (err.value.code, err.value.status) == ("round_exists", 409)


def test_a_round_needs_an_existing_budget() -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(Round(), schedule(posko(), budget_exists=False))
    assert (err.value.code, err.value.field) == ("budget_required", "period")


def test_a_round_covers_at_least_one_rw() -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(Round(), schedule())
    assert (err.value.code, err.value.field) == ("poskos_required", "poskos")


def test_a_round_has_one_posko_per_rw() -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(Round(), schedule(posko("03"), posko("03", in_days=9)))
    assert (err.value.code, err.value.field) == ("rw_repeated", "poskos")


def test_a_posko_cannot_be_dated_in_the_past() -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(Round(), schedule(posko("03"), posko("04", in_days=-1)))
    assert (err.value.code, err.value.field) == ("posko_date_past", "poskos")


def test_a_posko_outside_the_rounds_period_is_refused() -> None:
    # A November round with a posko in December would pay November's aid in December,
    # beside December's own round: money for one month twice in one.
    with pytest.raises(DomainError) as err:
        rounds.decide(Round(), schedule(posko("03"), posko("04", in_days=25)))
    assert (err.value.code, err.value.field) == ("posko_outside_period", "poskos")
    assert "RW 04" in err.value.message and PERIOD in err.value.message


@pytest.mark.parametrize(
    ("period", "day", "inside"),
    [
        ("2026-11", date(2026, 11, 1), True),
        ("2026-11", date(2026, 11, 30), True),
        ("2026-11", date(2026, 12, 1), False),
        ("2026-11", date(2025, 11, 15), False),
        ("2026-Q4", date(2026, 10, 1), True),
        ("2026-Q4", date(2026, 12, 31), True),
        ("2026-Q4", date(2026, 9, 30), False),
        ("2026-Q1", date(2026, 3, 31), True),
        ("2026-Q1", date(2026, 4, 1), False),
    ],
)
def test_a_period_is_a_month_or_a_quarter(period: str, day: date, inside: bool) -> None:
    assert period_contains(period, day) is inside


def test_a_posko_may_open_today() -> None:
    [event] = rounds.decide(Round(), schedule(posko("03", in_days=0)))
    assert isinstance(event, RoundScheduled)


def test_the_community_endorses_a_scheduled_round() -> None:
    meeting = uuid4()
    command = Endorse(meeting_id=meeting, note_commitment=NOTE)
    [event] = rounds.decide(round_(scheduled()), command)
    assert event == RoundEndorsed(meeting_id=meeting, note_commitment=NOTE)
    assert "note" not in event.model_dump()  # the note itself stays in the service
    assert round_(scheduled(), event).status == "endorsed"


def test_a_round_is_endorsed_once() -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(round_(scheduled(), endorsed()), Endorse())
    assert (err.value.code, err.value.status) == ("round_endorsed", 409)


@pytest.mark.parametrize("command", [Endorse(), close_command()], ids=["endorse", "close"])
def test_a_closed_round_refuses_endorsement_and_closing(command: RoundCommand) -> None:
    with pytest.raises(DomainError) as err:
        rounds.decide(round_(scheduled(), endorsed(), closed()), command)
    assert (err.value.code, err.value.status) == ("round_closed", 409)


def test_closing_a_round_records_the_totals_given() -> None:
    [event] = rounds.decide(round_(scheduled(), endorsed()), close_command())
    assert event == RoundClosed(
        allocated=120,
        received=113,
        undelivered=7,
        amount_allocated_idr=30_000_000,
        amount_received_idr=28_250_000,
    )
    assert round_(scheduled(), endorsed(), event).status == "closed"


# --- allocation ----------------------------------------------------------------------------
def test_an_eligible_household_is_allocated_the_rounds_benefit() -> None:
    [event] = allocations.decide(Allocation(), allocate())
    assert event == AidAllocated(
        round_id=ROUND_ID,
        household_id=HOUSEHOLD_ID,
        programme="SEMBAKO",
        amount_idr=250_000,
        package=PACKAGE,
        rt="005",
        rw="03",
        based_on_event_id=DECIDED_BY,
    )
    assert allocation(event) == Allocation(
        status="allocated", household_id=HOUSEHOLD_ID, allocated=ALLOCATED
    )


def test_a_scheduled_round_not_yet_endorsed_may_already_allocate() -> None:
    [event] = allocations.decide(Allocation(), allocate(round_facts("scheduled")))
    assert isinstance(event, AidAllocated)


def test_a_household_is_allocated_once_per_round() -> None:
    with pytest.raises(DomainError) as err:
        allocations.decide(allocation(allocated()), allocate())
    assert (err.value.code, err.value.status) == ("already_allocated", 409)


def test_allocation_ids_are_one_per_household_programme_and_period() -> None:
    one = allocation_id("BLT", "2026-11", HOUSEHOLD_ID)
    assert one == allocation_id("BLT", "2026-11", HOUSEHOLD_ID)  # whatever the round
    assert one != allocation_id("SEMBAKO", "2026-11", HOUSEHOLD_ID)
    assert one != allocation_id("BLT", "2026-12", HOUSEHOLD_ID)
    assert one != allocation_id("BLT", "2026-11", uuid4())


def test_a_household_allocated_in_another_round_of_the_period_is_refused() -> None:
    other_round = replace(round_facts(), round_id=uuid4())
    with pytest.raises(DomainError) as err:
        allocations.decide(allocation(allocated()), allocate(other_round))
    assert (err.value.code, err.value.status) == ("already_allocated_in_period", 409)
    assert str(ROUND_ID) in err.value.message and err.value.field == "household_id"


def test_a_household_the_registry_never_announced_is_not_allocated() -> None:
    command = Allocate(round=round_facts(), household=None)
    with pytest.raises(DomainError) as err:
        allocations.decide(Allocation(), command)
    assert (type(err.value), err.value.code) == (DomainError, "household_unknown")
    assert err.value.field == "household_id"


@pytest.mark.parametrize(
    ("hh", "code"),
    [
        (household(active=False), "household_inactive"),
        (household(eligible=False), "household_not_eligible"),
        (household(eligible=None), "household_not_eligible"),
        (household(decided_by_event_id=None), "household_not_eligible"),
        (household(rw="07"), "household_outside_round"),
    ],
    ids=["inactive", "not-eligible", "never-decided", "no-decision-event", "rw-outside"],
)
def test_only_an_active_eligible_household_in_the_rounds_rws_is_allocated(
    hh: EligibleHousehold, code: str
) -> None:
    with pytest.raises(DomainError) as err:
        allocations.decide(Allocation(), allocate(hh=hh))
    assert (type(err.value), err.value.code, err.value.field) == (DomainError, code, "household_id")


def test_a_closed_round_allocates_nothing() -> None:
    with pytest.raises(DomainError) as err:
        allocations.decide(Allocation(), allocate(round_facts("closed")))
    assert (err.value.code, err.value.status) == ("round_closed", 409)


# --- hand-over -----------------------------------------------------------------------------
def test_a_hand_over_to_a_member_is_recorded_with_the_officer() -> None:
    [event] = allocations.decide(allocation(allocated()), receipt(recipient=SPOUSE))
    assert isinstance(event, AidReceived)
    assert event.officer_id == OFFICER_ID
    assert event.recipient_commitment == SPOUSE
    assert event.receipt_commitment == RECEIPT
    # The allocation's facts, for the event's public view (no household on it).
    assert (event.round_id, event.programme, event.rw, event.amount_idr) == tuple(FACTS.values())
    assert (event.place, event.evidence_sha256) == ("Posko RW 03, Jl. Tanjung Barat Raya", EVIDENCE)
    assert event.received_at == datetime.combine(TODAY, time(9, 30), tzinfo=WIB)
    assert allocation(allocated(), event).status == "received"


@pytest.mark.parametrize("round_status", ["new", "scheduled"])
def test_no_hand_over_before_the_community_endorses_the_round(
    round_status: RoundStatus,
) -> None:
    for command in (receipt(round_status), report(round_status=round_status)):
        with pytest.raises(DomainError) as err:
            allocations.decide(allocation(allocated()), command)
        assert (err.value.code, err.value.status) == ("round_not_endorsed", 409)


def test_no_hand_over_in_a_closed_round() -> None:
    for command in (receipt("closed"), report(round_status="closed")):
        with pytest.raises(DomainError) as err:
            allocations.decide(allocation(allocated()), command)
        assert (err.value.code, err.value.status) == ("round_closed", 409)


def test_an_uncertified_officer_hands_nothing_over() -> None:
    with pytest.raises(DomainError) as err:
        allocations.decide(allocation(allocated()), receipt(is_certified=False))
    assert (err.value.code, err.value.status) == ("officer_not_certified", 403)


def test_the_recipient_must_be_a_member_of_the_household() -> None:
    with pytest.raises(DomainError) as err:
        allocations.decide(allocation(allocated()), receipt(recipient="c0mm1t-neighbour"))
    assert (err.value.code, err.value.field) == ("recipient_not_member", "recipient_nik")


def test_aid_is_handed_over_once() -> None:
    given = allocation(allocated(), received())
    for command in (receipt(), report()):
        with pytest.raises(DomainError) as err:
            allocations.decide(given, command)
        assert (err.value.code, err.value.status) == ("already_received", 409)


def test_an_undelivered_report_records_the_officer_and_reason() -> None:
    [event] = allocations.decide(allocation(allocated()), report("moved"))
    assert isinstance(event, AidUndelivered)
    assert (event.officer_id, event.reason, event.note_commitment) == (OFFICER_ID, "moved", NOTE)
    assert (event.round_id, event.programme, event.rw, event.amount_idr) == tuple(FACTS.values())
    assert allocation(allocated(), event) == Allocation(
        status="undelivered",
        household_id=HOUSEHOLD_ID,
        undelivered_reason="moved",
        allocated=ALLOCATED,
    )


def test_a_household_not_at_home_may_be_visited_again() -> None:
    given = allocation(allocated(), undelivered("not_at_home"))
    [again] = allocations.decide(given, report("not_at_home"))
    assert isinstance(again, AidUndelivered)
    [handed_over] = allocations.decide(given, receipt())
    assert isinstance(handed_over, AidReceived)


@pytest.mark.parametrize("reason", FINAL_REASONS)
def test_moved_deceased_and_refused_are_final(reason: UndeliveredReason) -> None:
    given = allocation(allocated(), undelivered("not_at_home"), undelivered(reason))
    for command in (receipt(), report("not_at_home")):
        with pytest.raises(DomainError, match=reason) as err:
            allocations.decide(given, command)
        assert (err.value.code, err.value.status) == ("already_undelivered", 409)


def test_a_final_outcome_is_checked_before_the_round_and_the_officer() -> None:
    given = allocation(allocated(), undelivered("deceased"))
    with pytest.raises(DomainError) as err:
        allocations.decide(given, receipt("closed", is_certified=False))
    assert (err.value.code, err.value.status) == ("already_undelivered", 409)


@given(st.lists(st.sampled_from(get_args(UndeliveredReason)), max_size=6))
def test_a_receipt_is_accepted_iff_every_earlier_report_was_not_at_home(
    reasons: list[UndeliveredReason],
) -> None:
    state = allocation(allocated())
    for i, reason in enumerate(reasons):
        retryable_so_far = all(r in RETRYABLE for r in reasons[:i])
        try:
            events = allocations.decide(state, report(reason))
        except DomainError as refused:
            assert not retryable_so_far and refused.code == "already_undelivered"
            assert refused.status == 409
            continue
        assert retryable_so_far
        state = fold(allocations.evolve, state, events)

    if all(r == "not_at_home" for r in reasons):
        [event] = allocations.decide(state, receipt())
        assert isinstance(event, AidReceived)
    else:
        with pytest.raises(DomainError) as err:
            allocations.decide(state, receipt())
        assert (err.value.code, err.value.status) == ("already_undelivered", 409)


def test_a_decider_refuses_a_command_it_does_not_know() -> None:
    with pytest.raises(TypeError, match="unknown command"):
        rounds.decide(round_(scheduled()), receipt())  # type: ignore[arg-type]


# --- histories stored as version 1 events ---------------------------------------------------
def allocated_v1() -> AidAllocatedV1:
    return AidAllocatedV1(
        round_id=ROUND_ID,
        household_id=HOUSEHOLD_ID,
        programme="SEMBAKO",
        amount_idr=250_000,
        package=PACKAGE,
        rt="005",
        rw="03",
        based_on_event_id=DECIDED_BY,
        head_nik_masked="3174••••••••0001",
    )


def received_v1() -> AidReceivedV1:
    return AidReceivedV1(
        officer_id=OFFICER_ID,
        recipient_commitment=HEAD,
        received_at=datetime.combine(TODAY, time(9, 30), tzinfo=WIB),
        place="Posko RW 03",
        evidence_sha256=EVIDENCE,
    )


def undelivered_v1(reason: UndeliveredReason) -> AidUndeliveredV1:
    return AidUndeliveredV1(officer_id=OFFICER_ID, reason=reason, note="tidak ada orang")


def test_an_allocation_stored_in_version_1_hands_over_with_its_facts() -> None:
    [event] = allocations.decide(allocation(allocated_v1()), receipt())
    assert type(event) is AidReceived
    assert (event.round_id, event.programme, event.rw, event.amount_idr) == tuple(FACTS.values())


def test_a_version_1_hand_over_counts_as_a_hand_over() -> None:
    given = allocation(allocated_v1(), received_v1())
    assert given.status == "received"
    for command in (receipt(), report()):
        with pytest.raises(DomainError) as err:
            allocations.decide(given, command)
        assert (err.value.code, err.value.status) == ("already_received", 409)


@pytest.mark.parametrize("reason", FINAL_REASONS)
def test_a_version_1_final_undelivered_report_stays_final(reason: UndeliveredReason) -> None:
    given = allocation(allocated_v1(), undelivered_v1(reason))
    assert (given.status, given.undelivered_reason) == ("undelivered", reason)
    with pytest.raises(DomainError) as err:
        allocations.decide(given, receipt())
    assert (err.value.code, err.value.status) == ("already_undelivered", 409)


def test_after_a_version_1_not_at_home_report_the_household_is_visited_again() -> None:
    given = allocation(allocated_v1(), undelivered_v1("not_at_home"))
    [event] = allocations.decide(given, receipt())
    assert isinstance(event, AidReceived)
    assert allocations.evolve(given, event).status == "received"


def test_a_round_endorsed_in_version_1_is_endorsed() -> None:
    given = round_(scheduled(), RoundEndorsedV1(note="rembuk warga"))
    assert given.status == "endorsed"
    with pytest.raises(DomainError) as err:
        rounds.decide(given, Endorse())
    assert (err.value.code, err.value.status) == ("round_endorsed", 409)
