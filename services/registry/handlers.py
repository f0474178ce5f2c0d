"""The registry's commands, one named function each: the facts it reads, what it decides
and everything it writes, in one unit of work (shared/uow.py). Personal data (names, NIK,
KK, addresses, notes) goes to the private store here, never into an event."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from services.registry import private, projections
from services.registry.api.schemas import (
    DeactivationIn,
    HouseholdIn,
    HouseholdPatch,
    MemberIn,
    SurveyIn,
)
from services.registry.domain.commands import (
    AddMember,
    Deactivate,
    DecideEligibility,
    EligibilityPolicy,
    RecordSurvey,
    RegisterHousehold,
    UpdateHousehold,
)
from services.registry.domain.household import Household, households
from shared import clock
from shared.events.registry import MemberFacts
from shared.pii import Commitments
from shared.uow import Outcome, UnitOfWork, retried


def member_facts(keys: Commitments, member: MemberIn, member_id: UUID) -> MemberFacts:
    """What other services may know of a member: a NIK commitment, sex, birth year."""
    return MemberFacts(
        member_id=member_id,
        nik_commitment=keys.nik(member.nik),
        sex=member.sex,
        birth_year=member.birth_date.year,
        relationship=member.relationship,
        disabled=member.disabled,
    )


@dataclass(frozen=True)
class Registered:
    outcome: Outcome[Household]
    member_ids: list[UUID]


@retried
async def register_household(uow: UnitOfWork, form: HouseholdIn, keys: Commitments) -> Registered:
    household_id = uuid4()
    member_ids = [uuid4() for _ in form.members]
    facts = tuple(member_facts(keys, m, i) for m, i in zip(form.members, member_ids, strict=True))
    async with uow:
        taken = await projections.holders(uow.session, [f.nik_commitment for f in facts])
        command = RegisterHousehold(
            rt=form.rt,
            rw=form.rw,
            kk_commitment=keys.kk(form.kk_number),
            members=facts,
            monthly_income_idr=form.monthly_income_idr,
            desil=form.desil,
            dtks_listed=form.dtks_ref is not None,
            today=clock.today(),
            taken=taken,
        )
        outcome = await uow.create(households, household_id, command)
        await private.keep_household(
            uow.session,
            household_id,
            kk_number=form.kk_number,
            address=form.address,
            phone=form.phone,
            dtks_ref=form.dtks_ref,
        )
        people = list(zip(member_ids, form.members, strict=True))
        await private.keep_members(uow.session, household_id, people, first=0)
    return Registered(outcome, member_ids)


@retried
async def add_member(
    uow: UnitOfWork,
    household_id: UUID,
    form: MemberIn,
    keys: Commitments,
    *,
    expected_version: int | None = None,
) -> Outcome[Household]:
    member_id = uuid4()
    facts = member_facts(keys, form, member_id)
    async with uow:
        taken = await projections.holders(uow.session, [facts.nik_commitment])
        command = AddMember(member=facts, today=clock.today(), taken=taken)
        outcome = await uow.execute(
            households, household_id, command, expected_version=expected_version
        )
        await private.keep_members(uow.session, household_id, [(member_id, form)])
    return outcome


@retried
async def update_household(
    uow: UnitOfWork,
    household_id: UUID,
    patch: HouseholdPatch,
    *,
    expected_version: int | None = None,
) -> Outcome[Household]:
    personal = patch.personal()
    command = UpdateHousehold(
        rt=patch.rt,
        rw=patch.rw,
        monthly_income_idr=patch.monthly_income_idr,
        desil=patch.desil,
        dtks_listed=True if patch.dtks_ref else None,
        address_changed="address" in personal,
    )
    async with uow:
        outcome = await uow.execute(
            households, household_id, command, expected_version=expected_version
        )
        await private.change_household(uow.session, household_id, **personal)
    return outcome


@retried
async def record_survey(
    uow: UnitOfWork, household_id: UUID, form: SurveyIn, *, expected_version: int | None = None
) -> Outcome[Household]:
    command = RecordSurvey(
        survey_id=uuid4(), surveyed_on=form.surveyed_on, answers=form.answers(), today=clock.today()
    )
    async with uow:
        return await uow.execute(
            households, household_id, command, expected_version=expected_version
        )


@retried
async def decide_eligibility(
    uow: UnitOfWork,
    household_id: UUID,
    policy: EligibilityPolicy,
    *,
    expected_version: int | None = None,
) -> Outcome[Household]:
    command = DecideEligibility(today=clock.today(), policy=policy)
    async with uow:
        return await uow.execute(
            households, household_id, command, expected_version=expected_version
        )


@retried
async def deactivate(
    uow: UnitOfWork,
    household_id: UUID,
    form: DeactivationIn,
    keys: Commitments,
    *,
    expected_version: int | None = None,
) -> Outcome[Household]:
    # The note stays here, beside the salt of the commitment the event carries.
    note = keys.salted("text", form.note) if form.note else None
    async with uow:
        known = form.duplicate_of is None or await projections.known(uow.session, form.duplicate_of)
        command = Deactivate(
            reason=form.reason,
            note_commitment=note.commitment if note else None,
            duplicate_of=form.duplicate_of,
            household_id=household_id,
            duplicate_known=known,
        )
        outcome = await uow.execute(
            households, household_id, command, expected_version=expected_version
        )
        if note is not None:
            await private.keep_deactivation_note(uow.session, household_id, form.note, note)
    return outcome
