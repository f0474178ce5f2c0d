"""Helpers the tests share: a nats-server process, tokens, in-process apps, waiting."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import nats
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shared.auth import Role, issue_token
from shared.launcher import free_port, nats_server_binary, wait_for_port
from shared.settings import CommonSettings


class NatsServer:
    """A nats-server with JetStream on a free port; stop() and start() keep port and store."""

    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.store = store
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                nats_server_binary(),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port("127.0.0.1", self.port, 20, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None


def bearer(role: Role | str, sub: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(CommonSettings(), sub, role)}"}


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan in-process and talk to it over ASGI; wait until NATS is up."""
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.nats_started.wait(), timeout=20)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def eventually(predicate: Any, within: float = 15.0, interval: float = 0.05) -> Any:
    """Await a condition instead of sleeping a fixed time; fail with the last value."""
    deadline = asyncio.get_running_loop().time() + within
    value = None
    while asyncio.get_running_loop().time() < deadline:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s (last value: {value!r})")


class UpProcess:
    """`bansos up` as a user runs it, on free ports, stopped with Ctrl-C (SIGINT)."""

    def __init__(
        self,
        var: Path,
        env: dict[str, str] | None = None,
        *,
        background: bool = False,
        args: tuple[str, ...] = (),
    ) -> None:
        self.var = var
        self.nats_port = free_port(width=13)  # a cluster takes +0..+2 and routes +10..+12
        self.port_base = _free_base()
        self.env = env or {}
        # As a shell starts a background job: SIGINT ignored (Python keeps it so).
        self.background = background
        self.args = args  # more options of `bansos up`, e.g. ("--cluster",)
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, offset: int) -> str:
        return f"http://127.0.0.1:{self.port_base + offset}"

    def start(self, wait_for: tuple[int, ...] = (1,), within: float = 60) -> None:
        """Start it and wait until it says it is up (its start-up is over: from then on
        it supervises) and the services `wait_for` (port offsets) are ready."""
        import os
        import sys
        import time

        bansos = str(Path(sys.executable).parent / "bansos")
        self.var.mkdir(parents=True, exist_ok=True)
        self.output = (self.var / "bansos-up.out").open("w+b")
        self.proc = subprocess.Popen(
            [
                bansos,
                "up",
                "--var",
                str(self.var),
                "--nats-port",
                str(self.nats_port),
                "--port-base",
                str(self.port_base),
                *self.args,
            ],
            env={**os.environ, **self.env},
            stdout=self.output,
            stderr=subprocess.STDOUT,
            preexec_fn=_ignore_sigint if self.background else None,
        )
        deadline = time.monotonic() + within
        while "Ctrl-C stops everything" not in self.printed():
            if self.proc.poll() is not None:
                raise RuntimeError(f"bansos up exited early:\n{self.printed()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"bansos up did not start:\n{self.printed()}")
            time.sleep(0.1)
        for offset in wait_for:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.url(offset)}/ready", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("bansos up did not become ready")
                time.sleep(0.1)

    def printed(self) -> str:
        """What it has printed so far."""
        self.output.flush()
        return (self.var / "bansos-up.out").read_text(errors="replace")

    def stop(self, *how: int) -> str:
        """Stop it as a user would (Ctrl-C by default; given signals, back to back); the
        output, once it has exited."""
        if self.proc is None:
            return ""
        for sent in how or (signal.SIGINT,):
            self.proc.send_signal(sent)
        self.proc.wait(timeout=30)
        self.returncode = self.proc.returncode
        self.proc = None
        out = self.printed()
        self.output.close()
        return out

    def children(self) -> dict[str, int]:
        """The processes it started: service (or `nats`, `witness-<name>`) -> pid."""
        import psutil

        assert self.proc is not None
        found = {}
        for child in psutil.Process(self.proc.pid).children():
            try:
                line = child.cmdline()
            except psutil.Error:  # exited (a zombie until the launcher reaps it)
                continue
            if "shared.serve" in line:
                found[line[-1]] = child.pid
            elif any("nats-server" in part for part in line):
                name = next((a for a in line if a.startswith("bansos-nats-")), "nats")
                found[name.removeprefix("bansos-")] = child.pid
        return found


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _free_base() -> int:
    """A port base whose +1..+5 are free (services listen on base + N)."""
    return free_port(width=6)


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


async def stream_messages(url: str) -> list[Any]:
    nc = await nats.connect(url.split(","))  # a cluster: its URLs, comma-separated
    try:
        js = nc.jetstream()
        info = await js.stream_info("BANSOS")
        return [await js.get_msg("BANSOS", s) for s in range(1, info.state.last_seq + 1)]
    finally:
        await nc.close()


async def stream_holds(url: str, n: int) -> list[Any] | None:
    """The stream's messages once it holds at least `n` (for `eventually`), else None."""
    got = await stream_messages(url)
    return got if len(got) >= n else None


async def decided_household(
    registry: httpx.AsyncClient,
    service: httpx.AsyncClient,
    service_headers: dict[str, str],
    rng: random.Random,
    rw: str,
    *,
    eligible: bool = True,
) -> dict[str, Any]:
    """A demo household registered and decided in the registry; returned (with its
    members' NIKs) once `service` has learnt it from the registry's events."""
    from services.registry import demo

    operator = bearer(Role.registry_operator, "operator.tests")
    body = demo.household(rng, rw)
    if eligible:
        body["monthly_income_idr"] = 300_000
    else:
        body.update(monthly_income_idr=90_000_000, desil=None)
    created = await registry.post("/households", json=body, headers=operator)
    assert created.status_code == 201, created.text
    hid = created.json()["household_id"]
    decided = await registry.post(f"/households/{hid}/eligibility", headers=operator)
    assert decided.json()["eligible"] is eligible, decided.text

    async def known() -> bool:
        reply = await service.get(f"/eligibility/{hid}", headers=service_headers)
        return reply.status_code == 200 and reply.json()["eligible"] is eligible

    await eventually(known)
    head = next(m for m in body["members"] if m["relationship"] == "head")
    return {
        "household_id": hid,
        "head_nik": head["nik"],
        "niks": [m["nik"] for m in body["members"]],
        "rw": rw,
    }


class TcpProxy:
    """A TCP relay to a server, which a test can cut (refusing and dropping every
    connection, as a database that went down) and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._pipes |= {client_w, server_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))
        self._pipes -= {client_w, server_w}
