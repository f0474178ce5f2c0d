"""Ingest against real NATS: stream order, a SIGKILL mid-batch, a NATS restart."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import nats
import pytest
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from services.audit.consumers import checkpoint_loop
from shared.consumers import stream_seq
from shared.events import Envelope
from shared.events.registry import HouseholdDeactivated
from shared.messaging import ensure_stream
from shared.settings import CommonSettings
from tests.helpers import NatsServer, eventually, free_port


class AuditProcess:
    def __init__(self, database_url: str, nats_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "BANSOS_DATABASE_URL": database_url,
            "BANSOS_NATS_URL": nats_url,
            "BANSOS_HTTP_PORT": str(self.port),
            "BANSOS_AUDIT_DATA_DIR": str(data_dir),
            "BANSOS_LOG_LEVEL": "WARNING",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "services.audit"], env=self.env)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    async def stats(self) -> dict[str, int] | None:
        try:
            async with httpx.AsyncClient() as client:
                reply = await client.get(f"{self.url}/ledger/stats", timeout=2)
            return reply.json() if reply.status_code == 200 else None  # type: ignore[no-any-return]
        except httpx.HTTPError:
            return None


@pytest.fixture
def audit(database_url: str, nats_server: NatsServer, tmp_path: Path) -> Iterator[AuditProcess]:
    process = AuditProcess(database_url, nats_server.url, tmp_path / "audit")
    yield process
    process.stop()


async def publish(url: str, n: int, garbage_at: int | None = None) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_stream(js, CommonSettings(nats_url=url))
    futures = []
    for i in range(n):
        body = (
            b"{broken"
            if i == garbage_at
            else Envelope.wrap(
                HouseholdDeactivated(reason="moved"),
                aggregate_id=uuid4(),
                aggregate_version=1,
                actor="tester",
            ).canonical()
        )
        futures.append(
            await js.publish_async(
                "bansos.registry.household_deactivated", body, headers={"Nats-Msg-Id": str(uuid4())}
            )
        )
    for future in futures:
        await future
    await nc.close()


async def size_reaches(audit: AuditProcess, n: int) -> bool:
    stats = await audit.stats()
    return stats is not None and stats["tree_size"] >= n and stats["checkpoint_size"] == n


async def all_entries(audit: AuditProcess) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    start: int | None = 0
    async with httpx.AsyncClient(base_url=audit.url) as client:
        while start is not None:
            page = (
                await client.get("/ledger/entries", params={"start": start, "limit": 1000})
            ).json()
            out += page["entries"]
            start = page["next"]
    return out


async def test_a_kill_mid_batch_loses_and_repeats_nothing(
    audit: AuditProcess, nats_server: NatsServer
) -> None:
    total = 20_000
    await publish(nats_server.url, total, garbage_at=17)
    audit.start()

    async def partly_done() -> bool:
        stats = await audit.stats()
        return stats is not None and 0 < stats["tree_size"] < total

    await eventually(partly_done, within=60, interval=0.01)
    audit.kill()
    audit.start()
    await eventually(lambda: size_reaches(audit, total), within=180)
    entries = await all_entries(audit)
    assert [e["stream_seq"] for e in entries] == list(range(1, total + 1))
    assert [e["index"] for e in entries] == list(range(total))
    assert entries[17]["public"] == {"unparseable": True, "size": len(b"{broken")}
    assert all(e["public"]["type"] == "registry.household_deactivated" for e in entries[18:])


async def test_ingest_resumes_by_itself_after_a_nats_restart(
    audit: AuditProcess, nats_server: NatsServer
) -> None:
    await publish(nats_server.url, 50)
    audit.start()
    await eventually(lambda: size_reaches(audit, 50), within=60)
    nats_server.stop()
    nats_server.start()
    await publish(nats_server.url, 30)
    await eventually(lambda: size_reaches(audit, 80), within=60)
    entries = await all_entries(audit)
    assert [e["stream_seq"] for e in entries] == list(range(1, 81))


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.BANSOS.ordered_x.1.4211.17.1764495000000000000.3",  # v1: 9 tokens
        "$JS.ACK._.ACCHASH.BANSOS.ordered_x.1.4211.17.1764495000000000000.3",  # v2, 11
        "$JS.ACK.dom.ACCHASH.BANSOS.ordered_x.1.4211.17.1764495000000000000.3.rnd",  # 12
    ],
)
def test_ingest_reads_the_stream_sequence_as_nats_py_does(reply: str) -> None:
    msg = Msg(_client=None, subject="bansos.x", reply=reply)  # type: ignore[arg-type]
    assert stream_seq(msg) == msg.metadata.sequence.stream == 4211


def test_a_reply_that_is_not_jetstreams_is_refused_as_nats_py_refuses_it() -> None:
    with pytest.raises(NotJSMessageError):
        stream_seq(Msg(_client=None, subject="bansos.x", reply="_INBOX.abc"))  # type: ignore[arg-type]


class _SlowSigner:
    """A ledger that always grew, whose checkpoint takes `takes` seconds to sign."""

    def __init__(self, takes: float, wanted: int) -> None:
        self.grown = asyncio.Event()
        self.takes = takes
        self.started: list[float] = []
        self.enough = asyncio.Event()
        self.wanted = wanted

    async def checkpoint(self) -> None:
        self.started.append(asyncio.get_running_loop().time())
        if len(self.started) >= self.wanted:
            self.enough.set()
        self.grown.set()  # events keep arriving
        await asyncio.sleep(self.takes)


async def test_checkpoints_are_signed_at_most_once_per_interval_under_load() -> None:
    """However long a signing takes, two signings start `interval` apart at least (the
    storage bound of BANSOS_CHECKPOINT_INTERVAL_S); a slow one is followed at once."""
    for takes, interval in ((0.01, 0.05), (0.08, 0.05)):
        ledger = _SlowSigner(takes, wanted=4)
        loop = asyncio.create_task(checkpoint_loop(ledger, interval))  # type: ignore[arg-type]
        try:
            await asyncio.wait_for(ledger.enough.wait(), timeout=10)
        finally:
            loop.cancel()
        gaps = [b - a for a, b in itertools.pairwise(ledger.started)]
        assert min(gaps) >= interval * 0.99, (takes, gaps)
        if takes > interval:  # no extra wait after a signing longer than the interval
            assert min(gaps) >= takes * 0.99
