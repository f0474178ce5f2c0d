"""Budgets and rounds in the oversight fold: a budget and its top-ups, a round's schedule
(its poskos by RW and day), its closure checked against the ledger's figures, and each
allocation charged to its round's budget."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from services.audit.domain.oversight.records import BudgetRecord, RoundRecord
from services.audit.domain.oversight.registry import eligible_by_rw
from services.audit.domain.oversight.state import State
from shared.events.distribution import Posko

# Fields of a round's closure, and the ledger's figure each is checked against.
CLOSURE_FIELDS = (
    "allocated",
    "received",
    "undelivered",
    "amount_allocated_idr",
    "amount_received_idr",
)


def budgeted(
    s: State,
    i: int,
    budget_id: UUID,
    programme: str,
    period: str,
    amount: int,
    benefit: Any,
) -> None:
    b = s.budgets.setdefault(budget_id, BudgetRecord(budget_id, programme, period))
    b.total_idr += amount
    b.indices.append(i)
    if isinstance(benefit, int) and b.benefit_idr is None:
        b.benefit_idr = benefit


def scheduled(
    s: State,
    i: int,
    round_id: UUID,
    programme: str,
    period: str,
    budget_id: UUID,
    poskos: tuple[Posko, ...],
) -> None:
    if round_id in s.rounds:
        return
    days: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for p in poskos:
        days[p.rw].append((p.place, p.on))
    s.rounds[round_id] = RoundRecord(round_id, programme, period, budget_id, dict(days), i)


def endorsed(s: State, i: int, round_id: UUID) -> None:
    r = s.rounds.get(round_id)
    if r is not None and r.endorsed_idx is None:
        r.endorsed_idx = i


def closed(s: State, i: int, round_id: UUID, declared: dict[str, Any], day: str) -> None:
    r = s.rounds.get(round_id)
    if r is None or r.closed_idx is not None:
        return
    r.closed_idx, r.closed_day = i, day
    r.declared = {f: declared.get(f, "?") for f in CLOSURE_FIELDS}
    r.ledger_at_close = round_totals(r)
    r.eligible_at_close = {rw: n for rw, n in eligible_by_rw(s).items() if rw in r.poskos}
    wrong = [
        f
        for f in CLOSURE_FIELDS
        if isinstance(r.declared[f], int) and r.declared[f] != r.ledger_at_close[f]
    ]
    if wrong:
        said = ", ".join(f"{f} {r.declared[f]} vs ledger {r.ledger_at_close[f]}" for f in wrong)
        s.raise_for(
            "closure_mismatch",
            r,
            None,
            day,
            f"Round {r.round_id} closed with totals that differ from its entries: {said}",
            (r.scheduled_idx, i),
            (r.round_id,),
        )


def round_totals(r: RoundRecord) -> dict[str, int]:
    c = r.counts.values()
    return {
        "allocated": sum(x.allocated for x in c),
        "received": sum(x.received for x in c),
        "undelivered": sum(x.undelivered for x in c) + r.unattributed_undelivered,
        "amount_allocated_idr": sum(x.allocated_idr for x in c),
        "amount_received_idr": sum(x.received_idr for x in c),
    }


def charge(
    s: State, i: int, r: RoundRecord, amount: int, day: str, allocation: UUID | None
) -> None:
    """A round's allocation charges its budget; going beyond is a finding, once."""
    b = s.budgets.get(r.budget_id)
    if b is None:
        b = s.budgets[r.budget_id] = BudgetRecord(r.budget_id, r.programme, r.period)
    b.allocated_idr += amount
    if b.allocated_idr > b.total_idr and not b.exceeded:
        b.exceeded = True
        s.raise_for(
            "budget_exceeded",
            r,
            None,
            day,
            f"Budget {b.budget_id} ({b.programme} {b.period}): {b.allocated_idr} IDR "
            f"allocated of {b.total_idr} IDR budgeted",
            (*b.indices, r.scheduled_idx, i),
            (b.budget_id,) + ((allocation,) if allocation else ()),
        )
