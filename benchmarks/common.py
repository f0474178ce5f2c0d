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
        command = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store]
        with listening(command, port, "nats", quiet=True) as url:
            yield url


@contextlib.contextmanager
def listening(command: list[str], port: int, scheme: str, quiet: bool = False) -> Iterator[str]:
    """A process started with `command`, once it listens on `port`; stopped afterwards."""
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(command, stdout=out, stderr=out)
    try:
        wait_for_port("127.0.0.1", port, 20, proc)
        yield f"{scheme}://127.0.0.1:{port}"
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
def service(name: str, database_url: str, nats_url: str, workers: int = 1) -> Iterator[Service]:
    """`services.<name>` under uvicorn, as `bansos up` runs it (one worker by default)."""
    port = free_port()
    env = {
        "BANSOS_MODE": "development",  # the built-in secrets, as `bansos up` runs
        **os.environ,
        "BANSOS_DATABASE_URL": database_url,
        "BANSOS_NATS_URL": nats_url,
        "BANSOS_HTTP_PORT": str(port),
        "BANSOS_LOG_LEVEL": "WARNING",
        "BANSOS_HTTP_WORKERS": str(workers),
    }
    proc = subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready: set[int] = set()  # workers seen ready (each connection reaches one of them)
        while time.monotonic() < deadline and len(ready) < workers:
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{url}/ready", timeout=1)
                if answer.status_code == 200:
                    ready.add(answer.json().get("worker", {}).get("pid", 0))
                    continue
            time.sleep(0.1)
        yield Service(url, proc.pid)
    finally:
        proc.terminate()
        proc.wait()


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{directory / name}.db"
