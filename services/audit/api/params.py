"""The ledger's query and path parameters, read strictly: a bad one is a 400 naming it.

They are taken as text and read here rather than typed as FastAPI parameters, whose
failures answer 422 `validation_failed`: scripts against the ledger get the audit's codes
(`not_a_number`, `out_of_range`, …), and a huge number is refused before any query.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Path, Query

from services.audit.errors import NOT_A_DAY, NOT_A_NUMBER, OUT_OF_RANGE, PARAMETER_REQUIRED
from shared.domain import DomainError

MAX_PAGE = 1000
# Indices, sizes and cursors fit a signed 64-bit column with room for `start + limit`.
MAX_NUMBER = 2**62
_NUMBER = re.compile(r"[0-9]{1,19}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The text of a number or a day, bounded where it enters: a 40-digit number still gets
# 400 `out_of_range` from `number` (a long day 400 `not_a_day`); anything longer is
# refused by FastAPI (422).
NumberText = Annotated[str | None, Query(max_length=40, description="a whole number")]
IndexText = Annotated[str, Path(max_length=40, description="a leaf index")]
# What `number` and `page_size` can answer, for a route's `responses=`.
NUMBER_ERRORS = (NOT_A_NUMBER, OUT_OF_RANGE)


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
            raise DomainError(PARAMETER_REQUIRED, f"{name} is required", field=name)
        return default
    if not _NUMBER.fullmatch(value):
        raise DomainError(NOT_A_NUMBER, f"{name} must be a whole number >= {minimum}", field=name)
    parsed = int(value)
    if not minimum <= parsed <= maximum:
        raise DomainError(OUT_OF_RANGE, f"{name} must be from {minimum} to {maximum}", field=name)
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
        raise DomainError(NOT_A_DAY, f"{name} must be a day, YYYY-MM-DD", field=name) from exc
    return value


def day_text(description: str) -> str | None:
    """A day query parameter, bounded where it enters; read with `day`."""
    found: str | None = Query(default=None, max_length=40, description=description)
    return found
