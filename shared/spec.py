"""What a service is, said once: the app factory, the launcher and the CLI read it.

Each service declares a `ServiceSpec` in `services/<name>/service.py` and names it in
pyproject.toml under the entry-point group `bansos.services`; the kernel finds services
there (`discover()`), so it knows none of them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from sqlalchemy import MetaData

from shared.consumers import Subscription
from shared.settings import CommonSettings
from shared.uow import Projector, Unique

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shared.demo import DemoContext
    from shared.runtime import Runtime

ENTRY_POINTS = "bansos.services"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int  # the default; `bansos up` places services at port_base + (port - 8000)
    title: str
    description: str
    settings: type[CommonSettings]
    routers: Sequence[APIRouter]
    migrations: Path
    metadata: Sequence[MetaData]  # its tables: constraint names, the migration drift test
    project: Projector  # its read models, from its own events, in the command's transaction
    consumers: Sequence[Subscription] = ()  # what it learns from other services' events
    # Subjects it reads by other means than `consumers` (the audit's ingest of `bansos.>`),
    # as (subject, why): documented in its AsyncAPI beside the consumers.
    reads: Sequence[tuple[str, str]] = ()
    constraints: Mapping[str, Unique] = field(default_factory=dict)
    demo: Callable[[DemoContext], Coroutine[Any, Any, None]] | None = None
    # Settings it lends the other services that `bansos up` runs beside it, computed from
    # the stack's environment (the audit lends the ledger's public key).
    lends: Callable[[Mapping[str, str]], Mapping[str, str]] | None = None
    # Start hooks and background tasks beyond the kernel's (the audit's ledger and ingest).
    setup: Callable[[Runtime, FastAPI], None] | None = None
    # Its routes read what only the process running its background work holds in memory
    # (the audit's tree and oversight fold): it refuses BANSOS_HTTP_WORKERS above 1.
    one_process: bool = False

    def app(self, settings: CommonSettings | None = None) -> FastAPI:
        from shared.http import create_app  # the edge imports the spec, not the reverse

        return create_app(self, settings or self.settings())


def discover() -> dict[str, ServiceSpec]:
    """The services installed with this checkout, in port order (the demo's order too)."""
    found: list[ServiceSpec] = []
    for entry in entry_points(group=ENTRY_POINTS):
        try:
            spec: Any = entry.load()
        except ModuleNotFoundError as missing:
            if missing.name is not None and entry.module.startswith(missing.name):
                continue  # declared, but not in this checkout
            raise
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"{entry.value} is not a ServiceSpec")
        found.append(spec)
    return {s.name: s for s in sorted(found, key=lambda s: s.port)}
