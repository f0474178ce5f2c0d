"""End to end: registry + audit under `bansos up`; the ledger mirrors the stream with public
views only, an auditor opens sealed leaves, two witnesses cosign and `bansos verify
--quorum 2` passes, an erasure keeps verification green (and `--sealed` reports the erased
leaves), and a byte changed or a leaf deleted behind the triggers' back is caught."""

from __future__ import annotations

import base64
import hashlib
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from services.registry import demo
from shared.auth import Role
from shared.checkpoint import Cosigner, load_or_create_key
from shared.events import canonical_json, public_view
from shared.events.envelope import Envelope
from tests.helpers import UpProcess, bearer, eventually, stream_messages

pytestmark = pytest.mark.e2e
OPERATOR = bearer(Role.registry_operator, "operator.audit-e2e")
AUDITOR_SUB = "inspektorat.audit-e2e"
ADMIN = bearer(Role.admin, "admin.audit-e2e")
WITNESS_NAMES = ("inspektorat", "forum-warga")


@pytest.fixture
def witness_keys(tmp_path: Path) -> dict[str, Path]:
    """The oversight bodies' witness keys, made before the log starts: the operator
    configures the witnesses' vkeys, which each body hands over out of band."""
    keys = {name: tmp_path / "witnesses" / f"{name}.pem" for name in WITNESS_NAMES}
    for path in keys.values():
        load_or_create_key(path)
    return keys


def vkey(path: Path) -> str:
    return Cosigner(path.stem, load_or_create_key(path)).vkey


@pytest.fixture
def up(
    tmp_path: Path, stack_env: dict[str, str], witness_keys: dict[str, Path]
) -> Iterator[UpProcess]:
    witnesses = ",".join(vkey(path) for path in witness_keys.values())
    process = UpProcess(tmp_path / "var", {**stack_env, "BANSOS_WITNESSES": witnesses})
    process.start(wait_for=(1, 5))
    yield process
    process.stop()


def audit_database(up: UpProcess, stack_env: dict[str, str]) -> str:
    if "DATABASE_URL" not in stack_env:
        return f"sqlite+aiosqlite:///{up.var / 'audit.db'}"
    url = make_url(stack_env["DATABASE_URL"])
    return url.set(database=f"{url.database}_audit").render_as_string(hide_password=False)


async def tamper(database_url: str, statement: str) -> None:
    """Change the ledger the way an insider with database access could: triggers off."""
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table_trigger in ("ledger_leaves_no_update", "ledger_leaves_no_delete"):
                await conn.execute(text(f"DROP TRIGGER IF EXISTS {table_trigger}"))
        await conn.execute(text(statement))
    await engine.dispose()


def bansos(*args: str) -> subprocess.CompletedProcess[str]:
    command = str(Path(sys.executable).parent / "bansos")
    return subprocess.run([command, *args], capture_output=True, text=True, timeout=120)


def verify(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return bansos("verify", "--url", url, *extra)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def ledger_size(audit: str, size: int) -> dict[str, Any] | None:
    async with httpx.AsyncClient() as client:
        cp = (await client.get(f"{audit}/ledger/checkpoint.json")).json()
    return cp if cp.get("tree_size") == size else None


async def test_the_published_ledger_verifies_opens_is_witnessed_and_survives_erasure(
    up: UpProcess, stack_env: dict[str, str], witness_keys: dict[str, Path], tmp_path: Path
) -> None:
    rng = random.Random(9162)
    households = []
    async with httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as client:
        for i in range(20):
            body = demo.household(rng, f"{1 + i % 10:02d}")
            hid = (await client.post("/households", json=body)).json()["household_id"]
            households.append(hid)
            assert (await client.post(f"/households/{hid}/eligibility")).is_success
    nats_url = f"nats://127.0.0.1:{up.nats_port}"

    async def all_relayed() -> list[Any] | None:
        got = await stream_messages(nats_url)
        return got if len(got) == 40 else None

    messages = await eventually(all_relayed, within=30)
    audit = up.url(5)
    await eventually(lambda: ledger_size(audit, 40), within=30)

    # Public entries: public views and commitments only, in stream order.
    async with httpx.AsyncClient(base_url=audit, timeout=30) as client:
        entries = (await client.get("/ledger/entries", params={"limit": 100})).json()["entries"]
        public_key = (await client.get("/ledger/public-key")).json()
    assert [e["stream_seq"] for e in entries] == list(range(1, 41))
    assert [e["subject"] for e in entries] == [m.subject for m in messages]
    assert all("event" not in e and len(e["sealed"]) == 64 for e in entries)
    for entry, message in zip(entries, messages, strict=True):
        expected = public_view(Envelope.model_validate_json(message.data))
        assert canonical_json(entry["public"]) == canonical_json(expected)
        assert message.headers["Nats-Msg-Id"] not in str(entry)

    # An auditor opens a sealed entry; the public cannot.
    auditor_token = ok(bansos("token", "--role", "auditor", "--sub", AUDITOR_SUB)).strip()
    auditor = {"Authorization": f"Bearer {auditor_token}"}
    async with httpx.AsyncClient(base_url=audit, timeout=30) as client:
        assert (await client.get("/ledger/entries/0/sealed")).status_code == 401
        opened = (await client.get("/ledger/entries/0/sealed", headers=auditor)).json()
    salt, content = base64.b64decode(opened["salt"]), base64.b64decode(opened["content"])
    assert hashlib.sha256(salt + content).hexdigest() == entries[0]["sealed"]
    assert opened["kind"] == "envelope"
    assert opened["envelope"]["event_id"] == messages[0].headers["Nats-Msg-Id"]

    # Two oversight bodies witness the log; a verifier demands both cosignatures.
    log_vkey = public_key["vkey"]
    for name, key in witness_keys.items():
        state = tmp_path / "witnesses" / f"{name}-state.json"
        args = ["--url", audit, "--key", str(key), "--state", str(state), "--log-key", log_vkey]
        out = ok(bansos("witness", *args))
        assert "cosigned" in out and "size 40" in out
    async with httpx.AsyncClient(base_url=audit, timeout=30) as client:
        note = (await client.get("/ledger/checkpoint", params={"cosigned": 2})).text
    assert all(f"\u2014 {name} " in note for name in WITNESS_NAMES)
    witnesses = [arg for path in witness_keys.values() for arg in ("--witness", vkey(path))]
    key = public_key["public_key"]
    state = tmp_path / "trusted.json"
    out = ok(verify(audit, "--public-key", key, "--state", str(state), *witnesses, "--quorum", "2"))
    assert "40 entries verified" in out and "quorum 2" in out
    out = ok(verify(audit, "--public-key", key, "--sealed", "--token", auditor_token))
    assert "sealed: 40 opened and matched, 0 erased" in out

    # An erasure (admin, with a legal basis) keeps the tree and every check green.
    async with httpx.AsyncClient(base_url=audit, headers=ADMIN, timeout=30) as client:
        erasure = await client.post(
            "/ledger/erasures",
            json={
                "legal_basis": "data_subject_request",
                "reference": "surat 12/KEL-TB/2026",
                "household_id": households[0],
                "aggregate_id": None,
            },
        )
    assert erasure.status_code == 201, erasure.text
    erased = erasure.json()["indices"]
    assert len(erased) == erasure.json()["leaves"] >= 2
    await eventually(lambda: ledger_size(audit, 41), within=30)  # the erasure is a leaf too
    async with httpx.AsyncClient(base_url=audit, timeout=30) as client:
        gone = await client.get(f"/ledger/entries/{erased[0]}/sealed", headers=auditor)
    assert gone.status_code == 410
    ok(verify(audit, "--public-key", key, "--state", str(state)))
    out = ok(verify(audit, "--public-key", key, "--sealed", "--token", auditor_token))
    assert f"sealed: {41 - len(erased)} opened and matched, {len(erased)} erased" in out

    # An insider edits or deletes a leaf behind the triggers' back: verify names it.
    database = audit_database(up, stack_env)
    await tamper(
        database,
        "UPDATE ledger_leaves SET leaf_data = "
        "CAST(replace(leaf_data, 'registry', 'registrx') AS BLOB) WHERE idx = 13"
        if "sqlite" in database
        else "UPDATE ledger_leaves SET leaf_data = overlay(leaf_data placing "
        "'\\x58'::bytea from 40 for 1) WHERE idx = 13",
    )
    changed = verify(audit, "--public-key", key)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "index 13" in changed.stdout

    await tamper(database, "DELETE FROM ledger_leaves WHERE idx = 13")
    gap = verify(audit, "--public-key", key)
    assert gap.returncode == 1
    assert "index 13" in gap.stdout and ("gap" in gap.stdout or "missing" in gap.stdout)
