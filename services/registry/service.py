"""The registry, described once: the app factory, `bansos up` and `bansos demo` read this."""

from pathlib import Path

from services.registry import demo, projections
from services.registry.api import ROUTERS
from services.registry.settings import RegistrySettings
from shared.spec import ServiceSpec

SERVICE = ServiceSpec(
    name="registry",
    port=8001,
    title="Bansos Tanjung Barat — registry",
    description="Households of Kelurahan Tanjung Barat from field surveys: NIK/KK "
    "validation, de-duplication, proxy-means surveys and eligibility decisions.",
    settings=RegistrySettings,
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    metadata=[projections.metadata],
    project=projections.project,
    constraints=projections.CONSTRAINTS,
    demo=demo.seed,
)
