"""Registry settings: the common ones plus the eligibility policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.registry.domain.commands import EligibilityPolicy
from shared.settings import CommonSettings, database_url_field


class RegistrySettings(CommonSettings):
    service_name: str = "registry"
    database_url: str = database_url_field("registry")
    http_port: int = 8001
    poverty_line_idr: int = Field(default=850_000, gt=0)
    pmt_cutoff: int = Field(default=45, ge=0, le=100)
    desil_max: int = Field(default=4, ge=1, le=10)
    # Imports (README "Import a DTKS list"): uploaded files wait here until their job is
    # done; a batch of rows commits at once; the worker runs in the service.
    import_dir: Path = Path("var/registry/imports")
    import_batch_rows: int = Field(default=500, ge=1, le=10_000)
    # Batches stored at once (PostgreSQL; SQLite has one writer): 2 overlaps one batch's
    # decisions with the other's database work, 1 stores one after the other.
    import_in_flight: int = Field(default=2, ge=1, le=2)
    import_worker: bool = True
    # An error report quotes the refused cells (NIKs and names of people never registered):
    # it is deleted this many days after its job ended; download it before then.
    import_report_days: int = Field(default=30, ge=1, le=366)

    def policy(self) -> EligibilityPolicy:
        return EligibilityPolicy(
            poverty_line_idr=self.poverty_line_idr,
            pmt_cutoff=self.pmt_cutoff,
            desil_max=self.desil_max,
        )
