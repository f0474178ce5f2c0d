"""Training, described once: the app factory, `bansos up` and `bansos demo` read this."""

from pathlib import Path

from services.registry import published
from services.training import demo, private, projections
from services.training.api import ROUTERS
from services.training.consumers import CONSUMERS
from services.training.settings import TrainingSettings
from shared.spec import ServiceSpec

SERVICE = ServiceSpec(
    name="training",
    port=8003,
    title="Bansos Tanjung Barat — training",
    description="Skills courses (handicraft, digital skills, micro-business): enrolment "
    "of household members, attendance, completion with a certificate, and outcomes "
    "followed up for evaluation.",
    settings=TrainingSettings,
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    metadata=[projections.metadata, private.metadata, published.metadata],
    project=projections.project,
    consumers=CONSUMERS,
    constraints=projections.CONSTRAINTS,
    demo=demo.seed,
)
