"""The audit's commands, one named function each: the facts it reads, what it decides and
everything it writes, in one unit of work (shared/uow.py).

The ledger itself is not written here: its single writer is the ingest (consumers.py).
These are the two things a caller can ask of the audit service: to erase (admin), which
is an event of its own, and to keep a witness's cosignature, which is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from services.audit import cosignatures, private
from services.audit.api.schemas import ErasureIn
from services.audit.cosignatures import Cosignature
from services.audit.domain.erasure import Erase, erasures
from services.audit.errors import CHECKPOINT_NOT_FOUND
from services.audit.settings import Witness
from shared.domain import DomainError
from shared.events import utcnow
from shared.pii import Commitments
from shared.uow import UnitOfWork, retried


@dataclass(frozen=True)
class Erased:
    erasure_id: UUID
    indices: list[int]


@retried
async def erase(uow: UnitOfWork, form: ErasureIn, keys: Commitments) -> Erased:
    """Find the leaves of the household or aggregate not yet erased (locked until the
    transaction ends, so two erasures never share one), record the audit.leaves_erased
    event with its outbox row, delete the leaves' salts and contents, and keep the
    request's reference with the salt of the commitment the event carries: all or none.
    The event reaches the stream and becomes a leaf like any other."""
    target, target_id = form.target()
    erasure_id = uuid4()
    reference = keys.salted("text", form.reference)
    async with uow:
        indices = await private.matching(uow.session, target, target_id)
        command = Erase(
            legal_basis=form.legal_basis,
            reference_commitment=reference.commitment,
            target=target,
            indices=tuple(indices),
        )
        outcome = await uow.create(erasures, erasure_id, command)
        now = outcome.events[0].occurred_at
        await private.erase(uow.session, indices, erasure_id, now)
        await private.record_erasure(
            uow.session,
            erasure_id,
            legal_basis=form.legal_basis,
            target=target,
            reference=form.reference,
            committed=reference,
            leaves=len(indices),
            requested_by=uow.caller.actor,
            requested_at=now,
        )
    return Erased(erasure_id, indices)


# Not @retried: it appends no event, so no concurrent append can overtake it.
async def record_cosignature(
    uow: UnitOfWork, tree_size: int, line: str, witnesses: tuple[Witness, ...]
) -> Cosignature:
    """Keep a witness's cosignature of the checkpoint at `tree_size`: checked against that
    checkpoint's note and the configured witness keys; one per (tree size, witness)."""
    async with uow:
        signed = await cosignatures.checkpoint_at(uow.session, tree_size)
        if signed is None:
            raise DomainError(
                CHECKPOINT_NOT_FOUND,
                f"the ledger signed no checkpoint at tree size {tree_size}",
                field="tree_size",
            )
        checked = cosignatures.check(line, signed.note, witnesses)
        witness = next(w for w in witnesses if w.name == checked.witness)
        await cosignatures.store(uow.session, tree_size, witness, checked, utcnow())
    return checked
