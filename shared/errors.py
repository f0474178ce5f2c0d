"""One catalogue of error codes: each code is declared once, with the one HTTP status it
answers with everywhere, and a sentence for the API documents.

Deciders raise `DomainError(code, message)` without knowing HTTP; the edge looks the status
up here (shared/http.py), and `errors(...)` documents what a route can answer from the same
declarations, so /docs shows the real replies. The kernel declares the codes every service
shares (below); each service declares its own in `services/<name>/errors.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    summary: str


CATALOGUE: dict[str, ErrorCode] = {}


def declare(status: int, code: str, summary: str) -> str:
    """Declare a code once; a second declaration anywhere is a mistake caught at import."""
    if code in CATALOGUE:
        raise TypeError(f"error code {code!r} is declared twice")
    if not 400 <= status < 600:
        raise ValueError(f"{code}: {status} is not an error status")
    CATALOGUE[code] = ErrorCode(code, status, summary)
    return code


def status_of(code: str) -> int:
    return CATALOGUE[code].status


class ErrorDetail(BaseModel):
    field: str = Field(description="the input at fault, e.g. `members.0.nik`")
    rule: str = Field(description="the rule it broke, e.g. `nik_birth_date`")
    message: str


class ErrorOut(BaseModel):
    """Every error reply: a stable code for machines, a sentence for people, and which
    inputs broke which rules."""

    error: str = Field(description="stable machine code, e.g. `already_received`")
    message: str
    details: list[ErrorDetail] = []


def errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` for a route that can answer these codes (grouped by status)."""
    by_status: dict[int, list[ErrorCode]] = {}
    for code in codes:
        entry = CATALOGUE[code]
        by_status.setdefault(entry.status, []).append(entry)
    # JSON whatever the route's own replies are (a plain-text checkpoint's errors too);
    # the app factory puts ErrorOut among the document's schemas.
    reply = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    return {
        status: {
            "description": "; ".join(f"`{e.code}`: {e.summary}" for e in entries),
            "content": reply,
        }
        for status, entries in sorted(by_status.items())
    }


# --- what every service can answer ----------------------------------------------------------
VALIDATION_FAILED = declare(422, "validation_failed", "the body or a parameter breaks a rule")
TOKEN_MISSING = declare(401, "token_missing", "no `Authorization: Bearer` token")
TOKEN_INVALID = declare(401, "token_invalid", "the token is not valid for this system")
TOKEN_EXPIRED = declare(401, "token_expired", "the token has expired")
ROLE_NOT_ALLOWED = declare(403, "role_not_allowed", "the token's role may not do this")
VERSION_CONFLICT = declare(409, "version_conflict", "a concurrent writer changed it first")
# If-Match named a version the resource has moved past (RFC 9110 precondition failed).
VERSION_STALE = declare(412, "version_stale", "changed since the version in If-Match")
CONFLICT = declare(409, "conflict", "a concurrent change conflicted; reload and retry")
IF_MATCH_INVALID = declare(422, "if_match_invalid", 'If-Match is not a version ETag like "3"')
CURSOR_INVALID = declare(422, "cursor_invalid", "the cursor is not one this API returned")
RW_OUTSIDE = declare(422, "rw_outside_kelurahan", "the RW is not in Kelurahan Tanjung Barat")
RATE_LIMITED = declare(429, "rate_limited", "too many requests from this client; see Retry-After")
UNAVAILABLE = declare(
    503, "unavailable", "the database or the bus is down; retry after Retry-After seconds"
)
INTERNAL_ERROR = declare(500, "internal_error", "an unexpected fault of the service (logged)")
# What services know of the registry's households from its events (distribution, training).
HOUSEHOLD_NOT_FOUND = declare(404, "household_not_found", "no such household")
HOUSEHOLD_UNKNOWN = declare(
    422, "household_unknown", "the registry has not announced this household (yet)"
)
HOUSEHOLD_INACTIVE = declare(409, "household_inactive", "the household is deactivated")
# An attendance that lists nobody (a meeting's, a course session's).
ATTENDANCE_EMPTY = declare(422, "attendance_empty", "the attendance lists nobody")
# The standard replies of the HTTP layer itself (unknown route, wrong method, body too big).
declare(404, "http_404", "no such route")
declare(405, "http_405", "method not allowed")
BODY_TOO_LARGE = declare(413, "http_413", "the body is larger than BANSOS_MAX_BODY_BYTES")
