"""Commands of the verification with recipients (issue 15): draw a closed round's sample
from a signed ledger checkpoint, and record what a sampled recipient said; a discrepancy
files an anonymous complaint about the allocation in the same unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy import select

from services.community import private
from services.community import verification_projections as vp
from services.community.api.verification_schemas import VerificationIn
from services.community.domain.complaint import Complaint, File, complaints
from services.community.domain.verification import (
    Draw,
    Sample,
    Verification,
    Verify,
    samples,
    verifications,
)
from services.community.errors import (
    NOT_IN_SAMPLE,
    SAMPLE_CHECKPOINT_INVALID,
    SAMPLE_COSIGNATURES_MISSING,
    SAMPLE_KEY_UNSET,
    SAMPLE_WITNESSES_UNSET,
)
from services.community.settings import CommunitySettings
from shared.checkpoint import Checkpoint, CheckpointError, cosignatures_in, parse_and_verify
from shared.domain import DomainError
from shared.events.community import ComplaintCategory, ComplaintReferences
from shared.events.community_verification import Discrepancy, VerificationRecorded
from shared.ledger_client import b64
from shared.pii import Commitments, bearer_code
from shared.uow import Outcome, UnitOfWork, retried


def verified_checkpoint(settings: CommunitySettings, note: str) -> Checkpoint:
    """The checkpoint note, its signature by the ledger's key and the cosignatures of
    `settings.quorum()` of the configured witnesses checked.

    The ledger's key is the operator's: alone, it could sign a root of the operator's
    choosing and so choose the sample. A witness cosigns only a checkpoint consistent with
    every one it saw before, so the cosignatures are what make the root the ledger's. Outside
    development mode a draw without them is refused (the rest of the service runs on: the
    residents' complaints and appeals must not wait for the witnesses' keys)."""
    key = settings.ledger_key()
    if key is None:
        raise DomainError(SAMPLE_KEY_UNSET, "set BANSOS_LEDGER_PUBLIC_KEY to the ledger's vkey")
    quorum = settings.quorum()
    if quorum == 0 and not settings.development:
        raise DomainError(
            SAMPLE_WITNESSES_UNSET,
            "a sample is drawn only from a checkpoint the oversight bodies' witnesses "
            "cosigned: set BANSOS_LEDGER_WITNESSES to their vkeys (the audit's "
            "BANSOS_WITNESSES) and leave BANSOS_SAMPLE_QUORUM unset (all of them) or at 1 or more",
        )
    try:
        checkpoint = parse_and_verify(note, *key, expected_origin=settings.ledger_origin)
    except CheckpointError as exc:
        raise DomainError(SAMPLE_CHECKPOINT_INVALID, str(exc), field="checkpoint") from exc
    if quorum:
        cosigned = cosignatures_in(note, settings.witness_keys())
        if len(cosigned) < quorum:
            named = ", ".join(sorted(cosigned)) or "none"
            raise DomainError(
                SAMPLE_COSIGNATURES_MISSING,
                f"the checkpoint carries valid cosignatures of {len(cosigned)} of the "
                f"{quorum} witnesses required ({named}): take the latest checkpoint they "
                f"cosigned, GET /ledger/checkpoint?cosigned={quorum} at the audit service",
                field="checkpoint",
            )
    return checkpoint


@retried
async def draw_sample(
    uow: UnitOfWork, round_id: UUID, checkpoint: Checkpoint, settings: CommunitySettings
) -> Outcome[Sample]:
    async with uow:
        closed, seq, expected = await vp.closure(uow.session, round_id)
        command = Draw(
            round_id=round_id,
            closed=closed,
            closure_seq=seq,
            handed=await vp.received_in(uow.session, round_id),
            expected=expected,
            origin=checkpoint.origin,
            tree_size=checkpoint.tree_size,
            root=checkpoint.root_hash,
            root_b64=b64(checkpoint.root_hash),
            policy=settings.sample_policy(),
        )
        return await uow.execute(samples, round_id, command, must_exist=False)


@dataclass(frozen=True)
class Verified:
    outcome: Outcome[Verification]
    complaint: Outcome[Complaint] | None


COMPLAINT_OF: dict[Discrepancy, ComplaintCategory] = {
    "not_received": "distribution",
    "not_full": "distribution",
    "asked_to_pay": "officer_conduct",  # pungli
    "disrespect": "officer_conduct",
}
SAID: dict[Discrepancy, str] = {
    "not_received": "penerima menyatakan tidak menerima bantuan",
    "not_full": "bantuan tidak diterima penuh",
    "asked_to_pay": "penerima diminta membayar (pungli)",
    "disrespect": "penerima tidak diperlakukan dengan hormat",
}


@retried
async def record_verification(
    uow: UnitOfWork, round_id: UUID, allocation_id: UUID, form: VerificationIn, keys: Commitments
) -> Verified:
    note = private.optional(keys, "note", form.note)
    complaint_id = uuid4()
    async with uow:
        member = (
            await uow.session.execute(
                select(vp.handovers.c.rw)
                .join(
                    vp.sample_members,
                    vp.sample_members.c.allocation_id == vp.handovers.c.allocation_id,
                )
                .where(
                    vp.handovers.c.allocation_id == allocation_id,
                    vp.sample_members.c.round_id == round_id,
                )
            )
        ).first()
        if member is None:
            raise DomainError(
                NOT_IN_SAMPLE,
                f"allocation {allocation_id} is not in the sample of round {round_id}",
                field="allocation_id",
            )
        command = Verify(
            round_id=round_id,
            rw=member.rw,
            sampled=True,
            received=form.received,
            full=form.full,
            asked_to_pay=form.asked_to_pay,
            pay_band=form.pay_band,
            respectful=form.respectful,
            complaint_id=complaint_id,
            note_commitment=note.commitment if note else None,
        )
        outcome = await uow.execute(verifications, allocation_id, command, must_exist=False)
        await private.keep_text(uow.session, outcome.events[0], note)
        recorded = outcome.events[0].typed()
        assert isinstance(recorded, VerificationRecorded)
        filed = None
        if recorded.discrepancies:
            filed = await _file_complaint(uow, recorded, complaint_id, allocation_id, keys)
    return Verified(outcome, filed)


async def _file_complaint(
    uow: UnitOfWork,
    recorded: VerificationRecorded,
    complaint_id: UUID,
    allocation_id: UUID,
    keys: Commitments,
) -> Outcome[Complaint]:
    """An anonymous complaint about the allocation, in the words of the discrepancies (the
    facilitator's note stays with the verification); its ticket code is shown to nobody:
    facilitators follow it by its id."""
    first = recorded.discrepancies[0]
    category = (
        "officer_conduct"
        if any(COMPLAINT_OF[d] == "officer_conduct" for d in recorded.discrepancies)
        else COMPLAINT_OF[first]
    )
    words = "Verifikasi penerima: " + "; ".join(SAID[d] for d in recorded.discrepancies) + "."
    description = private.written(keys, "description", words)
    command = File(
        ticket_commitment=keys.ticket(bearer_code("TB")),  # as handlers.new_ticket
        category=category,
        rw=recorded.rw,
        description_commitment=description.commitment,
        anonymous=True,
        references=ComplaintReferences(round_id=recorded.round_id, allocation_id=allocation_id),
    )
    filed = await uow.execute(complaints, complaint_id, command, must_exist=False)
    await private.keep_text(uow.session, filed.events[0], description)
    return filed
