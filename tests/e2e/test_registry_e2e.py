"""End to end: `bansos up`, households registered over HTTP, the BANSOS stream inspected.

The stream must hold every event under its subject with `Nats-Msg-Id` = event_id, and
no name, NIK, KK number, address or phone number of any seeded household (DESIGN §7).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.registry import demo
from shared.auth import Role
from shared.events import Envelope
from tests.helpers import UpProcess, bearer, eventually, stream_holds

pytestmark = pytest.mark.e2e
OPERATOR = bearer(Role.registry_operator, "operator.e2e")


@pytest.fixture
def up(tmp_path: Path, stack_env: dict[str, str]) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var", stack_env)
    process.start()
    yield process
    process.stop()


def personal_data(households: list[dict[str, Any]]) -> set[str]:
    secrets: set[str] = set()
    for hh in households:
        secrets |= {hh["kk_number"], hh["address"]} | ({hh["phone"]} if hh["phone"] else set())
        for m in hh["members"]:
            secrets |= {m["nik"], m["full_name"], m["nik"][6:12] + m["nik"][12:]}
    return secrets


async def test_registered_households_reach_the_stream_without_personal_data(
    up: UpProcess,
) -> None:
    rng = random.Random(2026)
    seeded = [demo.household(rng, f"{1 + i % 10:02d}") for i in range(25)]
    ids = []
    async with httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as client:
        for body in seeded:
            reply = await client.post("/households", json=body)
            assert reply.status_code == 201, reply.text
            hid = reply.json()["household_id"]
            ids.append(hid)
            survey = demo.survey(rng, body)
            assert (await client.post(f"/households/{hid}/surveys", json=survey)).is_success
            assert (await client.post(f"/households/{hid}/eligibility")).is_success

    nats_url = f"nats://127.0.0.1:{up.nats_port}"
    messages = await eventually(lambda: stream_holds(nats_url, 75), within=30)
    envelopes = [Envelope.model_validate_json(m.data) for m in messages]
    for message, envelope in zip(messages, envelopes, strict=True):
        assert message.subject == f"bansos.{envelope.type}"
        assert message.headers["Nats-Msg-Id"] == str(envelope.event_id)
        assert envelope.actor == "operator.e2e"
    assert [
        str(e.aggregate_id) for e in envelopes if e.type == "registry.household_registered"
    ] == ids
    everything = b"\n".join(m.data + repr(m.headers).encode() for m in messages).decode()
    leaked = sorted(s for s in personal_data(seeded) if s in everything)
    assert leaked == []
