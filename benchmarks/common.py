"""Shared by the benchmarks: a private nats-server, a fresh PostgreSQL database, a service."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shared.launcher import free_port, nats_server_binary, wait_for_port

POSTGRES = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def nats_server() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as store:
        port = free_port()
        proc = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port("127.0.0.1", port, 20, proc)
            yield f"nats://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait()


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = f"bansos_bench_{uuid4().hex[:10]}"
    admin = create_async_engine(
        make_url(POSTGRES).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@dataclass(frozen=True)
class Service:
    url: str
    pid: int


@contextlib.contextmanager
def service(name: str, database_url: str, nats_url: str) -> Iterator[Service]:
    """One uvicorn worker of `services.<name>`, as `bansos up` runs it."""
    port = free_port()
    env = {
        "BANSOS_MODE": "development",  # the built-in secrets, as `bansos up` runs
        **os.environ,
        "BANSOS_DATABASE_URL": database_url,
        "BANSOS_NATS_URL": nats_url,
        "BANSOS_HTTP_PORT": str(port),
        "BANSOS_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield Service(url, proc.pid)
    finally:
        proc.terminate()
        proc.wait()


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{directory / name}.db"
