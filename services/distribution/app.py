"""Distribution service: wiring of settings, runtime, consumers, routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from services.distribution import api, manifest, projections
from services.distribution.consumers import CONSUMERS
from services.distribution.settings import DistributionSettings
from shared import households
from shared.domain import Conflict
from shared.http import create_app
from shared.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def _integrity_error(exc: IntegrityError) -> Exception | None:
    # uq_allocations_round_household (SQLite names the table and columns instead)
    if "allocations" in str(exc.orig):
        return Conflict("already_allocated", "the household is already allocated in this round")
    if "officer_certificates" in str(exc.orig):
        return Conflict(
            "certificate_recorded",
            "this certificate number is already recorded",
            field="certificate_number",
        )
    return None


def create(settings: DistributionSettings | None = None) -> FastAPI:
    settings = settings or DistributionSettings()
    runtime = Runtime(
        settings,
        migrations=[MIGRATIONS],
        project=projections.project,
        consumers=CONSUMERS,
        map_integrity_error=_integrity_error,
    )
    return create_app(
        runtime,
        title="Bansos Tanjung Barat — distribution",
        description="Budgets, rounds endorsed with the community, certified officers, and "
        "cash (BLT) and food (sembako) aid allocated to eligible households and confirmed "
        "as received.",
        routers=[api.router, manifest.router, households.router(*api.READERS)],
    )
