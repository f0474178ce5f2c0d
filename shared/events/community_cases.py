"""Mentoring cases (pendampingan): a facilitator accompanies a household or a trainee,
plans and records visits, refers it to an office and closes the case with an outcome.

A case is about a vulnerable household, so what a case event carries is categories from
fixed lists, dates and ids; anything a facilitator writes (a visit's note, why a case was
referred, the office's answer) stays in the community service's private store and the
event carries only its salted commitment. The public views show the RW of a case opened
(nothing else of the one event that names a household), a visit's kind, a referral's
office, an answer's class and a closing's outcome: never the household, the member, the
reason, a visit's findings or needs, nor anything written."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload

CaseSubject = Literal["household", "trainee"]
CaseReason = Literal["after_aid", "after_training", "vulnerable_member", "complaint"]
VisitKind = Literal["home", "phone", "business_follow_up"]
Finding = Literal[
    "food_insecure",
    "no_income",
    "income_unstable",
    "health_problem",
    "disability_unsupported",
    "elderly_alone",
    "child_out_of_school",
    "housing_unsafe",
    "debt",
    "documents_missing",
    "aid_not_received",
    "doing_well",
    "other",
]
Need = Literal[
    "food",
    "health_care",
    "health_insurance",
    "job",
    "business_capital",
    "training",
    "schooling",
    "civil_documents",
    "housing_repair",
    "counselling",
    "other",
]
NextStep = Literal[
    "visit_again",
    "phone_again",
    "refer_to_office",
    "help_with_documents",
    "enrol_in_training",
    "register_for_aid",
    "file_complaint",
    "none",
]
IncomeBand = Literal[
    "none", "under_500k", "500k_to_1m", "1m_to_2m", "2m_to_3m", "over_3m"
]  # rupiah a month
Office = Literal["dinas_sosial", "puskesmas", "disnaker", "bpjs", "kelurahan", "other"]
OfficeAnswer = Literal["accepted", "served", "declined", "redirected", "no_answer"]
CaseOutcome = Literal[
    "needs_met",
    "improved",
    "referred_and_served",
    "no_change",
    "declined_support",
    "moved_away",
    "not_reachable",
]
# Words a facilitator wrote, if any: kept in the community's private store.
WrittenCommitment = Field(
    default=None,
    pattern=r"^[0-9a-f]{64}$",
    description="hex HMAC-SHA256(text key, salt || the text)",
)


class _Case(EventPayload):
    aggregate_type = "case"


class CaseOpened(_Case):
    event_type = "community.case_opened"

    subject: CaseSubject
    reason: CaseReason
    household_id: UUID = Field(description="as the registry names it (taken as given)")
    member_id: UUID | None = Field(default=None, description="the trainee, for a trainee")
    course_id: UUID | None = None
    complaint_id: UUID | None = None
    rw: str = Field(pattern=r"^\d{2}$")
    opened_on: date
    note_commitment: str | None = WrittenCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # The RW only: this leaf is about one household, and "a vulnerable member's case
        # in RW 06 on the 30th" would single it out among a few (every public fact of a
        # household holds of ten others, tests/e2e/test_outsider_view.py). The reasons
        # are counted per RW, small cells suppressed, by GET /cases/stats.
        return {"rw": self.rw}


class CaseVisitPlanned(_Case):
    event_type = "community.case_visit_planned"

    index: int = Field(ge=0, le=1000, description="the plan's position in the case")
    planned_on: date
    kind: VisitKind

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"kind": self.kind}


class CaseVisitRecorded(_Case):
    event_type = "community.case_visit_recorded"

    visited_on: date
    kind: VisitKind
    plan_index: int | None = Field(
        default=None, ge=0, le=1000, description="the planned visit this one made"
    )
    findings: tuple[Finding, ...] = ()
    needs: tuple[Need, ...] = ()
    next_steps: tuple[NextStep, ...] = ()
    business_running: bool | None = None
    income_band: IncomeBand | None = None
    note_commitment: str | None = WrittenCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"kind": self.kind}


class CaseReferred(_Case):
    event_type = "community.case_referred"

    index: int = Field(ge=0, le=1000, description="the referral's position in the case")
    office: Office
    referred_on: date
    due_on: date = Field(description="the office's answer is due (the referral SLA)")
    reason_commitment: str | None = WrittenCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"to": self.office}


class ReferralAnswered(_Case):
    event_type = "community.referral_answered"

    index: int = Field(ge=0, le=1000)
    office: Office
    answer: OfficeAnswer
    answered_on: date
    note_commitment: str | None = WrittenCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"to": self.office, "outcome": self.answer}


class CaseClosed(_Case):
    event_type = "community.case_closed"

    outcome: CaseOutcome
    closed_on: date
    note_commitment: str | None = WrittenCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"outcome": self.outcome}
