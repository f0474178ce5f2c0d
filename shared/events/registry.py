"""Registry events. No names, NIK or KK in clear (DESIGN §7): masked values and commitments."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload

Sex = Literal["M", "F"]
Relationship = Literal["head", "spouse", "child", "parent", "grandchild", "other_relative", "other"]
Vulnerability = Literal["elderly", "disabled", "children"]
DeactivationReason = Literal["moved", "deceased", "duplicate"]
RT = Field(pattern=r"^\d{3}$", description="Rukun Tetangga, three digits, e.g. 005")
RW = Field(pattern=r"^\d{2}$", description="Rukun Warga, two digits, e.g. 03")


class MemberFacts(BaseModel):
    """What other services may know of a member: enough to match and to count, no identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_id: UUID
    nik_masked: str
    nik_commitment: str = Field(description="hex HMAC-SHA256(programme key, NIK)")
    sex: Sex
    birth_year: int
    relationship: Relationship
    disabled: bool


class _Household(EventPayload):
    aggregate_type = "household"


class HouseholdRegistered(_Household):
    event_type = "registry.household_registered"

    rt: str = RT
    rw: str = RW
    kk_masked: str
    kk_commitment: str
    members: tuple[MemberFacts, ...]
    monthly_income_idr: int = Field(ge=0)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_listed: bool = False
    vulnerability: tuple[Vulnerability, ...] = ()


class MemberAdded(_Household):
    event_type = "registry.member_added"

    member: MemberFacts
    vulnerability: tuple[Vulnerability, ...] = ()


class HouseholdUpdated(_Household):
    event_type = "registry.household_updated"

    rt: str | None = None
    rw: str | None = None
    monthly_income_idr: int | None = Field(default=None, ge=0)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_listed: bool | None = None
    address_changed: bool = False
    changed: tuple[str, ...] = ()


class SurveyRecorded(_Household):
    event_type = "registry.survey_recorded"

    survey_id: UUID
    surveyed_on: date
    answers: dict[str, int | str | bool]
    pmt_score: int = Field(ge=0, le=100, description="proxy-means score; lower is poorer")
    formula_version: str


class EligibilityDecided(_Household):
    event_type = "registry.eligibility_decided"

    eligible: bool
    reasons: tuple[str, ...]
    pmt_score: int | None = None
    desil: int | None = None
    survey_id: UUID | None = None
    rt: str = RT
    rw: str = RW
    vulnerability: tuple[Vulnerability, ...] = ()
    head_nik_masked: str
    member_commitments: tuple[str, ...] = ()
    policy_version: str


class HouseholdDeactivated(_Household):
    event_type = "registry.household_deactivated"

    reason: DeactivationReason
    note: str = ""
    duplicate_of: UUID | None = None
