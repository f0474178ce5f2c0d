"""The household's commands: what an operator, an import or an appeal asks of it, with
the facts its decider needs (read by the handler in the command's transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from services.registry.domain.pmt import SurveyAnswers
from shared.events.community_appeals import AppealReason
from shared.events.registry import DeactivationReason, MemberFacts

# NIK commitment -> the active household that holds it: a NIK belongs to one only.
Taken = Mapping[str, UUID]


@dataclass(frozen=True)
class RegisterHousehold:
    rt: str
    rw: str
    kk_commitment: str
    members: tuple[MemberFacts, ...]
    monthly_income_idr: int
    today: date
    desil: int | None = None
    dtks_listed: bool = False
    taken: Taken = field(default_factory=dict)  # of the members' NIKs


@dataclass(frozen=True)
class AddMember:
    member: MemberFacts
    today: date
    taken: Taken = field(default_factory=dict)  # of the member's NIK


@dataclass(frozen=True)
class UpdateHousehold:
    rt: str | None = None
    rw: str | None = None
    monthly_income_idr: int | None = None
    desil: int | None = None
    dtks_listed: bool | None = None
    address_changed: bool = False


@dataclass(frozen=True)
class RecordSurvey:
    survey_id: UUID
    surveyed_on: date
    answers: SurveyAnswers
    today: date


@dataclass(frozen=True)
class EligibilityPolicy:
    """Thresholds a programme manager can tune (settings); the version goes into the event."""

    poverty_line_idr: int = 850_000  # per capita per month, DKI Jakarta order of magnitude
    pmt_cutoff: int = 45
    desil_max: int = 4
    near_poor_factor: float = 1.5
    version: str = "eligibility-2026.1"


@dataclass(frozen=True)
class DecideEligibility:
    today: date
    policy: EligibilityPolicy = field(default_factory=EligibilityPolicy)


@dataclass(frozen=True)
class Deactivate:
    reason: DeactivationReason
    note_commitment: str | None = None  # salted; the note itself stays in the registry
    duplicate_of: UUID | None = None
    household_id: UUID | None = None  # the one being deactivated, to refuse self-duplicates
    duplicate_known: bool = True  # whether the registry knows the household `duplicate_of`


@dataclass(frozen=True)
class RequestResurvey:
    """The community's appeal matched this household (services/registry/consumers.py)."""

    appeal_id: UUID
    reason: AppealReason


@dataclass(frozen=True)
class Reconcile:
    """A registered household as an imported file lists it again (importer.py): its changed
    facts, then its new members, decided as those commands are, one after the other, so a
    batch decides each household once."""

    update: UpdateHousehold
    added: tuple[AddMember, ...] = ()


Command = (
    RegisterHousehold
    | AddMember
    | UpdateHousehold
    | RecordSurvey
    | DecideEligibility
    | Deactivate
    | Reconcile
    | RequestResurvey
)
