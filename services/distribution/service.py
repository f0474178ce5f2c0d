"""Distribution, described once: the app factory, `bansos up` and `bansos demo` read this."""

from pathlib import Path

from services.distribution import demo, private, projections
from services.distribution.api import ROUTERS
from services.distribution.consumers import CONSUMERS
from services.distribution.settings import DistributionSettings
from services.registry import published
from shared.spec import ServiceSpec

SERVICE = ServiceSpec(
    name="distribution",
    port=8002,
    title="Bansos Tanjung Barat — distribution",
    description="Budgets, rounds endorsed with the community, certified officers, and "
    "cash (BLT) and food (sembako) aid allocated to eligible households and confirmed "
    "as received.",
    settings=DistributionSettings,
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    # Its read models, its staff notes, and its copy of the registry's households.
    metadata=[projections.metadata, private.metadata, published.metadata],
    project=projections.project,
    consumers=CONSUMERS,
    constraints=projections.CONSTRAINTS,
    demo=demo.seed,
)
