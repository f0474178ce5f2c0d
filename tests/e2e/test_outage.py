"""NATS outage: registrations keep succeeding, and every event reaches the stream once.

Runs `bansos up` against a nats-server the test owns (NATS_URL), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.registry import demo
from shared.auth import Role
from shared.events import Envelope
from tests.helpers import NatsServer, UpProcess, bearer, eventually, stream_messages

pytestmark = [pytest.mark.e2e, pytest.mark.outage]
OPERATOR = bearer(Role.registry_operator, "operator.outage")


@pytest.fixture
def up(tmp_path: Path, stack_env: dict[str, str], nats_server: NatsServer) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var", {**stack_env, "NATS_URL": nats_server.url})
    process.start()
    yield process
    process.stop()


async def test_fifty_registrations_during_an_outage_arrive_exactly_once(
    up: UpProcess, nats_server: NatsServer
) -> None:
    rng = random.Random(50)
    async with httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as client:
        before = await client.post("/households", json=demo.household(rng, "01"))
        assert before.status_code == 201
        await eventually(lambda: _count(nats_server.url, 1))

        nats_server.stop()
        await eventually(lambda: _not_ready(client))
        ids = []
        for i in range(50):
            reply = await client.post("/households", json=demo.household(rng, f"{1 + i % 10:02d}"))
            assert reply.status_code == 201, reply.text
            ids.append(reply.json()["household_id"])

        nats_server.start()
        messages = await eventually(lambda: _count(nats_server.url, 51), within=60)
        assert (await client.get("/ready")).status_code == 200

    registered = [Envelope.model_validate_json(m.data) for m in messages]
    assert {(e.type, e.schema_version) for e in registered} == {
        ("registry.household_registered", 2)
    }
    per_event = Counter(m.headers["Nats-Msg-Id"] for m in messages)
    assert max(per_event.values()) == 1
    assert [str(e.aggregate_id) for e in registered][1:] == ids  # in commit order
    assert len(messages) == 51


async def _count(url: str, n: int) -> list[object] | None:
    try:
        got = await stream_messages(url)
    except Exception:
        return None
    return got if len(got) >= n else None


async def _not_ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/ready")).status_code == 503
