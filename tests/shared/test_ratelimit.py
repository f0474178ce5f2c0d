"""Rate limits on public endpoints count per real client: a forwarded address is believed
only from a configured proxy, staff tokens are limited too (higher), and a shared store
keeps the counts across instances and restarts (Redis, as BANSOS_RATE_LIMIT_STORAGE)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import httpx
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Role
from shared.events import Envelope
from shared.ratelimit import limit
from shared.settings import CommonSettings
from shared.spec import ServiceSpec
from tests.helpers import NatsServer, bearer

router = APIRouter()


@router.post("/ping", dependencies=[limit("ping", "ping_rate")])
async def ping() -> dict[str, bool]:
    return {"pong": True}


class LimitedSettings(CommonSettings):
    service_name: str = "limited"
    ping_rate: str = "3/minute"
    staff_rate: str = "5/minute"


async def nothing(session: AsyncSession, events: Sequence[Envelope]) -> None:
    """No read models."""


SPEC = ServiceSpec(
    name="limited",
    port=8099,
    title="a rate-limited test service",
    description="",
    settings=LimitedSettings,
    routers=[router],
    migrations=Path("no migrations of its own"),  # replaced by an empty folder below
    metadata=[],
    project=nothing,
)


@contextlib.asynccontextmanager
async def client(
    tmp_path: Path, nats_server: NatsServer, address: str, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    migrations = tmp_path / "migrations"
    migrations.mkdir(exist_ok=True)
    app = replace(SPEC, migrations=migrations).app(
        LimitedSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'limited.db'}",
            nats_url=nats_server.url,
            **settings,  # type: ignore[arg-type]
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def statuses(c: httpx.AsyncClient, n: int, **headers: str) -> list[int]:
    return [(await c.post("/ping", headers=headers)).status_code for _ in range(n)]


async def test_a_rotated_forwarded_address_does_not_reset_the_limit(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    async with client(tmp_path, nats_server, "198.51.100.7") as c:
        codes = [
            (await c.post("/ping", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
            for i in range(5)
        ]
        assert codes == [200, 200, 200, 429, 429]
        limited = await c.post("/ping")
        assert limited.json()["error"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


async def test_a_trusted_proxy_names_the_client(tmp_path: Path, nats_server: NatsServer) -> None:
    async with client(tmp_path, nats_server, "10.0.0.2", trusted_proxies=["10.0.0.0/24"]) as c:
        one = {"X-Forwarded-For": "203.0.113.5"}
        assert await statuses(c, 4, **one) == [200, 200, 200, 429]
        # Another resident behind the same proxy has a count of their own.
        assert await statuses(c, 1, **{"X-Forwarded-For": "203.0.113.6"}) == [200]


async def test_staff_tokens_are_limited_per_subject_at_a_higher_rate(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    async with client(tmp_path, nats_server, "198.51.100.8") as c:
        staff = bearer(Role.community_facilitator, "facilitator.yusuf")
        assert await statuses(c, 6, **staff) == [200] * 5 + [429]
        other = bearer(Role.community_facilitator, "facilitator.lina")
        assert await statuses(c, 1, **other) == [200]
        assert await statuses(c, 1) == [200]  # the public count is apart


async def test_a_shared_store_keeps_counts_across_instances(
    tmp_path: Path, nats_server: NatsServer, redis_url: str
) -> None:
    address = f"192.0.2.{uuid4().int % 250 + 1}"
    shared = {"rate_limit_storage": redis_url}
    scope = tmp_path / "one"
    scope.mkdir()
    async with client(scope, nats_server, address, **shared) as first:
        assert await statuses(first, 3) == [200, 200, 200]
    # Another instance (a replica, or the same one restarted) sees the same count.
    async with client(tmp_path, nats_server, address, **shared) as second:
        assert await statuses(second, 1) == [429]
