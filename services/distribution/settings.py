"""Distribution settings: the common ones, on port 8002."""

from __future__ import annotations

from shared.settings import CommonSettings, database_url_field


class DistributionSettings(CommonSettings):
    service_name: str = "distribution"
    database_url: str = database_url_field("distribution")
    http_port: int = 8002
