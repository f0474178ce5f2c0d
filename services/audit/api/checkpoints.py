"""Checkpoints, the log's key, its witnesses, and their cosignatures (public).

A witness posts its cosignature without a token: the signature, by a configured witness
key over a checkpoint this log signed, is what authenticates it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import cosignatures
from services.audit.api.common import b64, connect, latest, number, settings
from services.audit.ledger import SignedCheckpoint
from shared.api import runtime
from shared.domain import NotFound
from shared.events import utcnow

router = APIRouter(prefix="/ledger", tags=["checkpoints"])
MAX_QUORUM = 100


async def _chosen(
    request: Request, conn: AsyncConnection, cosigned: str | None
) -> tuple[SignedCheckpoint, list[cosignatures.Cosignature]]:
    quorum = number(cosigned, "cosigned", default=0, maximum=MAX_QUORUM)
    if quorum == 0:
        chosen = await latest(conn)
    else:
        found = await cosignatures.latest_cosigned(conn, quorum, settings(request).witness_keys)
        if found is None:
            raise NotFound(
                "no_cosigned_checkpoint",
                f"no checkpoint holds {quorum} cosignatures of configured witnesses",
                field="cosigned",
            )
        chosen = found
    return chosen, await cosignatures.held(conn, chosen.tree_size)


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP note) with the witnesses' cosignatures; "
    "?cosigned=K: the latest one that K configured witnesses cosigned",
)
async def checkpoint(request: Request, cosigned: str | None = None) -> Response:
    async with connect(request) as conn:
        chosen, held = await _chosen(request, conn, cosigned)
    return PlainTextResponse(cosignatures.cosigned_note(chosen.note, held))


@router.get("/checkpoint.json", summary="The same checkpoint, parsed")
async def checkpoint_json(request: Request, cosigned: str | None = None) -> dict[str, Any]:
    async with connect(request) as conn:
        chosen, held = await _chosen(request, conn, cosigned)
    return {
        "origin": settings(request).origin,
        "tree_size": chosen.tree_size,
        "root_hash": b64(chosen.root_hash),
        "note": cosignatures.cosigned_note(chosen.note, held),
        "signed_at": chosen.signed_at,
        "cosignatures": [{"witness": c.witness, "timestamp": c.timestamp} for c in held],
    }


@router.get("/public-key", summary="The Ed25519 key that signs checkpoints")
async def public_key(request: Request) -> dict[str, Any]:
    signer = request.app.state.ledger.signer
    return {
        "key_name": signer.key_name,
        "algorithm": "ed25519",
        "public_key": b64(signer.public_key),
        "vkey": signer.vkey,
        "origin": settings(request).origin,
    }


@router.get("/witnesses", summary="The witnesses whose cosignatures the ledger counts")
async def witnesses(request: Request) -> dict[str, Any]:
    return {"witnesses": [{"name": w.name, "vkey": w.vkey} for w in settings(request).witness_keys]}


class CosignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tree_size: int = Field(ge=0, le=2**63 - 1, description="the checkpoint's tree size")
    cosignature: str = Field(
        min_length=1, max_length=400, description="one signature line: '— <name> <base64>'"
    )


@router.post(
    "/cosignatures",
    status_code=201,
    summary="A witness's cosignature of a checkpoint (C2SP tlog-cosignature); no token",
)
async def cosign(body: CosignatureIn, request: Request) -> dict[str, Any]:
    configured = settings(request).witness_keys
    async with runtime(request).engine.begin() as conn:
        signed = await cosignatures.checkpoint_at(conn, body.tree_size)
        if signed is None:
            raise NotFound(
                "checkpoint_not_found",
                f"the ledger signed no checkpoint at tree size {body.tree_size}",
                field="tree_size",
            )
        checked = cosignatures.check(body.cosignature, signed.note, configured)
        witness = next(w for w in configured if w.name == checked.witness)
        await cosignatures.store(conn, body.tree_size, witness, checked, utcnow())
    return {"tree_size": body.tree_size, "witness": checked.witness, "timestamp": checked.timestamp}
