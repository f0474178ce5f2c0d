"""Typed dependencies every service's routes use (as the FastAPI full-stack template's
`deps.py`): the unit of work of an authorised caller, If-Match, versions and paging.

    OperatorWork = Annotated[UnitOfWork, work(Role.registry_operator)]

    @router.post("/households", response_model=HouseholdOut)
    async def register(form: HouseholdIn, uow: OperatorWork) -> HouseholdOut:
        return HouseholdOut.of(await handlers.register(uow, form))

The dependency checks the token and its role (401/403 otherwise) and opens nothing yet:
the handler's `async with uow:` is the transaction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, optional, require
from shared.domain import DomainError
from shared.errors import CURSOR_INVALID, IF_MATCH_INVALID, RW_OUTSIDE
from shared.runtime import Runtime
from shared.settings import CommonSettings
from shared.uow import Caller, UnitOfWork

T = TypeVar("T")


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def settings(request: Request) -> Any:
    """The service's settings (annotate with its own class: `Annotated[XSettings, ...]`).
    Dependencies are `async def` even when they await nothing: FastAPI runs a plain `def`
    in a worker thread, a hand-off that cost more than most of them do."""
    return request.app.state.settings


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for queries only (on SQLite it never waits for the writer's lock). It
    connects on its first query, so a route that may not need one pays nothing."""
    async with runtime(request).reads() as session:
        yield session


Reads = Annotated[AsyncSession, Depends(read_session)]


def caller(principal: Principal | None) -> Caller:
    """The actor recorded on every event: the token's subject and role, or `public`."""
    if principal is None:
        return Caller(actor="public", role="public")
    return Caller(actor=principal.sub, role=principal.role.value)


def work(*roles: Role) -> Any:
    """A unit of work for a caller with one of `roles` (admin always passes)."""

    async def dependency(request: Request, principal: Principal = require(*roles)) -> UnitOfWork:
        return runtime(request).unit_of_work(caller(principal))

    return Depends(dependency)


def public_work() -> Any:
    """A unit of work for anyone: the caller is `public` unless a valid token is sent."""

    async def dependency(request: Request, principal: Principal | None = optional()) -> UnitOfWork:
        return runtime(request).unit_of_work(caller(principal))

    return Depends(dependency)


async def if_match(request: Request) -> int | None:
    """Optimistic concurrency over HTTP: `If-Match: "<version>"` from a previous ETag."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise DomainError(
            IF_MATCH_INVALID, 'If-Match must be a version ETag such as "3"', field="If-Match"
        )
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match)]
# Where a list's next page starts (`next_cursor` of the page before); short and opaque.
Cursor = Annotated[str | None, Query(max_length=64, description="`next_cursor` of the last page")]


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
            CURSOR_INVALID, "cursor is not one this API returned", field="cursor"
        ) from exc


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` fetches the next, None on the last."""

    items: list[T]
    next_cursor: str | None = None


def page(rows: Sequence[tuple[int, T]], limit: int) -> Page[T]:
    """`limit + 1` (position, item) rows were read: the extra one says whether a next page
    exists, which starts after the last position shown."""
    shown = list(rows[:limit])
    more = len(rows) > limit
    return Page(
        items=[item for _, item in shown],
        next_cursor=encode_cursor(shown[-1][0]) if more else None,
    )


def check_rw(settings: CommonSettings, rw: str | None, field: str = "rw") -> None:
    """An RW of this kelurahan (`BANSOS_RW_LIST`), or 422 naming the field."""
    if rw is not None and rw not in settings.rw_list:
        raise DomainError(
            RW_OUTSIDE,
            f"RW {rw} is not in Kelurahan Tanjung Barat ({', '.join(settings.rw_list)})",
            field=field,
        )
