"""End to end: registry + audit under `bansos up`; the ledger mirrors the stream, `bansos
verify` passes, and a byte changed or a leaf deleted behind the triggers' back is caught."""

from __future__ import annotations

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
from tests.helpers import UpProcess, bearer, eventually, stream_messages

pytestmark = pytest.mark.e2e
OPERATOR = bearer(Role.registry_operator, "operator.audit-e2e")


@pytest.fixture
def up(tmp_path: Path, stack_env: dict[str, str]) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var", stack_env)
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


def verify(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    bansos = str(Path(sys.executable).parent / "bansos")
    return subprocess.run(
        [bansos, "verify", "--url", url, *extra], capture_output=True, text=True, timeout=120
    )


async def test_the_ledger_mirrors_the_stream_and_verifies_offline(
    up: UpProcess, stack_env: dict[str, str], tmp_path: Path
) -> None:
    rng = random.Random(9162)
    async with httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as client:
        for i in range(20):
            body = demo.household(rng, f"{1 + i % 10:02d}")
            hid = (await client.post("/households", json=body)).json()["household_id"]
            assert (await client.post(f"/households/{hid}/eligibility")).is_success
    nats_url = f"nats://127.0.0.1:{up.nats_port}"

    async def all_relayed() -> list[Any] | None:
        got = await stream_messages(nats_url)
        return got if len(got) == 40 else None

    messages = await eventually(all_relayed, within=30)

    audit = up.url(5)

    async def ledger_caught_up() -> dict[str, Any] | None:
        async with httpx.AsyncClient() as client:
            cp = (await client.get(f"{audit}/ledger/checkpoint.json")).json()
        return cp if cp["tree_size"] == 40 else None

    await eventually(ledger_caught_up, within=30)
    async with httpx.AsyncClient(base_url=audit) as client:
        entries = (await client.get("/ledger/entries", params={"limit": 100})).json()["entries"]
        key = (await client.get("/ledger/public-key")).json()["public_key"]
    assert [e["stream_seq"] for e in entries] == list(range(1, 41))
    assert [e["subject"] for e in entries] == [m.subject for m in messages]
    assert [e["event"]["event_id"] for e in entries] == [m.headers["Nats-Msg-Id"] for m in messages]

    state = tmp_path / "trusted.json"
    ok = verify(audit, "--public-key", key, "--state", str(state))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "40" in ok.stdout and state.exists()

    database = audit_database(up, stack_env)
    await tamper(
        database,
        "UPDATE ledger_leaves SET leaf_data = "
        "CAST(replace(leaf_data, 'household', 'houzehold') AS BLOB) WHERE idx = 13"
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
