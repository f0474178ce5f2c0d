"""The distribution's part of the oversight fold: budgets, certificates and rounds (see
`rounds`), allocations and their rules, hand-overs (see `handovers`), undelivered reports,
and the rule judged on the state as a whole (one recipient for many households)."""

from __future__ import annotations

from services.audit.domain.oversight import handovers, rounds
from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.records import AllocationRecord, Certificate
from services.audit.domain.oversight.state import Leaf, State
from shared.events import EventPayload
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidReceivedV1,
    AidUndelivered,
    AidUndeliveredV1,
    OfficerCertified,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
)
from shared.events.public import day_of

MANY_HOUSEHOLDS = 3  # one recipient collecting for this many households in a round


def fold(s: State, leaf: Leaf, payload: EventPayload) -> None:
    i, aggregate = leaf.index, leaf.aggregate
    match payload:
        case ProgrammeBudgeted():
            rounds.budgeted(
                s,
                i,
                aggregate,
                payload.programme,
                payload.period,
                payload.amount_idr,
                payload.benefit_idr,
            )
        case OfficerCertified():
            s.certificates[aggregate].append(
                Certificate(payload.certified_on, payload.expires_on, i)
            )
        case RoundScheduled():
            rounds.scheduled(
                s,
                i,
                aggregate,
                payload.programme,
                payload.period,
                payload.budget_id,
                payload.poskos,
            )
        case RoundEndorsed():
            rounds.endorsed(s, i, aggregate)
        case RoundClosed():
            rounds.closed(s, i, aggregate, payload.model_dump(), leaf.day)
        case AidAllocated():
            _allocated(s, leaf, payload)
        case AidReceived() | AidReceivedV1():
            handovers.received(s, leaf, payload)
        case AidUndelivered() | AidUndeliveredV1():
            _undelivered(s, leaf)


def _allocated(s: State, leaf: Leaf, e: AidAllocated) -> None:
    i, aid, at, day = leaf.index, leaf.aggregate, leaf.at, leaf.day
    s.on_timeline(e.household_id, leaf)
    if aid in s.allocations:
        return  # the same allocation again: counted once
    a = AllocationRecord(aid, e.household_id, e.round_id, e.programme, e.rw, e.amount_idr, i, at)
    s.allocations.put(a)
    h = s.households.get(e.household_id)
    r = s.rounds.get(e.round_id)
    if h is not None:
        s.households.allocated(e.household_id, e.programme, at)
    if h is None or not h.eligible:
        said = "no eligibility decision" if h is None or h.eligible is None else "not eligible"
        basis = (h.decision_idx,) if h is not None and h.decision_idx is not None else ()
        s.raise_for(
            "allocation_not_eligible",
            r,
            a,
            day,
            f"Allocation {aid} to household {e.household_id}: {said} at that time",
            (*basis, i),
            (aid, e.household_id),
        )
    if h is not None and not h.active and h.deactivated_idx is not None:
        s.raise_for(
            "allocation_inactive_household",
            r,
            a,
            day,
            f"Allocation {aid} to household {e.household_id}, deactivated before",
            (h.deactivated_idx, i),
            (aid, e.household_id),
        )
    if r is None:
        return
    counts = r.rw(e.rw)
    counts.allocated += 1
    counts.allocated_idr += e.amount_idr
    if e.rw not in r.poskos:
        s.raise_for(
            "allocation_outside_round",
            r,
            a,
            day,
            f"Allocation {aid} in RW {e.rw}: round {r.round_id} has no posko there",
            (r.scheduled_idx, i),
            (aid, r.round_id),
        )
    b = s.budgets.get(r.budget_id)
    if b is not None and b.benefit_idr is not None and e.amount_idr != b.benefit_idr:
        s.raise_for(
            "amount_not_benefit",
            r,
            a,
            day,
            f"Allocation {aid}: {e.amount_idr} IDR, the budget's benefit is {b.benefit_idr} IDR",
            (b.indices[0], i),
            (aid,),
        )
    rounds.charge(s, i, r, e.amount_idr, day, aid)


def _undelivered(s: State, leaf: Leaf) -> None:
    a = s.allocations.get(leaf.aggregate)
    if a is None:
        return
    s.on_timeline(a.household_id, leaf)
    r = s.rounds.get(a.round_id)
    if a.status == "allocated":
        a.status = "undelivered"
        s.allocations.put(a)
        if r is not None:
            r.rw(a.rw).undelivered += 1
            r.rw(a.rw).undelivered_idr += a.amount_idr


def collectors(s: State) -> list[Finding]:
    found = []
    for round_id, households in s.allocations.shared_recipients():
        if len(households) < MANY_HOUSEHOLDS:
            continue
        r = s.rounds.get(round_id)
        indices = tuple(sorted(households.values()))
        last = s.allocations.by_receipt(indices[-1])
        found.append(
            Finding(
                "recipient_many_households",
                last.rw if last else None,
                r.programme if r else None,
                r.period if r else None,
                round_id,
                _receipt_day(last),
                f"One recipient collected for {len(households)} households in round "
                f"{round_id}: " + ", ".join(str(h) for h in households),
                indices,
                tuple(households),
            )
        )
    return found


def _receipt_day(a: AllocationRecord | None) -> str:
    return day_of(a.received_at) if a and a.received_at else ""
