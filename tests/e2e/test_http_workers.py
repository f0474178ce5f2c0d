"""A service on several HTTP workers (`BANSOS_HTTP_WORKERS`, PostgreSQL): every worker
answers, exactly one runs the background work (here the registry's import worker), each
event reaches the stream once, and when the background worker dies another takes over
while uvicorn replaces it. Where workers would disagree (SQLite, the audit) the service
refuses to start and says which setting to change."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.audit.service import SERVICE as AUDIT
from services.registry import demo
from services.registry.service import SERVICE as REGISTRY
from shared.auth import Role
from shared.launcher import free_port
from shared.serve import check_workers
from shared.settings import CommonSettings
from tests.helpers import NatsServer, bearer, eventually, stream_holds

pytestmark = pytest.mark.e2e

OPERATOR = bearer(Role.registry_operator, "operator.siti")
SAMPLE = Path(__file__).parents[2] / "services/registry/samples/dtks-sample.csv"


@pytest.fixture
def two_workers(postgres_url: str, nats_server: NatsServer, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "BANSOS_DATABASE_URL": postgres_url,
        "BANSOS_NATS_URL": nats_server.url,
        "BANSOS_HTTP_PORT": str(port),
        "BANSOS_HTTP_WORKERS": "2",
        "BANSOS_IMPORT_DIR": str(tmp_path / "imports"),
        "BANSOS_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "services.registry"], env=env)
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


class Workers:
    """What the workers said about themselves on `/ready`, one connection per ask (the
    kernel hands each new connection to one of them)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.background: dict[int, bool] = {}

    async def ask(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            try:
                reply = await client.get("/ready")
            except httpx.HTTPError:
                return
        if reply.status_code == 200:
            worker = reply.json()["worker"]
            self.background[worker["pid"]] = worker["background"]

    async def settled(self, exclude: frozenset[int] = frozenset()) -> int | None:
        """The background worker's pid once two live workers answered and one leads."""
        for _ in range(8):
            await self.ask()
        live = {pid: bg for pid, bg in self.background.items() if pid not in exclude}
        leaders = [pid for pid, bg in live.items() if bg]
        return leaders[0] if len(live) >= 2 and len(leaders) == 1 else None


async def test_two_workers_answer_and_one_runs_the_background(
    two_workers: str, nats_server: NatsServer
) -> None:
    workers = Workers(two_workers)
    leader = await eventually(workers.settled, within=60, interval=0.2)

    rng = random.Random(11)
    bodies = [demo.household(rng, f"{n % 10 + 1:02d}") for n in range(24)]
    limits = httpx.Limits(max_connections=8)  # eight connections, spread over both
    async with httpx.AsyncClient(base_url=two_workers, limits=limits, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post("/households", json=b, headers=OPERATOR) for b in bodies)
        )
        assert [r.status_code for r in replies] == [201] * len(bodies), replies[0].text

        # The relay publishes from one worker: each registration once on the stream.
        registered = {r.json()["household_id"] for r in replies}
        messages = await eventually(lambda: stream_holds(nats_server.url, len(bodies)), within=30)
        published = [json.loads(m.data) for m in messages]
        ids = [e["aggregate_id"] for e in published if e["type"] == "registry.household_registered"]
        assert sorted(ids) == sorted(registered)
        assert len({e["event_id"] for e in published}) == len(published)

        # An upload is taken by whichever worker; the background worker imports it.
        upload = await client.post(
            "/imports", files={"file": ("dtks.csv", SAMPLE.read_bytes())}, headers=OPERATOR
        )
        assert upload.status_code == 202, upload.text
        job = upload.json()["job_id"]

        async def finished() -> dict[str, Any] | None:
            got: dict[str, Any] = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
            return got if got["status"] == "done" else None

        done = await eventually(finished, within=60, interval=0.2)
        assert done["households_registered"] > 0

    # The background worker dies: the other takes over, uvicorn starts a replacement.
    os.kill(leader, signal.SIGKILL)
    workers.background.clear()
    successor = await eventually(
        lambda: workers.settled(exclude=frozenset({leader})), within=60, interval=0.2
    )
    assert successor != leader


@pytest.mark.parametrize(
    ("spec", "database_url", "why"),
    [
        (REGISTRY, "sqlite+aiosqlite:///var/registry.db", "several workers need PostgreSQL"),
        (AUDIT, "postgresql+asyncpg://postgres@127.0.0.1/audit", "runs in one process"),
    ],
    ids=["sqlite", "audit"],
)
def test_workers_are_refused_where_they_would_disagree(
    spec: Any, database_url: str, why: str
) -> None:
    settings = CommonSettings(database_url=database_url, http_workers=2)
    with pytest.raises(ValueError, match=why) as refused:
        check_workers(spec, settings)
    assert "BANSOS_HTTP_WORKERS" in str(refused.value)
    check_workers(spec, CommonSettings(database_url=database_url, http_workers=1))
