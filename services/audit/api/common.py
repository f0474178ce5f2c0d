"""What the ledger's routes share: strict parameters, base64, reading connections."""

from __future__ import annotations

import base64
import re
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import ledger
from services.audit.settings import AuditSettings
from shared.api import runtime
from shared.auth import Principal, Role, Unauthorized
from shared.domain import DomainError, Forbidden, NotFound

MAX_PAGE = 1000
# Indices, sizes and cursors fit a signed 64-bit column with room for `start + limit`.
MAX_NUMBER = 2**62
_NUMBER = re.compile(r"[0-9]{1,19}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadRequest(DomainError):
    status = 400


class Gone(DomainError):
    status = 410


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def number(
    value: str | None,
    name: str,
    *,
    default: int | None = None,
    minimum: int = 0,
    maximum: int = MAX_NUMBER,
) -> int:
    """A whole number parameter within bounds, or 400 naming it (never a 500)."""
    if value is None or value == "":
        if default is None:
            raise BadRequest("parameter_required", f"{name} is required", field=name)
        return default
    if not _NUMBER.fullmatch(value):
        raise BadRequest("not_a_number", f"{name} must be a whole number >= {minimum}", field=name)
    parsed = int(value)
    if not minimum <= parsed <= maximum:
        raise BadRequest("out_of_range", f"{name} must be from {minimum} to {maximum}", field=name)
    return parsed


def page_size(limit: str | None, default: int = 100) -> int:
    return min(number(limit, "limit", default=default, minimum=1), MAX_PAGE)


def day(value: str | None, name: str) -> str | None:
    """A day as the public views write it (YYYY-MM-DD, Jakarta), or 400 naming it."""
    if value is None or value == "":
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest("not_a_day", f"{name} must be a day, YYYY-MM-DD", field=name) from exc
    return value


def connect(request: Request) -> Any:
    return runtime(request).read_engine.connect()


def settings(request: Request) -> AuditSettings:
    current: AuditSettings = request.app.state.settings
    return current


async def latest(conn: AsyncConnection) -> ledger.SignedCheckpoint:
    found = await ledger.latest_checkpoint(conn)
    if found is None:
        raise NotFound("no_checkpoint", "the ledger has not signed a checkpoint yet")
    return found


def require_auditor(principal: Principal | None, what: str) -> None:
    """For an optional token on a public route: the private part needs an auditor."""
    if principal is None:
        raise Unauthorized(
            "token_missing",
            f"{what} needs an auditor token: send 'Authorization: Bearer <token>'",
            field="Authorization",
        )
    if principal.role not in (Role.auditor, Role.admin):
        raise Forbidden(
            "role_not_allowed",
            f"role {principal.role.value} may not do this; needs one of: auditor",
            field="Authorization",
        )
