"""The distributed engine, for real: `bansos up --cluster` runs three nats-servers on
loopback with the stream on three replicas. Under a steady load of registrations one node
is killed, then the stream's leader: no command the registry accepted is lost or doubled,
the ledger mirrors the stream, and `bansos verify` passes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import nats
import pytest

from services.registry import demo
from shared.auth import Role
from shared.events import Envelope
from tests.helpers import UpProcess, bearer, eventually, stream_messages

pytestmark = pytest.mark.e2e
OPERATOR = bearer(Role.registry_operator, "operator.cluster")


async def leader(urls: list[str]) -> str | None:
    """The node leading the stream's replicas now (None while they elect one)."""
    try:
        nc = await nats.connect(urls, connect_timeout=2, max_reconnect_attempts=1)
    except Exception:
        return None
    try:
        info = await nc.jetstream().stream_info("BANSOS")
        if info.cluster is None or not info.cluster.leader:
            return None
        return str(info.cluster.leader).removeprefix("bansos-")
    except Exception:
        return None
    finally:
        await nc.close()


async def test_killing_a_node_then_the_leader_loses_no_accepted_command(tmp_path: Path) -> None:
    up = UpProcess(tmp_path / "var", args=("--cluster",))
    up.start(wait_for=(1, 5), within=120)
    urls = [f"nats://127.0.0.1:{up.nats_port + i}" for i in range(3)]
    accepted: list[str] = []
    rng = random.Random(7)
    stop = asyncio.Event()

    dropped: list[str] = []

    async def register(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                reply = await client.post("/households", json=demo.household(rng, "04"))
            except httpx.TransportError as exc:
                dropped.append(repr(exc))
                continue
            if reply.status_code == 201:
                accepted.append(reply.json()["household_id"])
            else:
                assert reply.status_code in (409, 503), reply.text  # a clash, or wait

    try:
        async with httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as c:
            load = [asyncio.create_task(register(c)) for _ in range(4)]
            await eventually(lambda: len(accepted) >= 20, within=60)
            first = await eventually(lambda: leader(urls), within=30)
            follower = next(n for n in ("nats-1", "nats-2", "nats-3") if n != first)
            os.kill(up.children()[follower], signal.SIGKILL)
            before = len(accepted)
            await eventually(lambda: len(accepted) >= before + 20, within=60)
            current = await eventually(lambda: leader(urls), within=60)
            os.kill(up.children()[current], signal.SIGKILL)
            before = len(accepted)
            await eventually(lambda: len(accepted) >= before + 20, within=90)
            stop.set()
            await asyncio.gather(*load)
        assert dropped == []  # every request had an answer

        # Every accepted registration reaches the stream exactly once ...
        async def settled() -> list[Envelope] | None:
            try:
                messages = await stream_messages(",".join(urls))
            except Exception:  # the replicas may still be catching up
                return None
            found = [Envelope.model_validate_json(m.data) for m in messages]
            registered = [str(e.aggregate_id) for e in found if e.type.endswith("registered")]
            return found if set(accepted) <= set(registered) else None

        found = await eventually(settled, within=120, interval=1)
        registered = Counter(str(e.aggregate_id) for e in found if e.type.endswith("registered"))
        assert all(registered[h] == 1 for h in accepted)
        assert len({e.event_id for e in found}) == len(found)  # nothing twice on the stream

        # ... and the ledger mirrors the stream, verified from outside.
        async def mirrored() -> bool:
            async with httpx.AsyncClient(timeout=5) as client:
                stats = (await client.get(f"{up.url(5)}/ledger/stats")).json()
            return bool(stats["tree_size"] == len(found) == stats["checkpoint_size"])

        await eventually(mirrored, within=120, interval=1)
        bansos = str(Path(sys.executable).parent / "bansos")
        verify = await asyncio.to_thread(
            subprocess.run,
            [bansos, "verify", "--url", up.url(5)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert f"OK: {len(found)} entries verified" in verify.stdout
    finally:
        out = up.stop()
    assert "nats-" in out and "restarted" in out  # the supervisor brought the nodes back
