"""Community service: wiring of settings, runtime, consumers, routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from services.community import api, projections
from services.community.consumers import CONSUMERS
from services.community.settings import CommunitySettings
from shared.http import create_app
from shared.pii import commitments
from shared.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def _integrity_error(exc: IntegrityError) -> Exception | None:
    # SQLite names the column, PostgreSQL the constraint: both hold its name.
    if "ticket_commitment" in str(exc.orig):
        return api.TicketCollision()
    return None


def create(settings: CommunitySettings | None = None) -> FastAPI:
    settings = settings or CommunitySettings()
    runtime = Runtime(
        settings,
        migrations=[MIGRATIONS],
        project=projections.projector(commitments(settings)),
        consumers=CONSUMERS,
        map_integrity_error=_integrity_error,
    )
    return create_app(
        runtime,
        title="Bansos Tanjung Barat — community",
        description="Complaints (pengaduan) with SLAs, anonymous allowed and tracked by "
        "ticket; feedback on rounds and courses; outreach (sosialisasi) and focus-group "
        "meetings with their follow-ups.",
        routers=[api.router],
    )
