"""The ledger's public HTTP API (no token): checkpoint, key, entries, proofs, search.

Everything an oversight body needs to check the operator without trusting it. All hashes
are standard base64. Bad parameters get 400 (or 404 past the tree), never 500.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import ledger
from services.audit.settings import AuditSettings
from shared.api import runtime
from shared.domain import DomainError, NotFound

router = APIRouter(prefix="/ledger", tags=["ledger"])
MAX_PAGE = 1000


class BadRequest(DomainError):
    status = 400


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _int(value: str | None, name: str, *, default: int | None = None, minimum: int = 0) -> int:
    if value is None or value == "":
        if default is None:
            raise BadRequest("parameter_required", f"{name} is required", field=name)
        return default
    if not value.isdigit():
        raise BadRequest("not_a_number", f"{name} must be a whole number >= {minimum}", field=name)
    number = int(value)
    if number < minimum:
        raise BadRequest("out_of_range", f"{name} must be >= {minimum}", field=name)
    return number


def _connect(request: Request) -> Any:
    return runtime(request).read_engine.connect()


async def _latest(conn: AsyncConnection) -> ledger.SignedCheckpoint:
    latest = await ledger.latest_checkpoint(conn)
    if latest is None:
        raise NotFound("no_checkpoint", "the ledger has not signed a checkpoint yet")
    return latest


def _entry(row: Any, *, with_data: bool = True) -> dict[str, Any]:
    data = row.leaf_data if isinstance(row.leaf_data, bytes) else str(row.leaf_data).encode()
    entry: dict[str, Any] = {
        "index": row.idx,
        "stream_seq": row.stream_seq,
        "subject": row.subject,
        "event": _event(data, row.unparseable),
        "leaf_hash": b64(row.leaf_hash),
    }
    if with_data:
        entry["leaf_data"] = b64(data)  # exactly what is stored: the verifier judges it
    if row.unparseable:
        entry["unparseable"] = True
    return entry


def _event(data: bytes, unparseable: bool) -> Any:
    if unparseable:
        return None
    try:
        return json.loads(data)["event"]
    except (ValueError, KeyError, TypeError):
        return None  # stored bytes that no longer parse are served as they are


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP tlog-checkpoint note)",
)
async def checkpoint(request: Request) -> Response:
    async with _connect(request) as conn:
        latest = await _latest(conn)
    return PlainTextResponse(latest.note)


@router.get("/checkpoint.json", summary="The latest checkpoint, parsed")
async def checkpoint_json(request: Request) -> dict[str, Any]:
    async with _connect(request) as conn:
        latest = await _latest(conn)
    settings: AuditSettings = request.app.state.settings
    return {
        "origin": settings.origin,
        "tree_size": latest.tree_size,
        "root_hash": b64(latest.root_hash),
        "note": latest.note,
        "signed_at": latest.signed_at,
    }


@router.get("/public-key", summary="The Ed25519 key that signs checkpoints")
async def public_key(request: Request) -> dict[str, Any]:
    signer = request.app.state.ledger.signer
    return {
        "key_name": signer.key_name,
        "algorithm": "ed25519",
        "public_key": b64(signer.public_key),
        "vkey": signer.vkey,
    }


@router.get("/entries", summary="Entries in index order, with the exact hashed bytes")
async def entries(
    request: Request, start: str | None = None, limit: str | None = None
) -> dict[str, Any]:
    first = _int(start, "start", default=0)
    count = min(_int(limit, "limit", default=100, minimum=1), MAX_PAGE)
    async with _connect(request) as conn:
        size = await ledger.committed_size(conn)
        rows = await ledger.entries(conn, first, min(count, max(0, size - first)))
    following = first + len(rows)
    return {
        "entries": [_entry(r) for r in rows],
        "tree_size": size,
        "next": following if rows and following < size else None,
    }


@router.get("/entries/{index}/proof", summary="RFC 9162 inclusion proof, leaf to root")
async def inclusion_proof(
    request: Request, index: str, tree_size: str | None = None
) -> dict[str, Any]:
    position = _int(index, "index")
    async with _connect(request) as conn:
        size = await ledger.committed_size(conn)
        default = (await _latest(conn)).tree_size
        at = _int(tree_size, "tree_size", default=default, minimum=1)
        if at > size:
            raise BadRequest(
                "beyond_tree", f"tree_size {at} is beyond the tree ({size})", field="tree_size"
            )
        if position >= at:
            raise NotFound(
                "index_beyond_tree",
                f"index {position} is not in a tree of size {at}",
                field="index",
            )
        proof, root, leaf = await ledger.inclusion(conn, position, at)
    return {
        "index": position,
        "tree_size": at,
        "leaf_hash": b64(leaf),
        "root_hash": b64(root),
        "hashes": [b64(h) for h in proof],
    }


@router.get("/consistency", summary="RFC 9162 consistency proof between two tree sizes")
async def consistency(
    request: Request, first: str | None = None, second: str | None = None
) -> dict[str, Any]:
    m = _int(first, "first", minimum=1)
    async with _connect(request) as conn:
        size = await ledger.committed_size(conn)
        n = _int(second, "second", default=(await _latest(conn)).tree_size, minimum=1)
        if m > n:
            raise BadRequest(
                "first_after_second", f"first ({m}) must be <= second ({n})", field="first"
            )
        if n > size:
            raise BadRequest(
                "beyond_tree", f"second {n} is beyond the tree ({size})", field="second"
            )
        proof = await ledger.consistency(conn, m, n)
    return {"first": m, "second": n, "hashes": [b64(h) for h in proof]}


@router.get("/search", summary="Entries by aggregate, type, actor or time (paged)")
async def search(
    request: Request,
    aggregate_id: UUID | None = None,
    type: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: str | None = None,
) -> dict[str, Any]:
    after = _int(cursor, "cursor", default=0) - 1 if cursor else -1
    count = min(_int(limit, "limit", default=100, minimum=1), MAX_PAGE)
    async with _connect(request) as conn:
        rows = await ledger.search(
            conn,
            after=after,
            limit=count + 1,
            aggregate_id=aggregate_id,
            type=type,
            actor=actor,
            since=since,
            until=until,
        )
    more = len(rows) > count
    rows = rows[:count]
    return {
        "entries": [_entry(r, with_data=False) for r in rows],
        "next_cursor": str(rows[-1].idx + 1) if more else None,
    }


@router.get("/stats", summary="Tree size, stream cursor, last checkpoint, flagged leaves")
async def stats(request: Request) -> dict[str, Any]:
    async with _connect(request) as conn:
        size = await ledger.committed_size(conn)
        latest = await ledger.latest_checkpoint(conn)
        flagged = await ledger.count_unparseable(conn)
    state = request.app.state.ledger
    return {
        "tree_size": size,
        "last_stream_seq": state.last_stream_seq,
        "checkpoint_size": latest.tree_size if latest else None,
        "checkpoint_signed_at": latest.signed_at if latest else None,
        "unparseable_leaves": flagged,
    }
