"""The household: its members, surveys and eligibility. A pure decider, no I/O.

Commands carry only what may leave the registry (commitments, RT/RW, flags); the handlers
keep names, NIK, KK and staff notes in the registry's private store
(docs/architecture.md#personal-data). Facts of
other households (which NIKs active households hold) come in on the command, read in the
command's transaction. Histories stored as version 1 events replay too: those classes
subclass version 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from services.registry.domain.commands import (
    AddMember,
    Command,
    Deactivate,
    DecideEligibility,
    Reconcile,
    RecordSurvey,
    RegisterHousehold,
    RequestResurvey,
    Taken,
    UpdateHousehold,
)
from services.registry.domain.pmt import FORMULA_VERSION, pmt_score
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
from shared.domain import DomainError
from shared.errors import HOUSEHOLD_INACTIVE, HOUSEHOLD_NOT_FOUND
from shared.events import EventPayload
from shared.events.community_appeals import AppealReason
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
    MemberFacts,
    ResurveyCompleted,
    ResurveyRequested,
    SurveyRecorded,
    Vulnerability,
)
from shared.uow import Decider

ELDERLY_AGE = 60
Verdict = Literal["eligible", "not_eligible", "deactivated"]  # of a completed re-survey
ADULT_AGE = 18


# --- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Survey:
    survey_id: UUID
    pmt_score: int


@dataclass(frozen=True)
class OpenAppeal:
    """An appeal whose re-survey is pending; `surveyed` once a survey came after it."""

    appeal_id: UUID
    reason: AppealReason
    surveyed: bool = False


@dataclass(frozen=True)
class Household:
    status: Literal["new", "active", "inactive"] = "new"
    rt: str = ""
    rw: str = ""
    members: tuple[MemberFacts, ...] = ()
    monthly_income_idr: int = 0
    desil: int | None = None
    dtks_listed: bool = False
    survey: Survey | None = None
    eligible: bool | None = None
    appeals: tuple[OpenAppeal, ...] = ()  # open re-surveys
    appeals_seen: frozenset[UUID] = frozenset()  # every appeal ever requested here


# --- rules ---------------------------------------------------------------------------------
def vulnerability(members: tuple[MemberFacts, ...], today: date) -> tuple[Vulnerability, ...]:
    """Ages are counted by birth year (the age a member reaches this calendar year)."""
    ages = [today.year - m.birth_year for m in members]
    flags: list[Vulnerability] = []
    if any(age >= ELDERLY_AGE for age in ages):
        flags.append("elderly")
    if any(m.disabled for m in members):
        flags.append("disabled")
    if any(age < ADULT_AGE for age in ages):
        flags.append("children")
    return tuple(flags)


def _require_active(state: Household) -> None:
    if state.status == "inactive":
        raise DomainError(HOUSEHOLD_INACTIVE, "the household is deactivated")
    if state.status != "active":
        raise DomainError(HOUSEHOLD_NOT_FOUND, "the household is not registered")


def _refuse_taken(nik_commitment: str, taken: Taken, field: str) -> None:
    """One active household per NIK: the holder is named, so the operator can look."""
    holder = taken.get(nik_commitment)
    if holder is not None:
        raise DomainError(
            NIK_ALREADY_REGISTERED,
            f"this NIK already belongs to active household {holder}",
            field=field,
        )


def _check_members(members: tuple[MemberFacts, ...], taken: Taken) -> None:
    heads = [m for m in members if m.relationship == "head"]
    if len(heads) != 1:
        raise DomainError(ONE_HEAD_REQUIRED, "a household has exactly one head", field="members")
    seen: set[str] = set()
    for i, m in enumerate(members):
        if m.nik_commitment in seen:
            raise DomainError(
                NIK_REPEATED,
                "the same NIK appears twice in the household",
                field=f"members.{i}.nik",
            )
        seen.add(m.nik_commitment)
        _refuse_taken(m.nik_commitment, taken, f"members.{i}.nik")


def decide(state: Household, command: Command) -> list[EventPayload]:
    match command:
        case RegisterHousehold():
            if state.status != "new":
                raise DomainError(HOUSEHOLD_EXISTS, "this household is already registered")
            _check_members(command.members, command.taken)
            return [
                HouseholdRegistered(
                    rt=command.rt,
                    rw=command.rw,
                    kk_commitment=command.kk_commitment,
                    members=command.members,
                    monthly_income_idr=command.monthly_income_idr,
                    desil=command.desil,
                    dtks_listed=command.dtks_listed,
                    vulnerability=vulnerability(command.members, command.today),
                )
            ]
        case AddMember(member=member):
            _require_active(state)
            if member.relationship == "head":
                raise DomainError(
                    ONE_HEAD_REQUIRED, "the household already has a head", field="relationship"
                )
            if any(m.nik_commitment == member.nik_commitment for m in state.members):
                raise DomainError(
                    NIK_ALREADY_MEMBER, "this NIK is already a member of the household", field="nik"
                )
            _refuse_taken(member.nik_commitment, command.taken, "nik")
            members = (*state.members, member)
            return [MemberAdded(member=member, vulnerability=vulnerability(members, command.today))]
        case UpdateHousehold():
            _require_active(state)
            return _update(state, command)
        case Reconcile():
            decided: list[EventPayload] = []
            steps: tuple[Command, ...] = (command.update, *command.added)
            for step in steps:
                for event in decide(state, step):
                    state = evolve(state, event)
                    decided.append(event)
            return decided
        case RecordSurvey():
            _require_active(state)
            if command.surveyed_on > command.today:
                raise DomainError(
                    SURVEYED_ON_FUTURE, "surveyed_on cannot be in the future", field="surveyed_on"
                )
            return [
                SurveyRecorded(
                    survey_id=command.survey_id,
                    surveyed_on=command.surveyed_on,
                    answers=command.answers.model_dump(),
                    pmt_score=pmt_score(command.answers),
                    formula_version=FORMULA_VERSION,
                )
            ]
        case DecideEligibility():
            _require_active(state)
            verdict = _eligibility(state, command)
            # The decision after an appeal's re-survey closes it; one before the re-survey
            # leaves it open (the appeal asked to look at the household again).
            closed = [a for a in state.appeals if a.surveyed]
            outcome: Verdict = "eligible" if verdict.eligible else "not_eligible"
            return [verdict, *_completed(state, closed, outcome, verdict.survey_id)]
        case RequestResurvey():
            _require_active(state)
            if command.appeal_id in state.appeals_seen:
                return []  # the same appeal delivered again
            return [
                ResurveyRequested(appeal_id=command.appeal_id, reason=command.reason, rw=state.rw)
            ]
        case Deactivate():
            _require_active(state)
            if command.reason == "duplicate" and command.duplicate_of is None:
                raise DomainError(
                    DUPLICATE_OF_REQUIRED,
                    "name the household this one duplicates",
                    field="duplicate_of",
                )
            if command.duplicate_of is not None and command.duplicate_of == command.household_id:
                raise DomainError(
                    DUPLICATE_OF_SELF, "a household cannot duplicate itself", field="duplicate_of"
                )
            if command.duplicate_of is not None and not command.duplicate_known:
                raise DomainError(
                    HOUSEHOLD_NOT_FOUND,
                    f"no household {command.duplicate_of}",
                    field="duplicate_of",
                )
            return [
                HouseholdDeactivated(
                    reason=command.reason,
                    note_commitment=command.note_commitment,
                    duplicate_of=command.duplicate_of,
                ),
                *_completed(state, state.appeals, "deactivated", None),
            ]
    raise TypeError(f"unknown command {command!r}")


def _completed(
    state: Household,
    appeals: Sequence[OpenAppeal],
    verdict: Verdict,
    survey_id: UUID | None,
) -> list[EventPayload]:
    return [
        ResurveyCompleted(
            appeal_id=a.appeal_id,
            reason=a.reason,
            rw=state.rw,
            verdict=verdict,
            survey_id=survey_id,
        )
        for a in appeals
    ]


def _update(state: Household, c: UpdateHousehold) -> list[EventPayload]:
    proposed = {
        "rt": c.rt,
        "rw": c.rw,
        "monthly_income_idr": c.monthly_income_idr,
        "desil": c.desil,
        "dtks_listed": c.dtks_listed,
    }
    changed = {k: v for k, v in proposed.items() if v is not None and getattr(state, k) != v}
    if not changed and not c.address_changed:
        return []
    names = tuple(sorted(changed)) + (("address",) if c.address_changed else ())
    return [HouseholdUpdated(**changed, address_changed=c.address_changed, changed=names)]


def _eligibility(state: Household, c: DecideEligibility) -> EligibilityDecided:
    """Eligible on economic need; vulnerability makes a near-poor household eligible too."""
    p = c.policy
    flags = vulnerability(state.members, c.today)
    per_capita = state.monthly_income_idr / max(1, len(state.members))
    need: list[str] = []
    if per_capita < p.poverty_line_idr:
        need.append("low_income")
    if state.survey is not None and state.survey.pmt_score <= p.pmt_cutoff:
        need.append("low_pmt_score")
    if state.desil is not None and state.desil <= p.desil_max:
        need.append(f"desil_{state.desil}")
    vulnerable = [
        {"elderly": "elderly_member", "disabled": "disabled_member", "children": "children"}[f]
        for f in flags
    ]
    near_poor = per_capita < p.poverty_line_idr * p.near_poor_factor
    eligible = bool(need) or (bool(vulnerable) and near_poor)
    if eligible:
        reasons = need + vulnerable + ([] if need else ["near_poor"])
    else:
        reasons = ["income_above_threshold"]
        if state.survey is not None:
            reasons.append("pmt_above_cutoff")
        if state.survey is None:
            reasons.append("no_survey")
    return EligibilityDecided(
        eligible=eligible,
        reasons=tuple(reasons),
        pmt_score=state.survey.pmt_score if state.survey else None,
        desil=state.desil,
        survey_id=state.survey.survey_id if state.survey else None,
        rt=state.rt,
        rw=state.rw,
        vulnerability=flags,
        member_commitments=tuple(m.nik_commitment for m in state.members),
        policy_version=p.version,
    )


def evolve(state: Household, event: EventPayload) -> Household:
    match event:
        case HouseholdRegistered():
            return replace(
                state,
                status="active",
                rt=event.rt,
                rw=event.rw,
                members=event.members,
                monthly_income_idr=event.monthly_income_idr,
                desil=event.desil,
                dtks_listed=event.dtks_listed,
            )
        case MemberAdded():
            return replace(state, members=(*state.members, event.member))
        case HouseholdUpdated():
            changes = {k: getattr(event, k) for k in event.changed if k != "address"}
            return replace(state, **changes)
        case SurveyRecorded():
            surveyed = tuple(replace(a, surveyed=True) for a in state.appeals)
            return replace(state, survey=Survey(event.survey_id, event.pmt_score), appeals=surveyed)
        case ResurveyRequested():
            return replace(
                state,
                appeals=(*state.appeals, OpenAppeal(event.appeal_id, event.reason)),
                appeals_seen=state.appeals_seen | {event.appeal_id},
            )
        case ResurveyCompleted():
            left = tuple(a for a in state.appeals if a.appeal_id != event.appeal_id)
            return replace(state, appeals=left)
        case EligibilityDecided():
            return replace(state, eligible=event.eligible)
        case HouseholdDeactivated():
            return replace(state, status="inactive")
    return state


households: Decider[Household, Command] = Decider("household", Household(), decide, evolve)
