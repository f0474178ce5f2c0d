"""Registry events. No names, NIK or KK on the bus (docs/architecture.md#personal-data), not even
masked: keyed
commitments only, where another service must match a person (an officer types the NIK
from a KTP; distribution and training compute the same commitment).

Schema version 2 dropped the masked NIK/KK and the deactivation note of version 1;
version 1 classes stay registered so that events already stored still read (as
subclasses of version 2, so deciders and projections see one type)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.community_appeals import AppealReason
from shared.events.envelope import EventPayload

Sex = Literal["M", "F"]
Relationship = Literal["head", "spouse", "child", "parent", "grandchild", "other_relative", "other"]
Vulnerability = Literal["elderly", "disabled", "children"]
DeactivationReason = Literal["moved", "deceased", "duplicate"]
RT = Field(pattern=r"^\d{3}$", description="Rukun Tetangga, three digits, e.g. 005")
RW = Field(pattern=r"^\d{2}$", description="Rukun Warga, two digits, e.g. 03")
Commitment = Field(pattern=r"^[0-9a-f]{64}$")


class MemberFacts(BaseModel):
    """What other services may know of a member: enough to match and to count, no identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_id: UUID
    nik_commitment: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="hex HMAC-SHA256(NIK key, NIK)"
    )
    sex: Sex
    birth_year: int = Field(ge=1900, le=2200)
    relationship: Relationship
    disabled: bool


class _Household(EventPayload):
    aggregate_type = "household"


class HouseholdRegistered(_Household):
    event_type = "registry.household_registered"
    schema_version = 2

    rt: str = RT
    rw: str = RW
    kk_commitment: str = Field(pattern=r"^[0-9a-f]{64}$", description="HMAC(KK key, KK)")
    members: tuple[MemberFacts, ...]
    monthly_income_idr: int = Field(ge=0)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_listed: bool = False
    vulnerability: tuple[Vulnerability, ...] = ()

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"rw": self.rw}


class MemberAdded(_Household):
    event_type = "registry.member_added"
    schema_version = 2

    member: MemberFacts
    vulnerability: tuple[Vulnerability, ...] = ()

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {}


class HouseholdUpdated(_Household):
    event_type = "registry.household_updated"

    rt: str | None = None
    rw: str | None = None
    monthly_income_idr: int | None = Field(default=None, ge=0)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_listed: bool | None = None
    address_changed: bool = False
    changed: tuple[str, ...] = ()

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {}


class SurveyRecorded(_Household):
    event_type = "registry.survey_recorded"

    survey_id: UUID
    surveyed_on: date
    answers: dict[str, int | str | bool]
    pmt_score: int = Field(ge=0, le=100, description="proxy-means score; lower is poorer")
    formula_version: str

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"formula_version": self.formula_version}


class EligibilityDecided(_Household):
    event_type = "registry.eligibility_decided"
    schema_version = 2

    eligible: bool
    reasons: tuple[str, ...]
    pmt_score: int | None = None
    desil: int | None = None
    survey_id: UUID | None = None
    rt: str = RT
    rw: str = RW
    vulnerability: tuple[Vulnerability, ...] = ()
    member_commitments: tuple[str, ...] = ()
    policy_version: str

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # Whether one household is eligible, and why (a disability, an elderly member),
        # is the household's own business: the public page shows counts per RW instead.
        return {"rw": self.rw, "policy_version": self.policy_version}


class HouseholdDeactivated(_Household):
    event_type = "registry.household_deactivated"
    schema_version = 2

    reason: DeactivationReason
    note_commitment: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="salted HMAC of the staff note"
    )
    duplicate_of: UUID | None = None

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {}


# --- appeals (issue 15): the community's appeal re-surveys a household ------------------
class ResurveyRequested(_Household):
    """An appeal matched this household: its operators re-survey it and decide again."""

    event_type = "registry.resurvey_requested"

    appeal_id: UUID
    reason: AppealReason
    rw: str = RW

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # A household's leaf: its public facts must hold of ten others, and an appeal's
        # reason in an RW may be one household's alone. The community's appeal events,
        # which name no household, show the reason and outcome instead.
        return {"rw": self.rw}


class ResurveyCompleted(_Household):
    """The decision after the re-survey closes the appeal: `eligible` is the new verdict
    (`deactivated` when the household left the registry meanwhile)."""

    event_type = "registry.resurvey_completed"

    appeal_id: UUID
    reason: AppealReason
    rw: str = RW
    verdict: Literal["eligible", "not_eligible", "deactivated"]
    survey_id: UUID | None = None

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"rw": self.rw}  # as ResurveyRequested: the household's verdict is its own


class AppealUnmatched(EventPayload):
    """No active household has the appeal's NIK or KK: the community tells the resident.
    Its aggregate is the registry's intake of that appeal (`appeal_intake`)."""

    event_type = "registry.appeal_unmatched"
    aggregate_type = "appeal_intake"

    appeal_id: UUID
    reason: AppealReason
    rw: str = RW

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"rw": self.rw, "category": self.reason, "outcome": "unmatched"}


# --- version 1, read only ------------------------------------------------------------------
class MemberFactsV1(MemberFacts):
    nik_masked: str


class HouseholdRegisteredV1(HouseholdRegistered):
    schema_version = 1

    kk_masked: str
    members: tuple[MemberFactsV1, ...]


class MemberAddedV1(MemberAdded):
    schema_version = 1

    member: MemberFactsV1


class EligibilityDecidedV1(EligibilityDecided):
    schema_version = 1

    head_nik_masked: str


class HouseholdDeactivatedV1(HouseholdDeactivated):
    schema_version = 1

    note: str = ""
