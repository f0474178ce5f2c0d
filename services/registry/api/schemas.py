"""What the registry's API takes and answers: request bodies with the NIK/KK rules, and a
response model for every route (so /docs shows the real replies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.registry.domain.nik import NIK_RULES, check_kk, check_nik
from services.registry.domain.pmt import SurveyAnswers
from shared import clock
from shared.events.community_appeals import AppealReason
from shared.events.registry import Relationship, Sex, Vulnerability

RT_PATTERN = r"^(00[1-9]|0[1-9]\d|[1-9]\d\d)$"
Status = Literal["active", "inactive"]


# --- requests ------------------------------------------------------------------------------
class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=120)
    birth_date: date
    sex: Sex
    # The NIK rules (nik.py) name what is wrong with a short or long one; the bound only
    # keeps a megabyte out.
    nik: str = Field(max_length=32, description="16-digit NIK from the KTP or KK")
    relationship: Relationship
    disabled: bool = False

    @field_validator("birth_date")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > clock.today() or value.year < 1900:
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

    kk_number: str = Field(
        max_length=32, description="16-digit family card (Kartu Keluarga) number"
    )
    rt: str = Field(pattern=RT_PATTERN, examples=["005"])
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

    rt: str | None = Field(default=None, pattern=RT_PATTERN)
    rw: str | None = Field(default=None, pattern=r"^\d{2}$")
    address: str | None = Field(default=None, min_length=3, max_length=300)
    phone: str | None = Field(default=None, pattern=r"^\+?\d{8,15}$")
    monthly_income_idr: int | None = Field(default=None, ge=0, le=1_000_000_000)
    desil: int | None = Field(default=None, ge=1, le=10)
    dtks_ref: str | None = Field(default=None, max_length=40)

    def personal(self) -> dict[str, Any]:
        """The personal-data fields the operator sent (they stay in the registry)."""
        return self.model_dump(include={"address", "phone", "dtks_ref"}, exclude_unset=True)


class SurveyIn(SurveyAnswers):
    surveyed_on: date

    def answers(self) -> SurveyAnswers:
        return SurveyAnswers(**self.model_dump(exclude={"surveyed_on"}))


class DeactivationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Literal["moved", "deceased", "duplicate"]
    note: str = Field(default="", max_length=500)
    duplicate_of: UUID | None = None


# --- replies -------------------------------------------------------------------------------
class MemberOut(BaseModel):
    member_id: UUID
    full_name: str
    nik: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    disabled: bool


class HouseholdOut(BaseModel):
    """A household as operators see it: its facts, personal data and members."""

    household_id: UUID
    status: Status
    rt: str
    rw: str
    member_count: int
    monthly_income_idr: int
    desil: int | None
    dtks_listed: bool
    pmt_score: int | None
    eligible: bool | None
    eligibility_reasons: list[str] | None
    deactivation_reason: str | None
    version: int
    registered_at: datetime
    updated_at: datetime
    kk_number: str
    address: str
    phone: str | None
    dtks_ref: str | None
    vulnerability: list[Vulnerability]
    members: list[MemberOut]
    head_nik_masked: str = Field(description="the head's NIK as lists show it")
    deactivation_note: str | None


class HouseholdSummary(BaseModel):
    """One row of the operators' list."""

    household_id: UUID
    status: Status
    rt: str
    rw: str
    member_count: int
    desil: int | None
    pmt_score: int | None
    eligible: bool | None
    head_name: str
    head_nik_masked: str
    vulnerability: list[Vulnerability]
    version: int


class SurveyOut(BaseModel):
    household_id: UUID
    survey_id: UUID
    pmt_score: int
    formula_version: str
    version: int


class EligibilityOut(BaseModel):
    household_id: UUID
    eligible: bool
    reasons: list[str]
    pmt_score: int | None
    policy_version: str
    version: int


class HistoryEventOut(BaseModel):
    event_id: UUID
    type: str
    version: int
    occurred_at: datetime
    actor: str
    payload: dict[str, Any]


class ImportErrorOut(BaseModel):
    """One line of an import's error report: the file's row, its column as the file names
    it, the cell as written and the rule it broke (README "Import a DTKS list")."""

    row: int
    column: str
    value: str
    rule: str


class ImportSummaryOut(BaseModel):
    """An import job as the list shows it: what it did, not its report's lines."""

    job_id: UUID
    filename: str
    format: Literal["csv", "xlsx"]
    status: Literal["queued", "running", "done", "failed"]
    rows_total: int | None = Field(description="the file's data rows, once counted")
    rows_read: int
    rows_accepted: int = Field(description="new households' rows and new members")
    rows_updated: int = Field(description="rows of registered households whose data changed")
    rows_unchanged: int
    rows_refused: int
    households_registered: int
    households_updated: int
    households_unchanged: int
    households_refused: int
    rows_per_s: float | None
    eta_s: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    failure: str | None
    errors_csv: str | None = Field(
        description="the whole error report (CSV: row,column,value,rule); None once deleted"
    )
    report_expires_at: datetime | None = Field(
        description="when the error report, which quotes the refused cells, will be deleted "
        "(BANSOS_IMPORT_REPORT_DAYS after the job ended)"
    )
    report_expired_at: datetime | None = Field(description="when it was deleted")


class ImportOut(ImportSummaryOut):
    """An import job with the first lines of its error report."""

    errors: list[ImportErrorOut] = Field(description="the first lines of the error report")


class ResurveyOut(BaseModel):
    """One re-survey an appeal asked for (the operators' work list): the household to visit
    again, why the resident appealed, and how far it is."""

    appeal_id: UUID
    household_id: UUID
    rt: str
    rw: str
    head_name: str
    reason: AppealReason
    requested_at: datetime
    surveyed_at: datetime | None = Field(description="the new survey, once recorded")
    completed_at: datetime | None = Field(description="the decision after it")
    verdict: Literal["eligible", "not_eligible", "deactivated"] | None
