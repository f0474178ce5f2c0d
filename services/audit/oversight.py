"""The oversight runner: the pure fold (domain/oversight) kept current over the ledger.

At start it rebuilds from leaf 0, reading the private store's content (the sealed
envelopes; an erased or flagged leaf gives None) beside each leaf's public view, in index
order and in batches; then it follows the ledger as it grows, polling the writer's
in-memory tree size (cheap) and reading only committed rows, never touching the writer.
An erasure (an `audit.leaves_erased` leaf) makes it fold everything again from leaf 0, so
what it holds is always what a replay from the store gives: erased leaves count by their
public view only. `service.setup` puts it on `app.state.oversight`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit.domain.oversight import Finding, Oversight, Reconciliation, StepTime, reconcile
from services.audit.ledger import Ledger
from services.audit.tables import leaves, sealed
from shared.events import Envelope
from shared.runtime import Runtime

log = logging.getLogger("bansos.audit.oversight")
BATCH = 1000
POLL_S = 0.2


def opened(kind: str, content: bytes | None) -> Envelope | None:
    """The sealed envelope of a leaf, or None (erased, or not a valid event)."""
    if kind != "envelope" or content is None:
        return None
    try:
        return Envelope.model_validate_json(bytes(content))
    except ValidationError:
        return None


def public_of(leaf_data: bytes) -> dict[str, Any]:
    try:
        public = orjson.loads(bytes(leaf_data))["public"]
    except (ValueError, KeyError, TypeError):
        return {}
    return public if isinstance(public, dict) else {}


async def fold(engine: AsyncEngine, state: Oversight, until: int, batch: int = BATCH) -> None:
    """Fold the committed leaves [state.size, until) into `state`, a batch per read."""
    while state.size < until:
        async with engine.connect() as conn:
            rows = list(
                await conn.execute(
                    select(leaves.c.idx, leaves.c.leaf_data, sealed.c.kind, sealed.c.content)
                    .join(sealed, sealed.c.idx == leaves.c.idx)
                    .where(leaves.c.idx >= state.size, leaves.c.idx < until)
                    .order_by(leaves.c.idx)
                    .limit(batch)
                )
            )
        if not rows:
            raise LookupError(f"ledger leaves from {state.size} below {until} not found")
        for idx, leaf_data, kind, content in rows:
            state.apply(idx, opened(kind, content), public_of(leaf_data))
        await asyncio.sleep(0)  # a long rebuild leaves room for the routes


async def replay(engine: AsyncEngine, until: int, batch: int = BATCH) -> Oversight:
    """A fresh fold of the leaves [0, until): what the runner must equal."""
    state = Oversight()
    await fold(engine, state, until, batch)
    return state


class OversightRunner:
    """The fold kept current; what the routes and the public page read (synchronously)."""

    def __init__(self, engine: AsyncEngine, ledger: Ledger, poll_s: float = POLL_S) -> None:
        self.engine = engine
        self.ledger = ledger
        self.poll_s = poll_s
        self.state = Oversight()
        self.ready = asyncio.Event()  # set once the start's rebuild is done

    async def run(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a read failed: fold again from leaf 0, a moment later
                log.warning("oversight rebuilds after: %s", exc)
                await asyncio.sleep(1.0)

    async def _follow(self) -> None:
        self.state = await replay(self.engine, self.ledger.size)
        self.ready.set()
        while True:
            size = self.ledger.size
            if size <= self.state.size:
                await asyncio.sleep(self.poll_s)
                continue
            erasures = self.state.erasures
            await fold(self.engine, self.state, size)
            if self.state.erasures > erasures:
                # Leaves were erased: fold again as a replay would see them now.
                self.state = await replay(self.engine, self.state.size)

    # --- what the routes and the public page read ------------------------------------------
    def finding_counts(self) -> dict[str, int]:
        """Rule code -> number of current findings (exact)."""
        return self.state.finding_counts()

    def times(self) -> list[StepTime]:
        return self.state.times()

    def findings(self) -> list[Finding]:
        return self.state.findings()

    def reconciliation(self, round_id: UUID) -> Reconciliation | None:
        return reconcile(self.state, round_id)

    def timeline(self, household_id: UUID) -> list[tuple[int, str, str]]:
        """(index, type, day) of every folded leaf about the household, in index order."""
        return self.state.timeline(household_id)

    @property
    def size(self) -> int:
        return self.state.size


def install(runtime: Runtime, ledger: Ledger) -> OversightRunner:
    """The runner, followed as a background task (after the ledger has opened)."""
    runner = OversightRunner(runtime.engine, ledger)

    async def oversight() -> None:
        await runner.run()

    runtime.tasks.append(oversight)
    return runner
