"""End-to-end fixtures: the environment `bansos up` runs with, and reading the stream."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def drop_databases(base_url: str, prefix: str) -> None:
    admin = create_async_engine(
        make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        names = (
            (
                await conn.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                    {"p": f"{prefix}%"},
                )
            )
            .scalars()
            .all()
        )
        for name in names:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


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


async def stream_messages(url: str) -> list[Any]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("BANSOS")
        return [await js.get_msg("BANSOS", s) for s in range(1, info.state.last_seq + 1)]
    finally:
        await nc.close()
