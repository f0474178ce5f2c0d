"""Replies of the oversight routes (role `auditor`): reconciliation of a round, findings
with the ledger indices they rest on, a household's timeline with inclusion proofs, and
bureaucracy times. Ids are ones auditors may see; no NIK, commitment, name or place."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field


class FigureOut(BaseModel):
    households: int
    idr: int


class RwFiguresOut(BaseModel):
    rw: str | None = Field(description="null: the round's total")
    budgeted: FigureOut = Field(
        description="eligible, active households of the RW x the budget's benefit"
    )
    allocated: FigureOut
    received: FigureOut
    undelivered: FigureOut
    outstanding: FigureOut = Field(description="allocated, not received nor undelivered")


class ClosureCheckOut(BaseModel):
    index: int = Field(description="the closure's ledger index")
    day: str | None
    declared: dict[str, int | str] = Field(
        description='the closure\'s totals ("<5" where its public view suppressed one)'
    )
    ledger: dict[str, int] = Field(description="the ledger's figures when it closed")
    matches: bool
    mismatched: list[str]


class PendingOut(BaseModel):
    allocation_id: UUID
    household_id: UUID
    rw: str
    status: str = Field(description="allocated (outstanding) | undelivered")
    amount_idr: int
    index: int = Field(description="the allocation's ledger index")


class ReconciliationOut(BaseModel):
    round_id: UUID
    programme: str
    period: str
    budget_id: UUID
    budget_idr: int = Field(description="the whole budget with top-ups (its rounds share it)")
    benefit_idr: int | None
    endorsed: bool
    evidence: list[int] = Field(description="the round's scheduling, endorsement, closure")
    rws: list[RwFiguresOut]
    total: RwFiguresOut
    unattributed_undelivered: int = Field(
        description="undelivered reports whose content was erased: their view names no RW"
    )
    closure: ClosureCheckOut | None
    not_received: list[PendingOut] = Field(description="at most 1,000, oldest first")
    not_received_total: int
    ledger_size: int = Field(description="leaves folded into these figures")


class FindingOut(BaseModel):
    rule: str
    rw: str | None
    programme: str | None
    period: str | None
    round_id: UUID | None
    day: str
    description: str
    evidence: list[int] = Field(description="ledger indices it rests on, ascending")
    subjects: list[UUID] = Field(description="the ids it is about")


class FindingsOut(BaseModel):
    findings: list[FindingOut]
    total: int = Field(description="findings matching the filters, on every page")
    next: int | None = Field(description="`start` of the next page")
    ledger_size: int


class ProofOut(BaseModel):
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class TimelineEntryOut(BaseModel):
    index: int
    type: str
    day: str
    proof: ProofOut | None = Field(
        description="inclusion proof against the latest checkpoint; null if it is newer"
    )


class CheckpointRefOut(BaseModel):
    tree_size: int
    root_hash: str


class TimelineOut(BaseModel):
    household_id: UUID
    entries: list[TimelineEntryOut]
    checkpoint: CheckpointRefOut | None
    truncated: bool = Field(description="more entries than one reply holds (500)")


class StepTimeOut(BaseModel):
    step: str
    rw: str | None = Field(description="null: all RWs")
    programme: str | None = Field(description="null: all programmes")
    month: str
    count: int
    median_days: float
    p90_days: float


class TimesOut(BaseModel):
    times: list[StepTimeOut]
    steps: list[str]
    ledger_size: int
