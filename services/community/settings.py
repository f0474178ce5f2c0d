"""Community settings: SLA, public filing limits, on port 8004."""

from __future__ import annotations

from pydantic import Field

from services.community.domain.appeal import AppealSlaPolicy
from services.community.domain.complaint import SlaPolicy
from shared.settings import CommonSettings, database_url_field


class CommunitySettings(CommonSettings):
    service_name: str = "community"
    database_url: str = database_url_field("community")
    http_port: int = 8004
    sla_acknowledge_days: int = Field(default=3, ge=1, le=60)
    sla_resolve_days: int = Field(default=14, ge=1, le=365)
    # Per source (client address), on the public endpoints; `limits` rate strings.
    complaint_rate: str = "5/10 minutes"
    feedback_rate: str = "20/10 minutes"
    tracking_rate: str = "60/minute"

    # Appeals (issue 15): the registry re-surveys and decides within this many days.
    appeal_decide_days: int = Field(default=30, ge=1, le=365)
    appeal_rate: str = "5/10 minutes"

    def sla(self) -> SlaPolicy:
        return SlaPolicy(self.sla_acknowledge_days, self.sla_resolve_days)

    def appeal_sla(self) -> AppealSlaPolicy:
        return AppealSlaPolicy(self.appeal_decide_days)
