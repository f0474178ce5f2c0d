"""One trace from the HTTP request, through the outbox relay, into a consumer."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.registry.service import SERVICE
from services.registry.settings import RegistrySettings
from shared.consumers import ProjectionConsumer
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope, EventPayload
from shared.messaging import make_broker
from shared.settings import CommonSettings
from shared.telemetry import setup_tracing
from tests.helpers import NatsServer, bearer, eventually, serve_app
from tests.registry.test_api import HOUSEHOLD

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
TRACEPARENT = f"00-{TRACE_ID:032x}-00f067aa0ba902b7-01"


async def test_request_relay_and_consumer_share_one_trace_id(
    nats_server: NatsServer, tmp_path: object
) -> None:
    provider = setup_tracing("test", "none")
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    seen: list[int] = []

    async def remember_trace(_: object, envelope: Envelope, __: EventPayload) -> None:
        seen.append(trace.get_current_span().get_span_context().trace_id)

    url = f"sqlite+aiosqlite:///{tmp_path}/consumer.db"
    engine = make_engine(url)
    await migrate(engine, [])
    consumer_settings = CommonSettings(nats_url=nats_server.url, service_name="tracer")
    broker = make_broker(consumer_settings)
    consumer = ProjectionConsumer("trace-test", sessionmaker(engine), remember_trace)

    settings = RegistrySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db", nats_url=nats_server.url
    )
    async with serve_app(SERVICE.app(settings)) as client:
        await broker.connect()
        running = asyncio.create_task(consumer.run(broker, consumer_settings, "bansos.registry.>"))
        try:
            reply = await client.post(
                "/households",
                json=HOUSEHOLD,
                headers={**bearer("registry_operator"), "traceparent": TRACEPARENT},
            )
            assert reply.status_code == 201
            await eventually(lambda: seen, within=20)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await broker.stop()
            await engine.dispose()

    assert seen == [TRACE_ID]
    spans = {s.name: s.context.trace_id for s in exporter.get_finished_spans()}
    assert spans["bansos.registry.household_registered publish"] == TRACE_ID
    assert spans["household.RegisterHousehold"] == TRACE_ID
    assert any(
        name.startswith("POST /households") and tid == TRACE_ID for name, tid in spans.items()
    )
