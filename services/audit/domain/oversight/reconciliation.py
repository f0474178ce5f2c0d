"""Reconciliation of one round, per RW and in total, from the fold's state: what was
budgeted (eligible households x the budget's benefit), allocated, received, reported
undelivered and still outstanding, in households and IDR, and the round's closure totals
checked against the ledger's."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.audit.domain.oversight.records import Counts, RoundRecord
from services.audit.domain.oversight.registry import eligible_by_rw
from services.audit.domain.oversight.rounds import CLOSURE_FIELDS
from services.audit.domain.oversight.state import State

MAX_PENDING = 1000  # allocations listed as not received, at most


@dataclass(frozen=True)
class Figure:
    households: int
    idr: int


@dataclass(frozen=True)
class RwFigures:
    rw: str | None  # None: the round's total
    budgeted: Figure  # eligible, active households of the RW x the budget's benefit
    allocated: Figure
    received: Figure
    undelivered: Figure
    outstanding: Figure  # allocated, neither received nor reported undelivered


@dataclass(frozen=True)
class Pending:
    """An allocation not (yet) handed over: to whom the money did not go."""

    allocation_id: UUID
    household_id: UUID
    rw: str
    status: str  # allocated | undelivered
    amount_idr: int
    index: int  # the allocation's leaf


@dataclass(frozen=True)
class ClosureCheck:
    index: int
    day: str | None
    declared: dict[str, int | str]  # as the closure says ("<5" where its view suppressed)
    ledger: dict[str, int]  # the ledger's figures when the closure was folded
    mismatched: tuple[str, ...]


@dataclass(frozen=True)
class Reconciliation:
    round_id: UUID
    programme: str
    period: str
    budget_id: UUID
    budget_idr: int  # the whole budget with top-ups (its rounds share it)
    benefit_idr: int | None
    scheduled_index: int
    endorsed_index: int | None
    rws: tuple[RwFigures, ...]
    total: RwFigures
    unattributed_undelivered: int  # erased leaves, whose public view names no RW
    closure: ClosureCheck | None
    pending: tuple[Pending, ...]
    pending_total: int


def _figures(rw: str | None, eligible: int, benefit: int, c: Counts) -> RwFigures:
    outstanding = Figure(
        c.allocated - c.received - c.undelivered,
        c.allocated_idr - c.received_idr - c.undelivered_idr,
    )
    return RwFigures(
        rw,
        Figure(eligible, eligible * benefit),
        Figure(c.allocated, c.allocated_idr),
        Figure(c.received, c.received_idr),
        Figure(c.undelivered, c.undelivered_idr),
        outstanding,
    )


def reconcile(state: State, round_id: UUID) -> Reconciliation | None:
    r: RoundRecord | None = state.rounds.get(round_id)
    if r is None:
        return None
    budget = state.budgets.get(r.budget_id)
    benefit = budget.benefit_idr if budget and budget.benefit_idr else 0
    eligible = r.eligible_at_close if r.eligible_at_close is not None else eligible_by_rw(state)
    rws = sorted(set(r.poskos) | set(r.counts))
    rows = [_figures(rw, eligible.get(rw, 0), benefit, r.counts.get(rw, Counts())) for rw in rws]
    total = Counts(
        allocated=sum(x.allocated.households for x in rows),
        allocated_idr=sum(x.allocated.idr for x in rows),
        received=sum(x.received.households for x in rows),
        received_idr=sum(x.received.idr for x in rows),
        undelivered=sum(x.undelivered.households for x in rows) + r.unattributed_undelivered,
        undelivered_idr=sum(x.undelivered.idr for x in rows),
    )
    pending = sorted(
        (
            Pending(a.allocation_id, a.household_id, a.rw, a.status, a.amount_idr, a.idx)
            for a in state.allocations.not_received(round_id)
        ),
        key=lambda p: p.index,
    )
    closure = None
    if r.closed_idx is not None and r.declared is not None and r.ledger_at_close is not None:
        mismatched = tuple(
            f
            for f in CLOSURE_FIELDS
            if isinstance(r.declared[f], int) and r.declared[f] != r.ledger_at_close[f]
        )
        closure = ClosureCheck(
            r.closed_idx, r.closed_day, r.declared, r.ledger_at_close, mismatched
        )
    return Reconciliation(
        round_id=r.round_id,
        programme=r.programme,
        period=r.period,
        budget_id=r.budget_id,
        budget_idr=budget.total_idr if budget else 0,
        benefit_idr=budget.benefit_idr if budget else None,
        scheduled_index=r.scheduled_idx,
        endorsed_index=r.endorsed_idx,
        rws=tuple(rows),
        total=_figures(None, sum(eligible.get(rw, 0) for rw in r.poskos), benefit, total),
        unattributed_undelivered=r.unattributed_undelivered,
        closure=closure,
        pending=tuple(pending[:MAX_PENDING]),
        pending_total=len(pending),
    )
