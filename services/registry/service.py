"""The registry, described once: the app factory, `bansos up` and `bansos demo` read this.

Its `setup` adds the import worker (importer.py) as a background task: it resumes the
unfinished import jobs on start, then runs each new one as it is uploaded."""

from pathlib import Path

from fastapi import FastAPI

from services.registry import demo, projections
from services.registry.api import ROUTERS
from services.registry.consumers import CONSUMERS
from services.registry.importer import Importer
from services.registry.settings import RegistrySettings
from shared.runtime import Runtime
from shared.spec import ServiceSpec


def setup(runtime: Runtime, app: FastAPI) -> None:
    settings = runtime.settings
    if not isinstance(settings, RegistrySettings):
        raise TypeError("the registry runs with RegistrySettings")
    if settings.import_worker:
        worker = Importer(runtime)
        app.state.importer = worker

        async def imports() -> None:
            await worker.run()

        runtime.tasks.append(imports)


SERVICE = ServiceSpec(
    name="registry",
    port=8001,
    title="Bansos Tanjung Barat — registry",
    description="Households of Kelurahan Tanjung Barat from field surveys: NIK/KK "
    "validation, de-duplication, proxy-means surveys and eligibility decisions; "
    "imports of DTKS lists and usulan for the Dinas Sosial.",
    settings=RegistrySettings,
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    metadata=[projections.metadata],
    project=projections.project,
    consumers=CONSUMERS,
    constraints=projections.CONSTRAINTS,
    demo=demo.seed,
    setup=setup,
)
