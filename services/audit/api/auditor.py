"""The auditor's API (role `auditor`; `admin` passes): open sealed leaves.

An opening is the salt and the exact bytes a leaf's commitment covers; an auditor checks
SHA-256(salt || content) against the leaf's `sealed` and recomputes its public view with
the published rule (`bansos verify --sealed`). An erased leaf answers 410.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request

from services.audit import ledger, private
from services.audit.api.common import Gone, b64, connect, number, page_size
from shared.auth import Principal, Role, require
from shared.domain import NotFound

router = APIRouter(prefix="/ledger", tags=["auditor"])
Auditor = Annotated[Principal, require(Role.auditor)]
log = logging.getLogger("bansos.audit.openings")


def opened(row: Any) -> dict[str, Any]:
    content = bytes(row.content)
    return {
        "index": row.idx,
        "kind": row.kind,
        "salt": b64(bytes(row.salt)),
        "content": b64(content),  # exactly the bytes committed to
        "envelope": orjson.loads(content) if row.kind == "envelope" else None,
    }


@router.get("/entries/{index}/sealed", summary="Open one leaf: its salt and sealed content")
async def opening(request: Request, index: str, principal: Auditor) -> dict[str, Any]:
    position = number(index, "index")
    async with connect(request) as conn:
        size = await ledger.committed_size(conn)
        row = await private.opening(conn, position) if position < size else None
    if row is None:
        raise NotFound(
            "index_beyond_tree", f"index {position} is not in the tree ({size})", field="index"
        )
    log.info("%s (%s) opened leaf %d", principal.sub, principal.role.value, position)
    if row.erased_at is not None:
        raise Gone(
            "leaf_erased",
            f"leaf {position} was erased on {row.erased_at:%Y-%m-%d} by erasure "
            f"{row.erasure_id}: its commitment can no longer be opened",
            field="index",
        )
    return opened(row)


@router.get("/sealed", summary="Open leaves in index order; erased ones say so")
async def openings(
    request: Request, principal: Auditor, start: str | None = None, limit: str | None = None
) -> dict[str, Any]:
    first = number(start, "start", default=0)
    count = page_size(limit)
    async with connect(request) as conn:
        size = await ledger.committed_size(conn)
        rows = await private.openings(conn, first, min(first + count, size))
    log.info(
        "%s (%s) opened leaves from %d, %d", principal.sub, principal.role.value, first, len(rows)
    )
    following = first + len(rows)
    return {
        "entries": [
            {"index": r.idx, "erased": True, "erasure_id": r.erasure_id}
            if r.erased_at is not None
            else {"erased": False, **opened(r)}
            for r in rows
        ],
        "tree_size": size,
        "next": following if rows and following < size else None,
    }
