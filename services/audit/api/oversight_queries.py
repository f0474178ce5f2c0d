"""The reads behind the oversight routes: the running fold (`app.state.oversight`) for
findings, reconciliation, times and timelines; the ledger's stored nodes for proofs.
Parameters are read strictly, as the ledger's are: a bad one is a 400 naming it."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import ledger
from services.audit.api.oversight_schemas import (
    CheckpointRefOut,
    ClosureCheckOut,
    FigureOut,
    FindingOut,
    PendingOut,
    ProofOut,
    ReconciliationOut,
    RwFiguresOut,
    StepTimeOut,
    TimelineEntryOut,
    TimelineOut,
)
from services.audit.api.schemas import b64
from services.audit.domain.oversight import Finding, Reconciliation
from services.audit.domain.oversight.reconciliation import Figure, RwFigures
from services.audit.domain.oversight.times import StepTime
from services.audit.errors import MALFORMED_PARAMETER, NOT_A_CHOICE, OVERSIGHT_NOT_READY
from services.audit.oversight import OversightRunner
from shared.domain import DomainError

READY_WAIT_S = 10.0
MAX_TIMELINE = 500
_RW = re.compile(r"[0-9]{2}")
_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_UUID = re.compile(r"[0-9a-fA-F-]{32,36}")


async def running(request: Request) -> OversightRunner:
    """The runner, once its rebuild from leaf 0 is done (waited for a moment), else 503."""
    runner: OversightRunner = request.app.state.oversight
    if not runner.ready.is_set():
        try:
            async with asyncio.timeout(READY_WAIT_S):
                await runner.ready.wait()
        except TimeoutError:
            raise DomainError(
                OVERSIGHT_NOT_READY, "oversight is still folding the ledger from leaf 0"
            ) from None
    return runner


Runner = Annotated[OversightRunner, Depends(running)]


# --- parameters --------------------------------------------------------------------------------
def choice(value: str | None, name: str, allowed: Iterable[str]) -> str | None:
    if value is None or value == "":
        return None
    options = list(allowed)
    if value not in options:
        raise DomainError(NOT_A_CHOICE, f"{name} must be one of: {', '.join(options)}", field=name)
    return value


def shaped(value: str | None, name: str, pattern: re.Pattern[str], form: str) -> str | None:
    if value is None or value == "":
        return None
    if not pattern.fullmatch(value):
        raise DomainError(MALFORMED_PARAMETER, f"{name} must be {form}", field=name)
    return value


def rw(value: str | None, *, everyone: bool = False) -> str | None:
    """An RW, two digits; with `everyone`, also `all` (the rows for every RW together)."""
    if everyone and value == "all":
        return value
    return shaped(value, "rw", _RW, "two digits, e.g. 03" + (", or all" if everyone else ""))


def period(value: str | None) -> str | None:
    return shaped(value, "period", _PERIOD, "YYYY-MM or YYYY-Qn")


def month(value: str | None) -> str | None:
    return shaped(value, "month", _MONTH, "YYYY-MM")


def identifier(value: str, name: str) -> UUID:
    try:
        if not _UUID.fullmatch(value):
            raise ValueError(value)
        return UUID(value)
    except ValueError:
        raise DomainError(MALFORMED_PARAMETER, f"{name} must be a UUID", field=name) from None


# --- replies -----------------------------------------------------------------------------------
def _figure(f: Figure) -> FigureOut:
    return FigureOut(households=f.households, idr=f.idr)


def _rw(f: RwFigures) -> RwFiguresOut:
    return RwFiguresOut(
        rw=f.rw,
        budgeted=_figure(f.budgeted),
        allocated=_figure(f.allocated),
        received=_figure(f.received),
        undelivered=_figure(f.undelivered),
        outstanding=_figure(f.outstanding),
    )


def reconciliation(r: Reconciliation, size: int) -> ReconciliationOut:
    closure = None
    if r.closure is not None:
        c = r.closure
        closure = ClosureCheckOut(
            index=c.index,
            day=c.day,
            declared=c.declared,
            ledger=c.ledger,
            matches=not c.mismatched,
            mismatched=list(c.mismatched),
        )
    evidence = [r.scheduled_index, r.endorsed_index, r.closure.index if r.closure else None]
    return ReconciliationOut(
        round_id=r.round_id,
        programme=r.programme,
        period=r.period,
        budget_id=r.budget_id,
        budget_idr=r.budget_idr,
        benefit_idr=r.benefit_idr,
        endorsed=r.endorsed_index is not None,
        evidence=[i for i in evidence if i is not None],
        rws=[_rw(x) for x in r.rws],
        total=_rw(r.total),
        unattributed_undelivered=r.unattributed_undelivered,
        closure=closure,
        not_received=[
            PendingOut(
                allocation_id=p.allocation_id,
                household_id=p.household_id,
                rw=p.rw,
                status=p.status,
                amount_idr=p.amount_idr,
                index=p.index,
            )
            for p in r.pending
        ],
        not_received_total=r.pending_total,
        ledger_size=size,
    )


def select_findings(
    found: list[Finding],
    *,
    rule: str | None,
    rw: str | None,
    programme: str | None,
    period: str | None,
    since: str | None,
) -> list[Finding]:
    return [
        f
        for f in found
        if (rule is None or f.rule == rule)
        and (rw is None or f.rw == rw)
        and (programme is None or f.programme == programme)
        and (period is None or f.period == period)
        and (since is None or f.day >= since)
    ]


def finding(f: Finding) -> FindingOut:
    return FindingOut.model_validate(f, from_attributes=True)


CSV_COLUMNS = list(FindingOut.model_fields)


def as_csv(found: list[Finding]) -> str:
    """One row per finding; evidence and subjects space-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in found:
        row: dict[str, Any] = finding(f).model_dump(mode="json")
        row["evidence"] = " ".join(str(i) for i in f.evidence)
        row["subjects"] = " ".join(str(s) for s in f.subjects)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


def as_jsonl(found: list[Finding]) -> bytes:
    return b"".join(orjson.dumps(finding(f).model_dump(mode="json")) + b"\n" for f in found)


def step_time(t: StepTime) -> StepTimeOut:
    return StepTimeOut.model_validate(t, from_attributes=True)


async def timeline(
    session: AsyncSession, household_id: UUID, entries: list[tuple[int, str, str]]
) -> TimelineOut:
    """Each entry with its inclusion proof against the latest checkpoint (entries newer
    than it get none: the next checkpoint, a quarter of a second later, covers them)."""
    latest = await ledger.latest_checkpoint(session)
    shown = entries[:MAX_TIMELINE]
    out = []
    for index, kind, day in shown:
        proof = None
        if latest is not None and index < latest.tree_size:
            hashes, _, leaf = await ledger.inclusion(session, index, latest.tree_size)
            proof = ProofOut(
                tree_size=latest.tree_size, leaf_hash=b64(leaf), hashes=[b64(h) for h in hashes]
            )
        out.append(TimelineEntryOut(index=index, type=kind, day=day, proof=proof))
    return TimelineOut(
        household_id=household_id,
        entries=out,
        checkpoint=CheckpointRefOut(tree_size=latest.tree_size, root_hash=b64(latest.root_hash))
        if latest
        else None,
        truncated=len(entries) > len(shown),
    )
