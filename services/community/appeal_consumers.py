"""What the community learns of its appeals from the registry: a re-survey scheduled, the
decision after it, or no household matched. Each becomes a command on the appeal, decided
in the consumer's transaction with its inbox row (so once, however often delivered); the
appeal's decider ignores an answer that no longer applies (they come on three consumers,
in no guaranteed order between them)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.community import projections
from services.community.domain.appeal import (
    Command,
    Conclude,
    MarkUnmatched,
    ScheduleResurvey,
    appeals,
)
from services.community.errors import APPEAL_NOT_FOUND
from shared.consumers import Subscription
from shared.domain import DomainError
from shared.events import Envelope, EventPayload
from shared.events.registry import AppealUnmatched, ResurveyCompleted, ResurveyRequested
from shared.uow import Caller, UnitOfWork

log = logging.getLogger("bansos.community.appeals")


async def on_registry_answer(
    session: AsyncSession, envelope: Envelope, event: EventPayload
) -> None:
    command: Command
    match event:
        case ResurveyRequested():
            command = ScheduleResurvey()
        case ResurveyCompleted():
            command = Conclude(outcome="upheld" if event.verdict == "eligible" else "rejected")
        case AppealUnmatched():
            command = MarkUnmatched()
        case _:
            return
    # The registry's act, recorded as the registry's (the public ledger shows the role).
    caller = Caller(actor="registry", role="registry", correlation_id=envelope.correlation_id)
    uow = UnitOfWork.joining(session, projections.project, caller)
    try:
        await uow.execute(appeals, event.appeal_id, command)
    except DomainError as refused:
        if refused.code != APPEAL_NOT_FOUND:
            raise
        log.warning("the registry answered appeal %s, unknown here", event.appeal_id)


CONSUMERS = [
    Subscription(
        "community-resurveys-requested", "bansos.registry.resurvey_requested", on_registry_answer
    ),
    Subscription(
        "community-resurveys-completed", "bansos.registry.resurvey_completed", on_registry_answer
    ),
    Subscription(
        "community-appeals-unmatched", "bansos.registry.appeal_unmatched", on_registry_answer
    ),
]
