"""Training service: wiring of settings, runtime, consumers, routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.training import api, projections
from services.training.consumers import CONSUMERS
from services.training.settings import TrainingSettings
from shared import households
from shared.http import create_app
from shared.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def create(settings: TrainingSettings | None = None) -> FastAPI:
    settings = settings or TrainingSettings()
    runtime = Runtime(
        settings,
        migrations=[MIGRATIONS],
        project=projections.project,
        consumers=CONSUMERS,
    )
    return create_app(
        runtime,
        title="Bansos Tanjung Barat — training",
        description="Skills courses (handicraft, digital skills, micro-business): enrolment "
        "of household members, attendance, completion with a certificate, and outcomes "
        "followed up for evaluation.",
        routers=[api.router, households.router(*api.READERS)],
    )
