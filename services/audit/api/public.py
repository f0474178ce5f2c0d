"""The ledger's public API (no token): entries with their public views, proofs, search.

Everything an oversight body needs to check the operator without trusting it, and no more:
an entry shows the leaf's public view and its commitment, never what the commitment seals.
All hashes are standard base64. Bad parameters get 400 (or 404 past the tree), never 500.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Request

from services.audit import ledger
from services.audit.api.common import (
    BadRequest,
    b64,
    connect,
    day,
    latest,
    number,
    page_size,
    require_auditor,
)
from shared.auth import Principal, optional
from shared.domain import NotFound

router = APIRouter(prefix="/ledger", tags=["ledger"])


def entry(row: Any, *, with_data: bool = True) -> dict[str, Any]:
    data = row.leaf_data if isinstance(row.leaf_data, bytes) else bytes(row.leaf_data)
    try:
        leaf = orjson.loads(data)
        public, sealed = leaf["public"], leaf["sealed"]
    except (ValueError, KeyError, TypeError):
        public = sealed = None  # stored bytes that no longer parse are served as they are
    served: dict[str, Any] = {
        "index": row.idx,
        "stream_seq": row.stream_seq,
        "subject": row.subject,
        "public": public,
        "sealed": sealed,
        "leaf_hash": b64(row.leaf_hash),
    }
    if with_data:
        served["leaf_data"] = b64(data)  # exactly what is stored: the verifier judges it
    return served


@router.get("/entries", summary="Entries in index order: public views, commitments, leaf bytes")
async def entries(
    request: Request, start: str | None = None, limit: str | None = None
) -> dict[str, Any]:
    first = number(start, "start", default=0)
    count = page_size(limit)
    async with connect(request) as conn:
        size = await ledger.committed_size(conn)
        rows = await ledger.entries(conn, first, min(count, max(0, size - first)))
    following = first + len(rows)
    return {
        "entries": [entry(r) for r in rows],
        "tree_size": size,
        "next": following if rows and following < size else None,
    }


@router.get("/entries/{index}/proof", summary="RFC 9162 inclusion proof, leaf to root")
async def inclusion_proof(
    request: Request, index: str, tree_size: str | None = None
) -> dict[str, Any]:
    position = number(index, "index")
    async with connect(request) as conn:
        size = await ledger.committed_size(conn)
        default = (await latest(conn)).tree_size
        at = number(tree_size, "tree_size", default=default, minimum=1)
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
    m = number(first, "first", minimum=1)
    async with connect(request) as conn:
        size = await ledger.committed_size(conn)
        n = number(second, "second", default=(await latest(conn)).tree_size, minimum=1)
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


@router.get(
    "/search",
    summary="Entries by type and day (public); by aggregate or actor (auditor token)",
)
async def search(
    request: Request,
    type: str | None = Query(default=None, max_length=80),
    since: str | None = Query(default=None, description="first day, YYYY-MM-DD (Jakarta)"),
    until: str | None = Query(default=None, description="last day, YYYY-MM-DD (Jakarta)"),
    aggregate_id: UUID | None = Query(default=None, description="auditors only"),
    actor: str | None = Query(default=None, max_length=120, description="auditors only"),
    cursor: str | None = None,
    limit: str | None = None,
    principal: Principal | None = optional(),
) -> dict[str, Any]:
    if aggregate_id is not None or actor is not None:
        # Which events concern one household, or one officer, is not public.
        require_auditor(principal, "searching by aggregate_id or actor")
    after = number(cursor, "cursor", default=0) - 1 if cursor else -1
    count = page_size(limit)
    async with connect(request) as conn:
        rows = await ledger.search(
            conn,
            after=after,
            limit=count + 1,
            type=type,
            since=day(since, "since"),
            until=day(until, "until"),
            aggregate_id=aggregate_id,
            actor=actor,
        )
    more = len(rows) > count
    rows = rows[:count]
    return {
        "entries": [entry(r, with_data=False) for r in rows],
        "next_cursor": str(rows[-1].idx + 1) if more else None,
    }


@router.get("/stats", summary="Tree size, stream cursor, last checkpoint, flagged leaves")
async def stats(request: Request) -> dict[str, Any]:
    async with connect(request) as conn:
        size = await ledger.committed_size(conn)
        last = await ledger.latest_checkpoint(conn)
        flagged = await ledger.count_unparseable(conn)
    state = request.app.state.ledger
    return {
        "tree_size": size,
        "last_stream_seq": state.last_stream_seq,
        "checkpoint_size": last.tree_size if last else None,
        "checkpoint_signed_at": last.signed_at if last else None,
        "unparseable_leaves": flagged,
    }
