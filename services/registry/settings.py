"""Registry settings: the common ones plus the eligibility policy."""

from __future__ import annotations

from pydantic import Field

from services.registry.domain.household import EligibilityPolicy
from shared.settings import CommonSettings, database_url_field


class RegistrySettings(CommonSettings):
    service_name: str = "registry"
    database_url: str = database_url_field("registry")
    http_port: int = 8001
    poverty_line_idr: int = Field(default=850_000, gt=0)
    pmt_cutoff: int = Field(default=45, ge=0, le=100)
    desil_max: int = Field(default=4, ge=1, le=10)

    def policy(self) -> EligibilityPolicy:
        return EligibilityPolicy(
            poverty_line_idr=self.poverty_line_idr,
            pmt_cutoff=self.pmt_cutoff,
            desil_max=self.desil_max,
        )
