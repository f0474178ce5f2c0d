"""Aggregate ids derived from what they are about, so that a second one is the same
aggregate and its decider (or the event store's unique version) refuses it."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from shared.events.distribution import Programme

NAMESPACE = uuid5(NAMESPACE_URL, "https://tanjungbarat.bansos/distribution")


def budget_id(programme: Programme, period: str) -> UUID:
    """One budget per programme and period: the id says which, so a second is a conflict."""
    return uuid5(NAMESPACE, f"budget/{programme}/{period}")


def officer_id(officer_sub: str) -> UUID:
    return uuid5(NAMESPACE, f"officer/{officer_sub}")


def allocation_id(programme: Programme, period: str, household_id: UUID) -> UUID:
    """One allocation of a programme per household and period, whatever the round: a
    second one is the same aggregate, so its decider refuses it, and two rounds racing
    for one household collide on the aggregate's version (money is never paid twice)."""
    return uuid5(NAMESPACE, f"allocation/{programme}/{period}/{household_id}")
