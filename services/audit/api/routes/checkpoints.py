"""Checkpoints, the log's key, its witnesses, and their cosignatures (public).

A witness posts its cosignature without a token: the signature, by a configured witness
key over a checkpoint this log signed, is what authenticates it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from services.audit import cosignatures, handlers
from services.audit.api import queries
from services.audit.api.deps import Settings, TheLedger, WitnessWork
from services.audit.api.params import NUMBER_ERRORS, NumberText, number
from services.audit.api.schemas import (
    CheckpointOut,
    CosignatureIn,
    CosignatureOut,
    PublicKeyOut,
    WitnessesOut,
    WitnessOut,
    b64,
)
from services.audit.errors import (
    BAD_COSIGNATURE,
    CHECKPOINT_NOT_FOUND,
    NO_CHECKPOINT,
    NO_COSIGNED_CHECKPOINT,
    UNKNOWN_WITNESS,
)
from shared.deps import Reads
from shared.errors import errors

router = APIRouter(prefix="/ledger", tags=["checkpoints"])
MAX_QUORUM = 100
CHOOSING = (*NUMBER_ERRORS, NO_CHECKPOINT, NO_COSIGNED_CHECKPOINT)


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP note) with the witnesses' cosignatures; "
    "?cosigned=K: the latest one that K configured witnesses cosigned",
    responses=errors(*CHOOSING),
)
async def checkpoint(
    session: Reads, settings: Settings, cosigned: NumberText = None
) -> PlainTextResponse:
    quorum = number(cosigned, "cosigned", default=0, maximum=MAX_QUORUM)
    chosen, held = await queries.checkpoint(session, quorum, settings.witness_keys)
    return PlainTextResponse(cosignatures.cosigned_note(chosen.note, held))


@router.get(
    "/checkpoint.json",
    response_model=CheckpointOut,
    summary="The same checkpoint, parsed",
    responses=errors(*CHOOSING),
)
async def checkpoint_json(
    session: Reads, settings: Settings, cosigned: NumberText = None
) -> CheckpointOut:
    quorum = number(cosigned, "cosigned", default=0, maximum=MAX_QUORUM)
    chosen, held = await queries.checkpoint(session, quorum, settings.witness_keys)
    return queries.checkpoint_json(settings.origin, chosen, held)


@router.get(
    "/public-key",
    response_model=PublicKeyOut,
    summary="The Ed25519 key that signs checkpoints",
)
async def public_key(running: TheLedger, settings: Settings) -> PublicKeyOut:
    signer = running.signer
    return PublicKeyOut(
        key_name=signer.key_name,
        algorithm="ed25519",
        public_key=b64(signer.public_key),
        vkey=signer.vkey,
        origin=settings.origin,
    )


@router.get(
    "/witnesses",
    response_model=WitnessesOut,
    summary="The witnesses whose cosignatures the ledger counts",
)
async def witnesses(settings: Settings) -> WitnessesOut:
    return WitnessesOut(
        witnesses=[WitnessOut(name=w.name, vkey=w.vkey) for w in settings.witness_keys]
    )


@router.post(
    "/cosignatures",
    status_code=201,
    response_model=CosignatureOut,
    summary="A witness's cosignature of a checkpoint (C2SP tlog-cosignature); no token",
    responses=errors(CHECKPOINT_NOT_FOUND, UNKNOWN_WITNESS, BAD_COSIGNATURE),
)
async def cosign(body: CosignatureIn, uow: WitnessWork, settings: Settings) -> CosignatureOut:
    kept = await handlers.record_cosignature(
        uow, body.tree_size, body.cosignature, settings.witness_keys
    )
    return CosignatureOut(tree_size=body.tree_size, witness=kept.witness, timestamp=kept.timestamp)
