"""Oversight for auditors (role `auditor`; `admin` passes): reconciliation of a round,
findings with the ledger indices they rest on (JSON, CSV or JSON lines), a household's
timeline with inclusion proofs, and bureaucracy times. Computed from ledger entries alone
by the running fold (services/audit/oversight.py). Every read is logged
(`bansos.audit.oversight`: who, what), as sealed openings are."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.audit.api import oversight_queries as q
from services.audit.api.deps import TOKEN_ERRORS, Auditor
from services.audit.api.oversight_schemas import (
    FindingsOut,
    ReconciliationOut,
    TimelineOut,
    TimesOut,
)
from services.audit.api.params import NUMBER_ERRORS, day, number
from services.audit.domain.oversight import RULES, STEPS
from services.audit.errors import (
    HOUSEHOLD_NOT_IN_LEDGER,
    MALFORMED_PARAMETER,
    NOT_A_CHOICE,
    NOT_A_DAY,
    OVERSIGHT_NOT_READY,
    ROUND_NOT_IN_LEDGER,
)
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import errors

router = APIRouter(prefix="/oversight", tags=["auditor"])
log = logging.getLogger("bansos.audit.oversight")

PROGRAMMES = ("BLT", "SEMBAKO")
FORMATS = ("json", "csv", "jsonl")
MAX_PAGE = 1000
MAX_EXPORT = 10_000
Id = Annotated[str, Path(max_length=36, description="a UUID")]
Text = Annotated[str | None, Query(max_length=40)]
Digits = Annotated[str | None, Query(max_length=20)]


@router.get(
    "/rounds/{round_id}/reconciliation",
    response_model=ReconciliationOut,
    summary="A round per RW: budgeted, allocated, received, undelivered, outstanding",
    responses=errors(*TOKEN_ERRORS, MALFORMED_PARAMETER, ROUND_NOT_IN_LEDGER, OVERSIGHT_NOT_READY),
)
async def reconciliation(round_id: Id, principal: Auditor, runner: q.Runner) -> ReconciliationOut:
    wanted = q.identifier(round_id, "round_id")
    found = runner.reconciliation(wanted)
    if found is None:
        raise DomainError(
            ROUND_NOT_IN_LEDGER, f"the ledger holds no round {wanted}", field="round_id"
        )
    log.info("%s (%s) reconciled round %s", principal.sub, principal.role.value, wanted)
    return q.reconciliation(found, runner.size)


@router.get(
    "/findings",
    response_model=FindingsOut,
    summary="Findings, each with the ledger indices it rests on; JSON, CSV or JSON lines",
    description="Filters: `rule` (a rule code), `rw` (two digits), `programme` (BLT, "
    "SEMBAKO), `period` (YYYY-MM or YYYY-Qn), `since` (a day, YYYY-MM-DD, inclusive). "
    "`format=csv` or `jsonl` answers text/csv or application/x-ndjson (pages of up to "
    "10,000; `X-Total` and `X-Next-Start` headers), JSON pages hold up to 1,000.",
    responses={
        **errors(*TOKEN_ERRORS, NOT_A_CHOICE, MALFORMED_PARAMETER, NOT_A_DAY, *NUMBER_ERRORS),
        200: {"content": {"text/csv": {}, "application/x-ndjson": {}}},
    },
)
async def findings(
    principal: Auditor,
    runner: q.Runner,
    rule: Text = None,
    rw: Text = None,
    programme: Text = None,
    period: Text = None,
    since: Text = None,
    format: Text = None,
    start: Digits = None,
    limit: Digits = None,
) -> FindingsOut | Response:
    shape = q.choice(format, "format", FORMATS) or "json"
    cap = MAX_PAGE if shape == "json" else MAX_EXPORT
    first = number(start, "start", default=0)
    size = number(limit, "limit", default=100 if shape == "json" else cap, minimum=1)
    selected = q.select_findings(
        runner.findings(),
        rule=q.choice(rule, "rule", RULES),
        rw=q.rw(rw),
        programme=q.choice(programme, "programme", PROGRAMMES),
        period=q.period(period),
        since=day(since, "since"),
    )
    page = selected[first : first + min(size, cap)]
    following = first + len(page) if first + len(page) < len(selected) else None
    log.info("%s (%s) read %d findings", principal.sub, principal.role.value, len(page))
    if shape == "json":
        return FindingsOut(
            findings=[q.finding(f) for f in page],
            total=len(selected),
            next=following,
            ledger_size=runner.size,
        )
    headers = {"X-Total": str(len(selected))}
    if following is not None:
        headers["X-Next-Start"] = str(following)
    if shape == "csv":
        return Response(q.as_csv(page), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(q.as_jsonl(page), media_type="application/x-ndjson", headers=headers)


@router.get(
    "/households/{household_id}/timeline",
    response_model=TimelineOut,
    summary="Every ledger entry about one household, each with its inclusion proof",
    responses=errors(
        *TOKEN_ERRORS, MALFORMED_PARAMETER, HOUSEHOLD_NOT_IN_LEDGER, OVERSIGHT_NOT_READY
    ),
)
async def timeline(
    household_id: Id, session: Reads, principal: Auditor, runner: q.Runner
) -> TimelineOut:
    wanted = q.identifier(household_id, "household_id")
    entries = runner.timeline(wanted)
    if not entries:
        raise DomainError(
            HOUSEHOLD_NOT_IN_LEDGER,
            f"no readable ledger entry is about household {wanted} (never seen, or erased)",
            field="household_id",
        )
    log.info("%s (%s) read household %s's timeline", principal.sub, principal.role.value, wanted)
    return await q.timeline(session, wanted, entries)


@router.get(
    "/times",
    response_model=TimesOut,
    summary="Bureaucracy times: median and 90th percentile in days, per step",
    description="Per step, RW (`null`: every RW together), programme (`null`: all) and "
    "month of the step's end. Filters: `step`, `rw` (two digits, or `all` for the rows of "
    "every RW together), `programme` (BLT, SEMBAKO, or `all`), `month` (YYYY-MM).",
    responses=errors(*TOKEN_ERRORS, NOT_A_CHOICE, MALFORMED_PARAMETER, OVERSIGHT_NOT_READY),
)
async def times(
    principal: Auditor,
    runner: q.Runner,
    step: Text = None,
    rw: Text = None,
    programme: Text = None,
    month: Text = None,
) -> TimesOut:
    wanted_step = q.choice(step, "step", STEPS)
    wanted_rw = q.rw(rw, everyone=True)
    wanted_programme = q.choice(programme, "programme", (*PROGRAMMES, "all"))
    wanted_month = q.month(month)
    rows = [
        t
        for t in runner.times()
        if (wanted_step is None or t.step == wanted_step)
        and (wanted_rw is None or t.rw == (None if wanted_rw == "all" else wanted_rw))
        and (
            wanted_programme is None
            or t.programme == (None if wanted_programme == "all" else wanted_programme)
        )
        and (wanted_month is None or t.month == wanted_month)
    ]
    return TimesOut(
        times=[q.step_time(t) for t in rows], steps=list(STEPS), ledger_size=runner.size
    )
