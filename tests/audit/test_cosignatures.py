"""Witness cosignatures (C2SP tlog-cosignature): configured witnesses only, checked over
the checkpoint they cosign, one per (size, witness), served after the log's signature."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from services.audit.settings import AuditSettings
from shared.checkpoint import (
    Cosigner,
    Signer,
    checkpoint_body,
    cosignatures_in,
    note_body,
    parse_and_verify,
)
from tests.audit.service import Audit, Household, running
from tests.helpers import NatsServer

INSPEKTORAT = Cosigner("inspektorat", Ed25519PrivateKey.generate())
FORUM = Cosigner("forum-warga", Ed25519PrivateKey.generate())
WITNESSES = {w.name: w.public_key for w in (INSPEKTORAT, FORUM)}


@pytest.fixture
async def audit(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Audit]:
    configured = f"{INSPEKTORAT.vkey}, {FORUM.vkey}"
    async with running(
        database_url, nats_server.url, tmp_path / "audit", witnesses=configured
    ) as service:
        yield service


async def grown(audit: Audit, events: int) -> dict[str, Any]:
    """Publish events; the checkpoint that covers all of them."""
    await audit.publish(*Household().events()[:events])
    return await audit.caught_up(len(audit.published))


async def cosign(audit: Audit, size: int, line: str) -> Any:
    return await audit.client.post(
        "/ledger/cosignatures", json={"tree_size": size, "cosignature": line}
    )


def log_key(audit: Audit) -> Signer:
    signer: Signer = audit.app.state.ledger.signer
    return signer


def test_a_bad_witness_key_refuses_the_settings() -> None:
    log_vkey = Signer("log", Ed25519PrivateKey.generate()).vkey  # a note key, not a witness's
    twice = f"{INSPEKTORAT.vkey},{Cosigner('inspektorat', Ed25519PrivateKey.generate()).vkey}"
    for value in ("nonsense", log_vkey, INSPEKTORAT.vkey[:-4] + "AAA=", twice):
        with pytest.raises(ValidationError, match="BANSOS_WITNESSES"):
            AuditSettings(witnesses=value)
    assert [w.name for w in AuditSettings(witnesses=f" {FORUM.vkey} ,").witness_keys] == [
        "forum-warga"
    ]


def test_the_service_refuses_to_start_with_a_bad_witness_key(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BANSOS_WITNESSES": f"{INSPEKTORAT.vkey},not-a-key",
        "BANSOS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        "BANSOS_AUDIT_DATA_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "services.audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "BANSOS_WITNESSES" in run.stderr and "witness key 2" in run.stderr


async def test_cosignatures_are_served_with_their_checkpoint(audit: Audit) -> None:
    witnesses = (await audit.client.get("/ledger/witnesses")).json()["witnesses"]
    assert witnesses == [
        {"name": "inspektorat", "vkey": INSPEKTORAT.vkey},
        {"name": "forum-warga", "vkey": FORUM.vkey},
    ]
    first = await grown(audit, 3)
    size, note = first["tree_size"], first["note"]
    line = INSPEKTORAT.cosign(note_body(note), 1_790_000_000)
    reply = await cosign(audit, size, line)
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"tree_size": size, "witness": "inspektorat", "timestamp": 1_790_000_000}

    served = (await audit.client.get("/ledger/checkpoint")).text
    assert served == note + line + "\n"
    signer = log_key(audit)
    parse_and_verify(served, signer.key_name, signer.public_key, first["origin"])
    assert cosignatures_in(served, WITNESSES) == {"inspektorat": 1_790_000_000}
    assert (await audit.client.get("/ledger/checkpoint", params={"cosigned": 1})).text == served
    none = await audit.client.get("/ledger/checkpoint", params={"cosigned": 2})
    assert none.status_code == 404 and none.json()["error"] == "no_cosigned_checkpoint"

    # The log grows; the latest cosigned checkpoint is still served on request.
    later = await grown(audit, 2)
    assert later["tree_size"] > size and later["cosignatures"] == []
    assert (await audit.client.get("/ledger/checkpoint")).text == later["note"]
    assert (await audit.client.get("/ledger/checkpoint", params={"cosigned": 1})).text == served

    forum = FORUM.cosign(note_body(note), 1_790_000_100)
    assert (await cosign(audit, size, forum)).status_code == 201
    again = INSPEKTORAT.cosign(note_body(note), 1_790_000_200)  # replaces the first
    assert (await cosign(audit, size, again)).status_code == 201
    both = await audit.client.get("/ledger/checkpoint.json", params={"cosigned": 2})
    assert both.status_code == 200
    assert both.json()["tree_size"] == size
    assert both.json()["cosignatures"] == [
        {"witness": "forum-warga", "timestamp": 1_790_000_100},
        {"witness": "inspektorat", "timestamp": 1_790_000_200},
    ]
    assert both.json()["note"] == note + forum + "\n" + again + "\n"
    assert cosignatures_in(both.json()["note"], WITNESSES) == {
        "forum-warga": 1_790_000_100,
        "inspektorat": 1_790_000_200,
    }


async def test_cosignatures_that_do_not_count_are_refused(audit: Audit) -> None:
    first = await grown(audit, 2)
    size, note = first["tree_size"], first["note"]
    body = note_body(note)

    stranger = Cosigner("stranger", Ed25519PrivateKey.generate())
    impostor = Cosigner("inspektorat", Ed25519PrivateKey.generate())
    for line in (stranger.cosign(body, 1), impostor.cosign(body, 1)):
        reply = await cosign(audit, size, line)
        assert reply.status_code == 403 and reply.json()["error"] == "unknown_witness"

    other_root = checkpoint_body(first["origin"], size, bytes(32))
    later = await grown(audit, 1)
    refused = [
        (size, INSPEKTORAT.cosign(other_root, 1)),  # another history
        (later["tree_size"], INSPEKTORAT.cosign(body, 1)),  # another checkpoint's body
        (size, "garbage"),
        (size, "\u2014 inspektorat !!!"),
        (size, "\u2014 inspektorat " + base64.b64encode(b"short").decode()),
        (size, INSPEKTORAT.cosign(body, 1) + "\n"),
    ]
    for at, line in refused:
        reply = await cosign(audit, at, line)
        assert reply.status_code == 422 and reply.json()["error"] == "bad_cosignature", line

    missing = await cosign(audit, 10**9, INSPEKTORAT.cosign(body, 1))
    assert missing.status_code == 404 and missing.json()["error"] == "checkpoint_not_found"
    for bad in ({"tree_size": -1}, {"extra": 1}, {"tree_size": 2**64}):
        payload = {"tree_size": size, "cosignature": INSPEKTORAT.cosign(body, 1), **bad}
        reply = await audit.client.post("/ledger/cosignatures", json=payload)
        assert reply.status_code == 422 and reply.json()["error"] == "validation_failed"

    assert (await audit.client.get("/ledger/checkpoint.json")).json()["cosignatures"] == []
    nothing = await audit.client.get("/ledger/checkpoint", params={"cosigned": 1})
    assert nothing.status_code == 404
