"""Engine behaviour the services rely on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

from sqlalchemy import func, insert, select

from shared.db import events, make_engine, migrate, read_only
from shared.events import Envelope
from shared.events.registry import HouseholdDeactivated


async def test_sqlite_reads_go_alongside_an_open_write(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await migrate(engine, [])
    e = Envelope.wrap(
        HouseholdDeactivated(reason="moved"), aggregate_id=uuid4(), aggregate_version=1, actor="t"
    )
    try:
        async with engine.begin() as writer:  # holds SQLite's write lock until it ends
            await writer.execute(
                insert(events).values(
                    event_id=e.event_id,
                    type=e.type,
                    aggregate_type=e.aggregate_type,
                    aggregate_id=e.aggregate_id,
                    aggregate_version=1,
                    occurred_at=e.occurred_at,
                    body=e.canonical().decode(),
                )
            )
            async with asyncio.timeout(5), read_only(engine).connect() as reader:
                # Sees the last committed state at once, not after the writer (or 30 s).
                assert await reader.scalar(select(func.count()).select_from(events)) == 0
    finally:
        await engine.dispose()
