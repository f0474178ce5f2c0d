"""Registry HTTP API: registration, members, updates, surveys, eligibility, queries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import domain
from services.registry.nik import NIK_RULES, check_kk, check_nik, masked
from services.registry.pmt import SurveyAnswers
from services.registry.projections import (
    active_niks,
    deactivation_notes,
    household_pii,
    households,
    members,
)
from services.registry.settings import RegistrySettings
from shared import eventstore
from shared.api import caller, check_rw, decode_cursor, if_match, page, runtime, set_version
from shared.auth import Principal, Role, require
from shared.domain import Conflict, DomainError, NotFound
from shared.events import Envelope
from shared.events.registry import MemberFacts, Relationship, Sex
from shared.pii import commitments
from shared.service import Outcome

router = APIRouter(prefix="/households", tags=["households"])
Operator = Annotated[Principal, require(Role.registry_operator)]
Reader = Annotated[Principal, require(Role.registry_operator, Role.auditor)]


# --- request bodies ------------------------------------------------------------------------
class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=120)
    birth_date: date
    sex: Sex
    nik: str = Field(description="16-digit NIK from the KTP or KK")
    relationship: Relationship
    disabled: bool = False

    @field_validator("birth_date")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today() or value.year < 1900:
            raise PydanticCustomError("birth_date_range", "birth_date must be in the past")
        return value

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str, info: ValidationInfo) -> str:
        born, sex = info.data.get("birth_date"), info.data.get("sex")
        rule = check_nik(value, born or date(1900, 1, 1), sex or "M")
        if rule is not None and ((born is not None and sex is not None) or rule == "nik_format"):
            raise PydanticCustomError(rule, NIK_RULES[rule])
        return value


class HouseholdIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kk_number: str = Field(description="16-digit family card (Kartu Keluarga) number")
    rt: str = Field(pattern=r"^(00[1-9]|0[1-9]\d|[1-9]\d\d)$", examples=["005"])
    rw: str = Field(pattern=r"^\d{2}$", examples=["03"])
    address: str = Field(min_length=3, max_length=300)
    phone: str | None = Field(default=None, pattern=r"^\+?\d{8,15}$")
    monthly_income_idr: int = Field(ge=0, le=1_000_000_000)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_ref: str | None = Field(default=None, max_length=40)
    members: list[MemberIn] = Field(min_length=1, max_length=30)

    @field_validator("kk_number")
    @classmethod
    def _kk(cls, value: str) -> str:
        rule = check_kk(value)
        if rule is not None:
            raise PydanticCustomError(rule, NIK_RULES[rule])
        return value


class HouseholdPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rt: str | None = Field(default=None, pattern=r"^(00[1-9]|0[1-9]\d|[1-9]\d\d)$")
    rw: str | None = Field(default=None, pattern=r"^\d{2}$")
    address: str | None = Field(default=None, min_length=3, max_length=300)
    phone: str | None = Field(default=None, pattern=r"^\+?\d{8,15}$")
    monthly_income_idr: int | None = Field(default=None, ge=0, le=1_000_000_000)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_ref: str | None = Field(default=None, max_length=40)


class SurveyIn(SurveyAnswers):
    surveyed_on: date


class DeactivationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Literal["moved", "deceased", "duplicate"]
    note: str = Field(default="", max_length=500)
    duplicate_of: UUID | None = None


# --- helpers -------------------------------------------------------------------------------
def _settings(request: Request) -> RegistrySettings:
    settings: RegistrySettings = request.app.state.settings
    return settings


def _facts(settings: RegistrySettings, m: MemberIn, member_id: UUID) -> MemberFacts:
    return MemberFacts(
        member_id=member_id,
        nik_commitment=commitments(settings).nik(m.nik),
        sex=m.sex,
        birth_year=m.birth_date.year,
        relationship=m.relationship,
        disabled=m.disabled,
    )


async def _refuse_taken_niks(
    session: AsyncSession, facts: list[MemberFacts], field_prefix: str
) -> None:
    """A NIK may belong to one active household only: 409 naming the holder."""
    wanted = {f.nik_commitment: i for i, f in enumerate(facts)}
    rows = await session.execute(
        select(active_niks).where(active_niks.c.nik_commitment.in_(list(wanted)))
    )
    for nik_commitment, household_id in rows:
        index = wanted[nik_commitment]
        field = f"{field_prefix}.{index}.nik" if field_prefix else "nik"
        raise Conflict(
            "nik_already_registered",
            f"this NIK already belongs to active household {household_id}",
            field=field,
        )


def _member_row(household_id: UUID, member_id: UUID, m: MemberIn, pos: int) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "household_id": household_id,
        "full_name": m.full_name,
        "nik": m.nik,
        "birth_date": m.birth_date,
        "sex": m.sex,
        "relationship": m.relationship,
        "disabled": m.disabled,
        "position": pos,
    }


async def _read(session: AsyncSession, household_id: UUID) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                select(
                    households,
                    household_pii.c.kk_number,
                    household_pii.c.address,
                    household_pii.c.phone,
                    household_pii.c.dtks_ref,
                )
                .join(household_pii, household_pii.c.household_id == households.c.household_id)
                .where(households.c.household_id == household_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("household_not_found", f"no household {household_id}", field="household_id")
    people = (
        await session.execute(
            select(members)
            .where(members.c.household_id == household_id)
            .order_by(members.c.position)
        )
    ).mappings()
    out = {k: v for k, v in row.items() if k != "seq"}
    out["vulnerability"] = [f for f in ("elderly", "disabled", "children") if out.pop(f)]
    out["members"] = [
        {k: v for k, v in p.items() if k not in ("household_id", "position")} for p in people
    ]
    out["head_nik_masked"] = _head_masked(out["members"])
    out["deactivation_note"] = await session.scalar(
        select(deactivation_notes.c.note).where(deactivation_notes.c.household_id == household_id)
    )
    return out


def _head_masked(people: list[dict[str, Any]]) -> str:
    """The head's NIK as operators' lists show it, from this service's own store (events
    carry no masked NIK)."""
    return masked(next(p["nik"] for p in people if p["relationship"] == "head"))


def _registered_reply(
    body: HouseholdIn, registered: Envelope, member_ids: list[UUID]
) -> dict[str, Any]:
    """The shape of GET /households/{id}, built from what was just written (no read-back)."""
    event = registered.payload
    people = [
        {"member_id": mid, **m.model_dump()}
        for m, mid in zip(body.members, member_ids, strict=True)
    ]
    return {
        "household_id": registered.aggregate_id,
        "status": "active",
        "rt": body.rt,
        "rw": body.rw,
        "member_count": len(body.members),
        "monthly_income_idr": body.monthly_income_idr,
        "desil": body.desil,
        "dtks_listed": event["dtks_listed"],
        "pmt_score": None,
        "eligible": None,
        "eligibility_reasons": None,
        "deactivation_reason": None,
        "version": registered.aggregate_version,
        "registered_at": registered.occurred_at,
        "updated_at": registered.occurred_at,
        "kk_number": body.kk_number,
        "address": body.address,
        "phone": body.phone,
        "dtks_ref": body.dtks_ref,
        "vulnerability": list(event["vulnerability"]),
        "members": people,
        "head_nik_masked": _head_masked(people),
        "deactivation_note": None,
    }


async def _reply(
    request: Request, response: Response, household_id: UUID, version: int
) -> dict[str, Any]:
    set_version(response, version)
    async with runtime(request).reads() as session:
        return await _read(session, household_id)


async def _update(
    request: Request,
    household_id: UUID,
    principal: Principal,
    command: domain.Command,
    **options: Any,
) -> Outcome[domain.Household]:
    """A command on a registered household, as the caller, guarded by If-Match."""
    return await runtime(request).commands.execute(
        domain.households,
        household_id,
        command,
        caller(principal),
        expected_version=if_match(request),
        **options,
    )


# --- routes --------------------------------------------------------------------------------
@router.post("", status_code=201, summary="Register a household from a field survey form")
async def register(
    body: HouseholdIn, request: Request, response: Response, principal: Operator
) -> dict[str, Any]:
    settings = _settings(request)
    check_rw(settings, body.rw)
    household_id = uuid4()
    member_ids = [uuid4() for _ in body.members]
    facts = [_facts(settings, m, mid) for m, mid in zip(body.members, member_ids, strict=True)]
    command = domain.RegisterHousehold(
        rt=body.rt,
        rw=body.rw,
        kk_commitment=commitments(settings).kk(body.kk_number),
        members=tuple(facts),
        monthly_income_idr=body.monthly_income_idr,
        desil=body.desil,
        dtks_listed=body.dtks_ref is not None,
        today=date.today(),
    )

    async def store_personal_data(session: AsyncSession, _: Any) -> None:
        await session.execute(
            insert(household_pii).values(
                household_id=household_id,
                kk_number=body.kk_number,
                address=body.address,
                phone=body.phone,
                dtks_ref=body.dtks_ref,
            )
        )
        await session.execute(
            insert(members),
            [
                _member_row(household_id, mid, m, i)
                for i, (m, mid) in enumerate(zip(body.members, member_ids, strict=True))
            ],
        )

    outcome = await runtime(request).commands.execute(
        domain.households,
        household_id,
        command,
        caller(principal),
        must_exist=False,
        also=store_personal_data,
        guard=lambda session: _refuse_taken_niks(session, facts, "members"),
    )
    response.headers["Location"] = f"/households/{household_id}"
    set_version(response, outcome.version)
    return _registered_reply(body, outcome.events[0], member_ids)


@router.get("/{household_id}", summary="One household with its members (personal data)")
async def get_household(
    household_id: UUID, request: Request, response: Response, principal: Reader
) -> dict[str, Any]:
    async with runtime(request).reads() as session:
        out = await _read(session, household_id)
    set_version(response, out["version"])
    return out


@router.get("", summary="List households with filters and cursor paging")
async def list_households(
    request: Request,
    principal: Reader,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    rt: Annotated[str | None, Query(pattern=r"^\d{3}$")] = None,
    status: Literal["active", "inactive"] | None = None,
    vulnerability: Literal["elderly", "disabled", "children"] | None = None,
    desil: Annotated[int | None, Query(ge=1, le=10)] = None,
    eligible: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    h = households.c
    conditions = [h.seq > decode_cursor(cursor)]
    for column, value in (
        (h.rw, rw),
        (h.rt, rt),
        (h.status, status),
        (h.desil, desil),
        (h.eligible, eligible),
    ):
        if value is not None:
            conditions.append(column == value)
    if vulnerability is not None:
        conditions.append(getattr(h, vulnerability).is_(True))
    head = members.alias("head")
    query = (
        select(
            h.seq,
            h.household_id,
            h.status,
            h.rt,
            h.rw,
            h.member_count,
            h.desil,
            h.elderly,
            h.disabled,
            h.children,
            h.pmt_score,
            h.eligible,
            head.c.nik.label("head_nik"),
            head.c.full_name.label("head_name"),
            h.version,
        )
        .join(head, and_(head.c.household_id == h.household_id, head.c.relationship == "head"))
        .where(and_(*conditions))
        .order_by(h.seq)
        .limit(limit + 1)
    )
    async with runtime(request).reads() as session:
        rows = [dict(r) for r in (await session.execute(query)).mappings()]
    for r in rows:
        r["vulnerability"] = [f for f in ("elderly", "disabled", "children") if r.pop(f)]
        r["head_nik_masked"] = masked(r.pop("head_nik"))
    result = page(rows, limit, "seq")
    for r in result["items"]:
        r.pop("seq")
    return result


@router.post("/{household_id}/members", status_code=201, summary="Add a member")
async def add_member(
    household_id: UUID, body: MemberIn, request: Request, response: Response, principal: Operator
) -> dict[str, Any]:
    settings = _settings(request)
    member_id = uuid4()
    facts = _facts(settings, body, member_id)

    async def store_personal_data(session: AsyncSession, _: Any) -> None:
        count = len(
            (
                await session.execute(
                    select(members.c.member_id).where(members.c.household_id == household_id)
                )
            ).all()
        )
        await session.execute(
            insert(members).values(_member_row(household_id, member_id, body, count))
        )

    outcome = await _update(
        request,
        household_id,
        principal,
        domain.AddMember(member=facts, today=date.today()),
        also=store_personal_data,
        guard=lambda session: _refuse_taken_niks(session, [facts], ""),
    )
    return await _reply(request, response, household_id, outcome.version)


@router.patch("/{household_id}", summary="Update RT/RW, address, income or desil")
async def update_household(
    household_id: UUID,
    body: HouseholdPatch,
    request: Request,
    response: Response,
    principal: Operator,
) -> dict[str, Any]:
    check_rw(_settings(request), body.rw)
    pii = body.model_dump(include={"address", "phone", "dtks_ref"}, exclude_unset=True)
    command = domain.UpdateHousehold(
        rt=body.rt,
        rw=body.rw,
        monthly_income_idr=body.monthly_income_idr,
        desil=body.desil,
        dtks_listed=True if body.dtks_ref else None,
        address_changed="address" in pii,
    )

    async def store_personal_data(session: AsyncSession, _: Any) -> None:
        if pii:
            await session.execute(
                update(household_pii)
                .where(household_pii.c.household_id == household_id)
                .values(**pii)
            )

    outcome = await _update(request, household_id, principal, command, also=store_personal_data)
    return await _reply(request, response, household_id, outcome.version)


@router.post("/{household_id}/surveys", status_code=201, summary="Record a field survey")
async def record_survey(
    household_id: UUID, body: SurveyIn, request: Request, response: Response, principal: Operator
) -> dict[str, Any]:
    if body.surveyed_on > date.today():
        raise DomainError(
            "surveyed_on_future", "surveyed_on cannot be in the future", field="surveyed_on"
        )
    survey_id = uuid4()
    answers = SurveyAnswers(**body.model_dump(exclude={"surveyed_on"}))
    outcome = await _update(
        request,
        household_id,
        principal,
        domain.RecordSurvey(survey_id=survey_id, surveyed_on=body.surveyed_on, answers=answers),
    )
    set_version(response, outcome.version)
    recorded = outcome.events[0].payload
    return {
        "household_id": household_id,
        "survey_id": survey_id,
        "pmt_score": recorded["pmt_score"],
        "formula_version": recorded["formula_version"],
        "version": outcome.version,
    }


@router.post("/{household_id}/eligibility", summary="Decide eligibility from the latest facts")
async def decide_eligibility(
    household_id: UUID, request: Request, response: Response, principal: Operator
) -> dict[str, Any]:
    command = domain.DecideEligibility(today=date.today(), policy=_settings(request).policy())
    outcome = await _update(request, household_id, principal, command)
    set_version(response, outcome.version)
    decided = outcome.events[0].payload
    return {
        "household_id": household_id,
        "eligible": decided["eligible"],
        "reasons": decided["reasons"],
        "pmt_score": decided["pmt_score"],
        "policy_version": decided["policy_version"],
        "version": outcome.version,
    }


@router.post("/{household_id}/deactivation", summary="Deactivate: moved, deceased, duplicate")
async def deactivate(
    household_id: UUID,
    body: DeactivationIn,
    request: Request,
    response: Response,
    principal: Operator,
) -> dict[str, Any]:
    # The note stays here, beside the salt of the commitment the event carries.
    note = commitments(_settings(request)).salted("text", body.note) if body.note else None
    command = domain.Deactivate(
        reason=body.reason,
        note_commitment=note.commitment if note else None,
        duplicate_of=body.duplicate_of,
        household_id=household_id,
    )

    async def store_note(session: AsyncSession, _: Any) -> None:
        if note is not None:
            await session.execute(
                insert(deactivation_notes).values(
                    household_id=household_id, note=body.note, salt=note.salt
                )
            )

    if body.duplicate_of is not None:
        async with runtime(request).reads() as session:
            if (
                await session.scalar(
                    select(households.c.seq).where(households.c.household_id == body.duplicate_of)
                )
                is None
            ):
                raise NotFound(
                    "household_not_found", f"no household {body.duplicate_of}", field="duplicate_of"
                )
    outcome = await _update(request, household_id, principal, command, also=store_note)
    return await _reply(request, response, household_id, outcome.version)


@router.get("/{household_id}/history", summary="The household's events, oldest first")
async def household_history(
    household_id: UUID, request: Request, principal: Reader
) -> list[dict[str, Any]]:
    async with runtime(request).reads() as session:
        events = await eventstore.load(session, household_id)
    if not events:
        raise NotFound("household_not_found", f"no household {household_id}", field="household_id")
    return [
        {
            "event_id": e.event_id,
            "type": e.type,
            "version": e.aggregate_version,
            "occurred_at": e.occurred_at,
            "actor": e.actor,
            "payload": e.payload,
        }
        for e in events
    ]
