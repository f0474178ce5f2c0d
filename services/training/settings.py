"""Training settings: the common ones, on port 8003."""

from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings, database_url_field


class TrainingSettings(CommonSettings):
    service_name: str = "training"
    database_url: str = database_url_field("training")
    http_port: int = 8003
    completion_threshold_pct: int = Field(
        default=75,
        ge=1,
        le=100,
        description="attendance needed to complete, unless a course sets its own",
    )
