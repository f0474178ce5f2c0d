"""The registry's intake of an appeal that matched no active household. A pure decider.

A matched appeal becomes a re-survey on its household (domain/household.py); one that
matches none still needs an answer, so the registry records that it could not match it,
on an aggregate of its own per appeal (`intake_id`), once however often it is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from shared.events import EventPayload
from shared.events.community_appeals import AppealReason
from shared.events.registry import AppealUnmatched
from shared.uow import Decider

# The intake's id is derived from the appeal's, so the two never share an aggregate id in
# the ledger, and a redelivered appeal finds the same intake.
INTAKE_NAMESPACE = UUID("6f1d2c1e-3b7a-5e0f-9a41-b4a5e7c1d015")


def intake_id(appeal_id: UUID) -> UUID:
    return uuid5(INTAKE_NAMESPACE, str(appeal_id))


@dataclass(frozen=True)
class Intake:
    answered: bool = False


@dataclass(frozen=True)
class Unmatched:
    appeal_id: UUID
    reason: AppealReason
    rw: str


def decide(state: Intake, command: Unmatched) -> list[EventPayload]:
    if state.answered:
        return []
    return [AppealUnmatched(appeal_id=command.appeal_id, reason=command.reason, rw=command.rw)]


def evolve(state: Intake, event: EventPayload) -> Intake:
    return Intake(answered=True) if isinstance(event, AppealUnmatched) else state


intakes: Decider[Intake, Unmatched] = Decider("appeal_intake", Intake(), decide, evolve)
