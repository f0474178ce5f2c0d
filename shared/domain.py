"""Domain errors with stable codes, and the fold every decider shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from shared.errors import CATALOGUE

S = TypeVar("S")
E = TypeVar("E")


class DomainError(Exception):
    """A rule said no. `code` is stable for machines, `message` is for people, `field`
    names the input at fault. The code must be declared in the error catalogue
    (shared/errors.py), which gives its HTTP status at the edge: a decider knows nothing
    of HTTP, and a code answers with one status everywhere."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if code not in CATALOGUE:
            raise LookupError(f"error code {code!r} is not declared (shared/errors.py)")
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    @property
    def status(self) -> int:
        return CATALOGUE[self.code].status


def fold(evolve: Callable[[S, E], S], initial: S, events: Iterable[E]) -> S:
    state = initial
    for event in events:
        state = evolve(state, event)
    return state
