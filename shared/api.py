"""Small helpers every service's routes use: runtime access, callers, versions, paging."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from typing import Any

from fastapi import Request, Response

from shared.auth import Principal
from shared.domain import DomainError, NotFound
from shared.runtime import Runtime
from shared.service import Caller
from shared.settings import CommonSettings


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def caller(principal: Principal | None) -> Caller:
    """The actor recorded on every event: the token's subject and role, or `public`."""
    if principal is None:
        return Caller(actor="public", role="public")
    return Caller(actor=principal.sub, role=principal.role.value)


def if_match(request: Request) -> int | None:
    """Optimistic concurrency over HTTP: `If-Match: "<version>"` from a previous ETag."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError(
            "if_match_invalid", 'If-Match must be a version ETag such as "3"', field="If-Match"
        )
    return int(value)


def set_version(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error) as exc:
        raise DomainError(
            "cursor_invalid", "cursor is not one this API returned", field="cursor"
        ) from exc


def page(items: list[Any], limit: int, key: str) -> dict[str, Any]:
    """`limit + 1` rows were read: the extra one says whether a next page exists."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(items[-1][key]) if more else None}


def check_rw(settings: CommonSettings, rw: str | None, field: str = "rw") -> None:
    """An RW of this kelurahan (`BANSOS_RW_LIST`), or 422 naming the field."""
    if rw is not None and rw not in settings.rw_list:
        raise DomainError(
            "rw_outside_kelurahan",
            f"RW {rw} is not in Kelurahan Tanjung Barat ({', '.join(settings.rw_list)})",
            field=field,
        )


def fields(row: Any, drop: Collection[str] = ("seq",)) -> dict[str, Any]:
    """A row as a reply: every column but the internal ones (the paging sequence)."""
    return {k: v for k, v in row._mapping.items() if k not in drop}


async def one(request: Request, query: Any, missing: NotFound) -> dict[str, Any]:
    """The single row a read query finds, as a reply, or the given 404."""
    async with runtime(request).reads() as session:
        row = (await session.execute(query)).first()
    if row is None:
        raise missing
    return fields(row)
