"""What a running service holds: database, broker, outbox relay, consumers, and the
units of work its handlers run commands in."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from faststream.specification import AsyncAPI
from sqlalchemy import text

from shared.consumers import ProjectionConsumer
from shared.db import (
    ensure_database,
    make_engine,
    migrate,
    read_only,
    sessionmaker,
    take_advisory_lock,
)
from shared.events import PAYLOAD_TYPES, Envelope, subject_for
from shared.messaging import OutboxRelay, connected, ensure_stream, make_broker
from shared.settings import CommonSettings
from shared.telemetry import setup_tracing
from shared.uow import Caller, UnitOfWork

if TYPE_CHECKING:
    from shared.spec import ServiceSpec

log = logging.getLogger("bansos.runtime")

BACKGROUND_LOCK = 0x6261_6E62  # "banb": held by the worker that runs consumers and tasks
LEADER_POLL_S = 2.0


def freeze_startup_heap() -> None:
    """What exists at startup (modules, models, app) lives as long as the process: keep it
    out of the collector's scans, which otherwise take half of a busy loop's time."""
    gc.collect()
    gc.freeze()


class Runtime:
    def __init__(self, spec: ServiceSpec, settings: CommonSettings, version: str = "0.1.0") -> None:
        settings.check_secrets()  # outside development mode, no built-in secrets
        setup_tracing(settings.service_name, settings.otel_exporter)
        self.spec = spec
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = sessionmaker(self.engine)
        self.read_engine = read_only(self.engine)
        self.reads = sessionmaker(self.read_engine)  # queries only: never write through it
        self.broker = make_broker(settings)
        self.relay = OutboxRelay(self.engine, self.sessions, self.broker, settings)
        # Run after migrations (`on_start`) and in the background until stop (`tasks`).
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.tasks: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.nats_started = asyncio.Event()
        self.leading = settings.http_workers == 1  # runs the consumers and tasks
        self.consumers = [
            (
                ProjectionConsumer(c.name, self.sessions, c.handle, handle_batch=c.handle_batch),
                c.subject,
            )
            for c in spec.consumers
        ]
        self._document_events()
        self.asyncapi = AsyncAPI(
            self.broker,
            title=f"bansos {spec.name} events",
            version=version,
            description=f"Events published by the {spec.name} service "
            "on the BANSOS JetStream stream (envelope per docs/architecture.md#events).",
        )

    def unit_of_work(self, caller: Caller) -> UnitOfWork:
        """A command's transaction for this caller, in this service's database."""
        return UnitOfWork(
            self.sessions,
            self.spec.project,
            caller,
            constraints=self.spec.constraints,
            metadata=self.spec.metadata,
            on_commit=self.relay.notify,
        )

    def _document_events(self) -> None:
        for (event_type, version), model in sorted(PAYLOAD_TYPES.items()):
            if event_type.startswith(f"{self.spec.name}."):
                self.broker.publisher(
                    subject_for(event_type),
                    schema=model,
                    title=f"{event_type} v{version}",
                    description=(model.__doc__ or "").strip() or None,
                )

    def asyncapi_document(self) -> dict[str, Any]:
        """AsyncAPI 3.0: the events it publishes (FastStream's document) and the subjects
        it receives (its consumers and `reads`), each received message an envelope."""
        document: dict[str, Any] = json.loads(self.asyncapi.to_specification().to_json())
        received = [(c.subject, f"consumer {c.name}") for c in self.spec.consumers]
        received += list(self.spec.reads)
        if not received:
            return document
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        messages = document["components"].setdefault("messages", {})
        schemas["Envelope"] = Envelope.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas.update(schemas["Envelope"].pop("$defs", {}))
        messages["Envelope"] = {
            "title": "Envelope",
            "payload": {"$ref": "#/components/schemas/Envelope"},
        }
        for subject, why in received:
            key = f"receive {subject}"
            document.setdefault("channels", {})[key] = {
                "address": subject,
                "description": why,
                "messages": {"Envelope": {"$ref": "#/components/messages/Envelope"}},
                "bindings": {"nats": {"subject": subject, "bindingVersion": "custom"}},
            }
            ref = key.replace(" ", "%20")
            document.setdefault("operations", {})[key] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{ref}"},
                "messages": [{"$ref": f"#/channels/{ref}/messages/Envelope"}],
            }
        return document

    async def start(self) -> None:
        await ensure_database(self.settings.database_url)
        await migrate(self.engine, [self.spec.migrations])
        for hook in self.on_start:
            await hook()
        freeze_startup_heap()
        self._tasks = [
            asyncio.create_task(self._start_messaging(), name="messaging"),
            # Every worker runs a relay: they elect one publisher among themselves.
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
        ]
        if self.settings.http_workers > 1:
            self._tasks.append(asyncio.create_task(self._lead(), name="background-leader"))
        else:
            self._tasks += self._background()

    def _background(self) -> list[asyncio.Task[Any]]:
        """What one process of the service runs besides answering requests: its consumers
        and the service's own tasks (the registry's imports, the audit's ingest)."""
        return [
            *(
                asyncio.create_task(self._consume(consumer, subject), name=consumer.name)
                for consumer, subject in self.consumers
            ),
            *(asyncio.create_task(task(), name=task.__name__) for task in self.tasks),
        ]

    async def _lead(self) -> None:
        """Among several HTTP workers (`BANSOS_HTTP_WORKERS`), the one holding a session
        advisory lock runs the background work; the others answer requests only and take
        over when its connection, and so its lock, goes. A leader whose lock connection
        fails stops its background work before it tries again: durable consumers and the
        import's job cursor stay correct if two ran for that moment, but a single one is
        what keeps a projection's events in stream order."""
        backoff = 0.5
        while True:
            running: list[asyncio.Task[Any]] = []
            try:
                async with self.engine.connect() as conn:
                    await take_advisory_lock(conn, BACKGROUND_LOCK, LEADER_POLL_S)
                    log.info("%s: this worker runs the background work", self.spec.name)
                    running = self._background()
                    self.leading = True
                    backoff = 0.5
                    while True:  # hold the lock; find out soon if its connection goes
                        await asyncio.sleep(LEADER_POLL_S)
                        await conn.execute(text("SELECT 1"))
                        await conn.commit()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                what = "lost its background lock" if running else "cannot take the background lock"
                log.warning("%s: this worker %s (%s); trying again", self.spec.name, what, exc)
            finally:
                self.leading = False
                for task in running:
                    task.cancel()
                if running:
                    await asyncio.wait(running, timeout=10)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _consume(self, consumer: ProjectionConsumer, subject: str) -> None:
        await self.nats_started.wait()
        await consumer.run(self.broker, self.settings, subject)

    async def _start_messaging(self) -> None:
        """Connect to NATS, retrying: commands are accepted meanwhile (outbox grows)."""
        delay = 0.2
        while True:
            try:
                await self.broker.connect()
                await ensure_stream(self.broker.connection.jetstream(), self.settings)
                await self.broker.start()
                self.nats_started.set()
                self.relay.notify()
                return
            except Exception as exc:
                log.warning("NATS not reachable at start (%s); retrying", exc)
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def stop(self) -> None:
        for consumer, _ in self.consumers:
            consumer.stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a task that swallows its cancellation must not hold the shutdown.
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:
                log.warning("%s did not stop within 10 s; abandoned", task.get_name())
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {exc}"
        checks["nats"] = "ok" if connected(self.broker) else "disconnected"
        return checks
