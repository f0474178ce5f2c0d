"""The database goes down under a service: every answer is a 503 in the one error shape
with Retry-After (never a 500 or a dropped connection), nothing refused is half-applied,
and the service recovers by itself when the database returns (PostgreSQL, behind a relay
the test cuts)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from services.registry.projections import households
from services.registry.service import SERVICE
from services.registry.settings import RegistrySettings
from shared.auth import Role
from tests.conftest import fresh_postgres_database
from tests.helpers import NatsServer, TcpProxy, bearer, eventually, serve_app
from tests.registry.test_api import HOUSEHOLD

OPERATOR = bearer(Role.registry_operator, "operator.outage")


@pytest.fixture
async def relay(postgres_base_url: str) -> AsyncIterator[tuple[TcpProxy, str, str]]:
    """A fresh database reached through a relay: (relay, URL through it, direct URL)."""
    async with fresh_postgres_database(postgres_base_url) as direct:
        url = make_url(direct)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        yield proxy, through, direct
        await proxy.stop()


def household(n: int) -> dict[str, Any]:
    body = copy.deepcopy(HOUSEHOLD)
    body["kk_number"] = f"31740901010{n:05d}"
    for i, member in enumerate(body["members"]):
        member["nik"] = member["nik"][:12] + f"{n % 1000:03d}{i + 1}"
    return body


async def test_a_database_outage_answers_503_and_the_service_recovers(
    relay: tuple[TcpProxy, str, str], nats_server: NatsServer
) -> None:
    proxy, through, direct = relay
    app = SERVICE.app(RegistrySettings(database_url=through, nats_url=nats_server.url))
    async with serve_app(app) as client:
        first = await client.post("/households", json=household(1), headers=OPERATOR)
        assert first.status_code == 201, first.text
        hid = first.json()["household_id"]

        await proxy.stop()
        for request in (
            client.build_request("POST", "/households", json=household(2), headers=OPERATOR),
            client.build_request("GET", f"/households/{hid}", headers=OPERATOR),
            client.build_request("GET", "/households", headers=OPERATOR),
        ):
            reply = await client.send(request)
            assert reply.status_code == 503, reply.text
            assert reply.headers["Retry-After"].isdigit()
            assert reply.json()["error"] == "unavailable" and reply.json()["details"] == []
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"

        await proxy.start()

        async def recovered() -> httpx.Response | None:
            reply = await client.post("/households", json=household(3), headers=OPERATOR)
            return reply if reply.status_code == 201 else None

        await eventually(recovered, within=30, interval=0.5)
        assert (await client.get("/ready")).status_code == 200
    # What was refused during the outage was not applied: households 1 and 3 only.
    engine = create_async_engine(direct)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(households))
    finally:
        await engine.dispose()
    assert count == 2
