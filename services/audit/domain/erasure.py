"""Erasure (UU 27/2022 right to deletion, docs/architecture.md#the-ledger): which leaves belong to
a household
or an aggregate, and the decider of the erasure's own event. Pure.

Deleting a leaf's salt and content leaves the leaf, the root and every proof intact; its
commitment can no longer be opened. The erasure is itself an event (audit.leaves_erased),
so the public ledger shows that it happened, on which basis and how many leaves it touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from services.audit.errors import ERASURE_DONE, NO_MATCHING_LEAVES
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.audit import LeavesErased, LegalBasis
from shared.uow import Decider

Target = Literal["household", "aggregate"]
# The events that tie another aggregate to a household: an allocation to it, an enrolment
# of one of its members.
LINKING_TYPES = ("distribution.aid_allocated", "training.trainee_enrolled")


def as_uuid(value: Any) -> UUID | None:
    """An id as an envelope spells it (any spelling a UUID parser takes), else None."""
    if type(value) is not str:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Household:
    """A household and the aggregates its events are tied to."""

    household_id: UUID
    allocations: frozenset[UUID] = frozenset()
    enrolments: frozenset[UUID] = frozenset()

    def linked_by(self, envelopes: Iterable[dict[str, Any]]) -> Household:
        """Add the allocations and enrolments that these (linking) events tie to it."""
        allocations, enrolments = set(self.allocations), set(self.enrolments)
        for envelope in envelopes:
            payload = envelope.get("payload")
            if not isinstance(payload, dict):
                continue
            if as_uuid(payload.get("household_id")) != self.household_id:
                continue
            if envelope.get("type") == "distribution.aid_allocated":
                allocation = as_uuid(envelope.get("aggregate_id"))
                if allocation is not None:
                    allocations.add(allocation)
            elif envelope.get("type") == "training.trainee_enrolled":
                enrolment = as_uuid(payload.get("enrolment_id"))
                if enrolment is not None:
                    enrolments.add(enrolment)
        return Household(self.household_id, frozenset(allocations), frozenset(enrolments))

    @property
    def needles(self) -> tuple[bytes, ...]:
        """Byte strings one of which a matching envelope's lower-cased bytes must hold:
        each id hyphenated and bare (every spelling a UUID parser takes holds one)."""
        ids = (self.household_id, *self.allocations, *self.enrolments)
        return tuple(n for i in ids for n in (str(i).encode(), i.hex.encode()))

    def owns(self, envelope: dict[str, Any]) -> bool:
        payload = envelope.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        references = payload.get("references")
        references = references if isinstance(references, dict) else {}
        aggregate = as_uuid(envelope.get("aggregate_id"))
        return (
            aggregate == self.household_id
            or aggregate in self.allocations
            or as_uuid(payload.get("household_id")) == self.household_id
            or as_uuid(references.get("household_id")) == self.household_id
            or as_uuid(references.get("allocation_id")) in self.allocations
            or as_uuid(payload.get("enrolment_id")) in self.enrolments
        )


def might_hold(content: bytes, needles: Sequence[bytes]) -> bool:
    """A cheap test before parsing: could these envelope bytes name one of the ids?"""
    lowered = content.lower()
    return any(needle in lowered for needle in needles)


# --- the erasure's decider ------------------------------------------------------------------
@dataclass(frozen=True)
class Erase:
    """Record the erasure of these leaves (the handler found them, in its transaction)."""

    legal_basis: LegalBasis
    reference_commitment: str
    target: Target
    indices: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class Erasure:
    """Recorded or not: an erasure happens once (each request gets a new erasure id)."""

    done: bool = False


def decide(state: Erasure, command: Erase) -> list[EventPayload]:
    if state.done:
        raise DomainError(ERASURE_DONE, "this erasure has been recorded already")
    if not command.indices:
        raise DomainError(NO_MATCHING_LEAVES, f"no leaf of this {command.target} is left to erase")
    return [
        LeavesErased(
            legal_basis=command.legal_basis,
            reference_commitment=command.reference_commitment,
            target=command.target,
            indices=command.indices,
        )
    ]


def evolve(state: Erasure, event: EventPayload) -> Erasure:
    return Erasure(done=True) if isinstance(event, LeavesErased) else state


erasures: Decider[Erasure, Erase] = Decider("erasure", Erasure(), decide, evolve)
