"""End to end: `bansos up`, households registered over HTTP, the BANSOS stream inspected.

The stream must hold every event under its subject with `Nats-Msg-Id` = event_id, and
no name, NIK, KK number (not even masked), address, phone number or staff note of any
seeded household (docs/architecture.md#personal-data): commitments only.
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
from shared.pii import commitments
from shared.settings import CommonSettings
from tests.helpers import UpProcess, bearer, eventually, stream_holds

pytestmark = pytest.mark.e2e
OPERATOR = bearer(Role.registry_operator, "operator.e2e")


@pytest.fixture
def up(tmp_path: Path, stack_env: dict[str, str]) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var", stack_env)
    process.start()
    yield process
    process.stop()


def masked(number: str) -> str:
    return number[:4] + "•" * (len(number) - 8) + number[-4:]


def personal_data(households: list[dict[str, Any]]) -> set[str]:
    secrets: set[str] = set()
    for hh in households:
        secrets |= {hh["kk_number"], hh["address"]} | ({hh["phone"]} if hh["phone"] else set())
        secrets.add(masked(hh["kk_number"]))
        for m in hh["members"]:
            secrets |= {m["nik"], m["full_name"], m["nik"][6:12] + m["nik"][12:]}
            secrets.add(masked(m["nik"]))
    return secrets


async def test_registered_households_reach_the_stream_without_personal_data(
    up: UpProcess,
) -> None:
    rng = random.Random(2026)
    seeded = [demo.household(rng, f"{1 + i % 10:02d}") for i in range(25)]
    ids = []
    notes = {}  # household_id -> the operator's note on its deactivation
    async with httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as client:
        for i, body in enumerate(seeded):
            reply = await client.post("/households", json=body)
            assert reply.status_code == 201, reply.text
            hid = reply.json()["household_id"]
            ids.append(hid)
            survey = demo.survey(rng, body)
            assert (await client.post(f"/households/{hid}/surveys", json=survey)).is_success
            assert (await client.post(f"/households/{hid}/eligibility")).is_success
            if i % 8 == 0:
                notes[hid] = "pindah ke rumah mertua di Depok, dilaporkan ketua RT"
                gone = await client.post(
                    f"/households/{hid}/deactivation", json={"reason": "moved", "note": notes[hid]}
                )
                assert gone.json()["deactivation_note"] == notes[hid], gone.text

    nats_url = f"nats://127.0.0.1:{up.nats_port}"
    expected = 3 * len(seeded) + len(notes)
    messages = await eventually(lambda: stream_holds(nats_url, expected), within=30)
    assert len(messages) == expected
    envelopes = [Envelope.model_validate_json(m.data) for m in messages]
    for message, envelope in zip(messages, envelopes, strict=True):
        assert message.subject == f"bansos.{envelope.type}"
        assert message.headers["Nats-Msg-Id"] == str(envelope.event_id)
        assert envelope.actor == "operator.e2e"
    assert [
        str(e.aggregate_id) for e in envelopes if e.type == "registry.household_registered"
    ] == ids
    everything = b"\n".join(m.data + repr(m.headers).encode() for m in messages).decode()
    leaked = sorted(s for s in personal_data(seeded) | set(notes.values()) if s in everything)
    assert leaked == []
    assert "•" not in everything and "masked" not in everything
    assert {e.schema_version for e in envelopes if e.type != "registry.survey_recorded"} == {2}
    # Each deactivation commits to its note instead: the same words, yet (salted) no two
    # commitments alike.
    deactivated = {
        str(e.aggregate_id): e.payload["note_commitment"]
        for e in envelopes
        if e.type == "registry.household_deactivated"
    }
    assert set(deactivated) == set(notes) and len(set(deactivated.values())) == len(notes)
    assert all(len(c) == 64 for c in deactivated.values())
    # Members are matched by their NIK's commitment under the programme secret's NIK key.
    registered = {
        str(e.aggregate_id): e.payload
        for e in envelopes
        if e.type == "registry.household_registered"
    }
    c = commitments(CommonSettings())
    for hid, body in zip(ids, seeded, strict=True):
        payload = registered[hid]
        assert [m["nik_commitment"] for m in payload["members"]] == [
            c.nik(m["nik"]) for m in body["members"]
        ]
        assert payload["kk_commitment"] == c.kk(body["kk_number"])
