"""Domain errors with stable codes, and the fold every decider shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

S = TypeVar("S")
E = TypeVar("E")


class DomainError(Exception):
    """A rule said no. `code` is stable for machines, `message` is for people.

    `status` is the HTTP status the edge answers with; `field` names the input at fault.
    """

    status = 422

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class TooManyRequests(DomainError):
    status = 429


def fold(evolve: Callable[[S, E], S], initial: S, events: Iterable[E]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state
