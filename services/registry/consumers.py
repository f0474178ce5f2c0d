"""What the registry learns from other services' events: the community's appeals.

An appeal names a household only by keyed commitments of the head's NIK or the KK number,
which the registry matches against its own (`projections.household_of`). A matched,
active household gets a re-survey on its operators' work list (`registry.resurvey_requested`
on the household); the decision after the new survey completes it. An appeal that matches
no active household is answered `registry.appeal_unmatched`. Both are decided in the
consumer's transaction, with its inbox row: a redelivered appeal decides nothing twice.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import projections
from services.registry.domain.appeal_intake import Unmatched, intake_id, intakes
from services.registry.domain.commands import RequestResurvey
from services.registry.domain.household import households
from shared.consumers import Subscription
from shared.domain import DomainError
from shared.errors import HOUSEHOLD_INACTIVE
from shared.events import Envelope, EventPayload
from shared.events.community_appeals import AppealFiled
from shared.uow import Caller, UnitOfWork

# The registry acts on its own here: the public ledger shows the role `registry`.
ACTOR = "registry"


async def on_appeal(session: AsyncSession, envelope: Envelope, event: EventPayload) -> None:
    if not isinstance(event, AppealFiled):
        return
    caller = Caller(actor=ACTOR, role="registry", correlation_id=envelope.correlation_id)
    uow = UnitOfWork.joining(session, projections.project, caller)
    appeal_id = envelope.aggregate_id
    household_id = await projections.household_of(
        session, event.nik_commitment, event.kk_commitment
    )
    if household_id is not None:
        try:
            await uow.execute(
                households, household_id, RequestResurvey(appeal_id=appeal_id, reason=event.reason)
            )
            return
        except DomainError as refused:  # deactivated since the lookup: nothing to re-survey
            if refused.code != HOUSEHOLD_INACTIVE:
                raise
    command = Unmatched(appeal_id=appeal_id, reason=event.reason, rw=event.rw)
    await uow.execute(intakes, intake_id(appeal_id), command, must_exist=False)


CONSUMERS = [Subscription("registry-appeals", "bansos.community.appeal_filed", on_appeal)]
