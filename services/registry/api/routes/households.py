"""Households: registration, members, updates, surveys, eligibility, deactivation, reads.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.registry import handlers
from services.registry.api import queries
from services.registry.api.deps import OperatorWork, Reader, Settings
from services.registry.api.schemas import (
    DeactivationIn,
    EligibilityOut,
    HistoryEventOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    HouseholdSummary,
    MemberIn,
    MemberOut,
    SurveyIn,
    SurveyOut,
)
from services.registry.domain.nik import masked
from services.registry.errors import (
    DUPLICATE_OF_REQUIRED,
    DUPLICATE_OF_SELF,
    HOUSEHOLD_EXISTS,
    NIK_ALREADY_MEMBER,
    NIK_ALREADY_REGISTERED,
    NIK_REPEATED,
    ONE_HEAD_REQUIRED,
    SURVEYED_ON_FUTURE,
)
from shared import eventstore
from shared.deps import Cursor, IfMatch, Page, Reads, check_rw, decode_cursor, page, set_version
from shared.domain import DomainError
from shared.errors import (
    HOUSEHOLD_INACTIVE,
    HOUSEHOLD_NOT_FOUND,
    RW_OUTSIDE,
    VERSION_CONFLICT,
    VERSION_STALE,
    errors,
)
from shared.pii import commitments

router = APIRouter(prefix="/households", tags=["households"])
# What every command on an existing household can answer.
CHANGES = (HOUSEHOLD_NOT_FOUND, HOUSEHOLD_INACTIVE, VERSION_CONFLICT, VERSION_STALE)


async def _household(session: Reads, household_id: UUID, response: Response) -> HouseholdOut:
    found = await queries.household(session, household_id)
    if found is None:
        raise DomainError(HOUSEHOLD_NOT_FOUND, f"no household {household_id}", field="household_id")
    set_version(response, found.version)
    return found


@router.post(
    "",
    status_code=201,
    response_model=HouseholdOut,
    summary="Register a household from a field survey form",
    responses=errors(
        NIK_ALREADY_REGISTERED, NIK_REPEATED, ONE_HEAD_REQUIRED, RW_OUTSIDE, HOUSEHOLD_EXISTS
    ),
)
async def register(
    form: HouseholdIn, uow: OperatorWork, settings: Settings, response: Response
) -> HouseholdOut:
    check_rw(settings, form.rw)
    done = await handlers.register_household(uow, form, commitments(settings))
    registered = done.outcome.events[0]
    response.headers["Location"] = f"/households/{registered.aggregate_id}"
    set_version(response, done.outcome.version)
    people = [
        MemberOut(member_id=i, **m.model_dump())
        for m, i in zip(form.members, done.member_ids, strict=True)
    ]
    # The reply of GET /households/{id}, from what was just written (no read-back).
    return HouseholdOut(
        household_id=registered.aggregate_id,
        status="active",
        rt=form.rt,
        rw=form.rw,
        member_count=len(form.members),
        monthly_income_idr=form.monthly_income_idr,
        desil=form.desil,
        dtks_listed=registered.payload["dtks_listed"],
        pmt_score=None,
        eligible=None,
        eligibility_reasons=None,
        deactivation_reason=None,
        version=registered.aggregate_version,
        registered_at=registered.occurred_at,
        updated_at=registered.occurred_at,
        kk_number=form.kk_number,
        address=form.address,
        phone=form.phone,
        dtks_ref=form.dtks_ref,
        vulnerability=list(registered.payload["vulnerability"]),
        members=people,
        head_nik_masked=masked(next(m.nik for m in people if m.relationship == "head")),
        deactivation_note=None,
    )


@router.get(
    "/{household_id}",
    response_model=HouseholdOut,
    summary="One household with its members (personal data)",
    responses=errors(HOUSEHOLD_NOT_FOUND),
)
async def get_household(
    household_id: UUID, session: Reads, response: Response, principal: Reader
) -> HouseholdOut:
    return await _household(session, household_id, response)


@router.get(
    "",
    response_model=Page[HouseholdSummary],
    summary="List households with filters and cursor paging",
)
async def list_households(
    session: Reads,
    principal: Reader,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    rt: Annotated[str | None, Query(pattern=r"^\d{3}$")] = None,
    status: Literal["active", "inactive"] | None = None,
    vulnerability: Literal["elderly", "disabled", "children"] | None = None,
    desil: Annotated[int | None, Query(ge=1, le=10)] = None,
    eligible: bool | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[HouseholdSummary]:
    rows = await queries.household_list(
        session,
        after=decode_cursor(cursor),
        limit=limit,
        rw=rw,
        rt=rt,
        status=status,
        vulnerability=vulnerability,
        desil=desil,
        eligible=eligible,
    )
    return page(rows, limit)


@router.post(
    "/{household_id}/members",
    status_code=201,
    response_model=HouseholdOut,
    summary="Add a member",
    responses=errors(*CHANGES, NIK_ALREADY_MEMBER, NIK_ALREADY_REGISTERED, ONE_HEAD_REQUIRED),
)
async def add_member(
    household_id: UUID,
    form: MemberIn,
    uow: OperatorWork,
    settings: Settings,
    version: IfMatch,
    session: Reads,
    response: Response,
) -> HouseholdOut:
    await handlers.add_member(
        uow, household_id, form, commitments(settings), expected_version=version
    )
    return await _household(session, household_id, response)


@router.patch(
    "/{household_id}",
    response_model=HouseholdOut,
    summary="Update RT/RW, address, income or desil",
    responses=errors(*CHANGES, RW_OUTSIDE),
)
async def update_household(
    household_id: UUID,
    patch: HouseholdPatch,
    uow: OperatorWork,
    settings: Settings,
    version: IfMatch,
    session: Reads,
    response: Response,
) -> HouseholdOut:
    check_rw(settings, patch.rw)
    await handlers.update_household(uow, household_id, patch, expected_version=version)
    return await _household(session, household_id, response)


@router.post(
    "/{household_id}/surveys",
    status_code=201,
    response_model=SurveyOut,
    summary="Record a field survey",
    responses=errors(*CHANGES, SURVEYED_ON_FUTURE),
)
async def record_survey(
    household_id: UUID, form: SurveyIn, uow: OperatorWork, version: IfMatch, response: Response
) -> SurveyOut:
    outcome = await handlers.record_survey(uow, household_id, form, expected_version=version)
    set_version(response, outcome.version)
    recorded = outcome.events[0].payload
    return SurveyOut(
        household_id=household_id,
        survey_id=recorded["survey_id"],
        pmt_score=recorded["pmt_score"],
        formula_version=recorded["formula_version"],
        version=outcome.version,
    )


@router.post(
    "/{household_id}/eligibility",
    response_model=EligibilityOut,
    summary="Decide eligibility from the latest facts",
    responses=errors(*CHANGES),
)
async def decide_eligibility(
    household_id: UUID,
    uow: OperatorWork,
    settings: Settings,
    version: IfMatch,
    response: Response,
) -> EligibilityOut:
    outcome = await handlers.decide_eligibility(
        uow, household_id, settings.policy(), expected_version=version
    )
    set_version(response, outcome.version)
    decided = outcome.events[0].payload
    return EligibilityOut(
        household_id=household_id,
        eligible=decided["eligible"],
        reasons=decided["reasons"],
        pmt_score=decided["pmt_score"],
        policy_version=decided["policy_version"],
        version=outcome.version,
    )


@router.post(
    "/{household_id}/deactivation",
    response_model=HouseholdOut,
    summary="Deactivate: moved, deceased, duplicate",
    responses=errors(*CHANGES, DUPLICATE_OF_REQUIRED, DUPLICATE_OF_SELF),
)
async def deactivate(
    household_id: UUID,
    form: DeactivationIn,
    uow: OperatorWork,
    settings: Settings,
    version: IfMatch,
    session: Reads,
    response: Response,
) -> HouseholdOut:
    await handlers.deactivate(
        uow, household_id, form, commitments(settings), expected_version=version
    )
    return await _household(session, household_id, response)


@router.get(
    "/{household_id}/history",
    response_model=list[HistoryEventOut],
    summary="The household's events, oldest first",
    responses=errors(HOUSEHOLD_NOT_FOUND),
)
async def household_history(
    household_id: UUID, session: Reads, principal: Reader
) -> list[HistoryEventOut]:
    events = await eventstore.load(session, household_id)
    if not events:
        raise DomainError(HOUSEHOLD_NOT_FOUND, f"no household {household_id}", field="household_id")
    return [
        HistoryEventOut(
            event_id=e.event_id,
            type=e.type,
            version=e.aggregate_version,
            occurred_at=e.occurred_at,
            actor=e.actor,
            payload=e.payload,
        )
        for e in events
    ]
