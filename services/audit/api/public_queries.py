"""The reads behind the public page: the transparency fold kept current, and cek bansos.

The fold (domain/transparency.py) reads only the public leaves of the types it counts,
and only those added since the last page view: a view costs a size read and, at most,
the new leaves.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import cosignatures, ledger
from services.audit.api import queries
from services.audit.api.public_schemas import (
    HandedOverOut,
    PackageItemOut,
    ProofOut,
    ReceiptOut,
)
from services.audit.api.schemas import CheckpointOut, b64
from services.audit.domain.transparency import TYPES, Fold
from services.audit.errors import NO_CHECKPOINT, RECEIPT_NOT_FOUND, RECEIPT_NOT_YET_SIGNED
from services.audit.ledger import SignedCheckpoint
from services.audit.settings import AuditSettings
from shared.domain import DomainError

PAGE = 5000  # leaves read per query while catching up


class PublicFold:
    """One per app: the fold and the tree size it has read up to."""

    def __init__(self) -> None:
        self.fold = Fold()
        self.read_to = 0
        self.lock = asyncio.Lock()

    async def current(self, session: AsyncSession) -> Fold:
        size = await ledger.committed_size(session)
        async with self.lock:  # two page views at once fold each leaf once
            while self.read_to < size:
                end = min(size, self.read_to + PAGE)
                for idx, data in await ledger.public_leaves(session, self.read_to, end, TYPES):
                    self.fold.add(idx, orjson.loads(bytes(data))["public"])
                self.read_to = end
        return self.fold


def public_fold(request: Request) -> PublicFold:
    state = request.app.state
    if getattr(state, "public_fold", None) is None:
        state.public_fold = PublicFold()
    found: PublicFold = state.public_fold
    return found


@dataclass(frozen=True)
class Latest:
    """The checkpoint the page shows: the latest, and how many witnesses cosigned it."""

    checkpoint: SignedCheckpoint | None
    cosigned_by: int
    witnesses: int


async def latest(session: AsyncSession, settings: AuditSettings) -> Latest:
    found = await ledger.latest_checkpoint(session)
    held = await cosignatures.held(session, found.tree_size) if found else []
    return Latest(found, len(held), len(settings.witness_keys))


async def receipt(
    session: AsyncSession, fold: Fold, settings: AuditSettings, commitment: str
) -> ReceiptOut:
    """The hand-over whose receipt code has this commitment, proven against the latest
    checkpoint that a witness cosigned (else the latest) that holds it."""
    index = await ledger.receipt_leaf(session, commitment)
    if index is None or index >= await ledger.committed_size(session):
        raise DomainError(
            RECEIPT_NOT_FOUND,
            "no hand-over in the ledger has this receipt code: check it, or ask the posko",
            field="code",
        )
    chosen = await _checkpoint_holding(session, settings, index)
    (row,) = await ledger.entries(session, index, 1)
    data = bytes(row.leaf_data)
    view = orjson.loads(data)["public"]
    handed = fold.handover(view)
    proof, root, leaf = await ledger.inclusion(session, index, chosen.tree_size)
    held = await cosignatures.held(session, chosen.tree_size)
    checkpoint: CheckpointOut = queries.checkpoint_json(settings.origin, chosen, held)
    return ReceiptOut(
        handed_over=HandedOverOut(
            programme=handed.programme,
            period=handed.period,
            rw=handed.rw,
            amount_idr=handed.amount_idr,
            day=handed.day,
            place=handed.place,
            package=[PackageItemOut(**item) for item in handed.package],
            round_id=handed.round_id,
        ),
        index=index,
        leaf_data=b64(data),
        proof=ProofOut(
            tree_size=chosen.tree_size,
            leaf_hash=b64(leaf),
            root_hash=b64(root),
            hashes=[b64(h) for h in proof],
        ),
        checkpoint=checkpoint,
    )


async def _checkpoint_holding(
    session: AsyncSession, settings: AuditSettings, index: int
) -> SignedCheckpoint:
    cosigned = await cosignatures.latest_cosigned(session, 1, settings.witness_keys)
    if cosigned is not None and cosigned.tree_size > index:
        return cosigned
    newest = await ledger.latest_checkpoint(session)
    if newest is None:
        raise DomainError(NO_CHECKPOINT, "the ledger has not signed a checkpoint yet")
    if newest.tree_size <= index:
        raise DomainError(
            RECEIPT_NOT_YET_SIGNED,
            "your hand-over was just recorded; try again in a few seconds",
            field="code",
        )
    return newest
