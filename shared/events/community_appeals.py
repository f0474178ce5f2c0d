"""Community events of appeals (banding): a household refused or dropped, or a resident on
its behalf, asks the registry to look again.

The household is named only by keyed commitments of the head's NIK or the KK number (the
registry computes the same ones to match it); the tracking code is a bearer secret, so
only its commitment travels; the resident's description stays in the community's store
(a salted commitment here). The public sees the RW, the reason category and the outcome
class, never which household or which appeal."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload

AppealReason = Literal["wrongly_refused", "wrongly_dropped", "data_outdated", "other"]
AppealOutcome = Literal["upheld", "rejected"]
RW = Field(pattern=r"^\d{2}$")


class _Appeal(EventPayload):
    aggregate_type = "appeal"

    rw: str = RW
    reason: AppealReason

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"rw": self.rw, "category": self.reason}


class AppealFiled(_Appeal):
    event_type = "community.appeal_filed"

    code_commitment: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="HMAC(ticket key, the tracking code)"
    )
    nik_commitment: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="HMAC(NIK key, the head's NIK)"
    )
    kk_commitment: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="HMAC(KK key, the KK number)"
    )
    description_commitment: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="salted HMAC of the description"
    )


class AppealResurveyScheduled(_Appeal):
    """The registry matched the household and put a re-survey on its operators' list."""

    event_type = "community.appeal_resurvey_scheduled"


class AppealDecided(_Appeal):
    """The registry decided again after the re-survey: upheld when now eligible."""

    event_type = "community.appeal_decided"

    outcome: AppealOutcome

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {**super().public(aggregate_id), "outcome": self.outcome}


class AppealUnmatched(_Appeal):
    """No active household of the registry has this NIK or KK: the resident is told."""

    event_type = "community.appeal_unmatched"

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {**super().public(aggregate_id), "outcome": "unmatched"}
