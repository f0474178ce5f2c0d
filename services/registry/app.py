"""Registry service: wiring of settings, runtime, routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from services.registry import api, projections
from services.registry.consumers import CONSUMERS
from services.registry.settings import RegistrySettings
from shared.domain import Conflict
from shared.http import create_app
from shared.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def _integrity_error(exc: IntegrityError) -> Exception | None:
    if "active_niks" in str(exc.orig) or "nik_commitment" in str(exc.orig):
        return Conflict(
            "nik_already_registered",
            "a NIK of this request was registered by a concurrent request",
            field="members",
        )
    return None


def create(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = Runtime(
        settings,
        migrations=[MIGRATIONS],
        project=projections.project,
        consumers=CONSUMERS,
        map_integrity_error=_integrity_error,
    )
    return create_app(
        runtime,
        title="Bansos Tanjung Barat — registry",
        description="Households of Kelurahan Tanjung Barat from field surveys: NIK/KK "
        "validation, de-duplication, proxy-means surveys and eligibility decisions.",
        routers=[api.router],
    )
