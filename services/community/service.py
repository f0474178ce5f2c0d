"""The community service, described once: the app factory, `bansos up` and `bansos demo`
read this."""

from pathlib import Path

from services.community import (
    appeal_projections,
    case_projections,
    demo,
    private,
    projections,
    verification_projections,
)
from services.community.api import ROUTERS
from services.community.consumers import CONSUMERS
from services.community.settings import CommunitySettings
from shared.spec import ServiceSpec

SERVICE = ServiceSpec(
    name="community",
    port=8004,
    title="Bansos Tanjung Barat — community",
    description="Complaints (pengaduan) with SLAs, anonymous allowed and tracked by "
    "ticket; feedback on rounds and courses; outreach (sosialisasi) and focus-group "
    "meetings with their follow-ups; appeals of households refused or dropped.",
    settings=CommunitySettings,
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    metadata=[
        projections.metadata,
        private.metadata,
        case_projections.metadata,
        verification_projections.metadata,
        appeal_projections.metadata,
    ],
    project=projections.project,
    consumers=CONSUMERS,
    constraints={**projections.CONSTRAINTS, **appeal_projections.CONSTRAINTS},
    demo=demo.seed,
)
