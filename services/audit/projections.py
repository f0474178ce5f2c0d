"""Audit projections: none besides the ledger itself (services/audit/ledger.py), whose
leaves and private store double as the search index. The audit service stores no copy of
another service's read models; reconciliation reads the ledger."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope


async def project(session: AsyncSession, new_events: Sequence[Envelope]) -> None:
    """Its own events (erasures) change nothing read elsewhere: the erasure's handler
    (handlers.erase) writes the deletion and its record itself, in the same transaction."""
