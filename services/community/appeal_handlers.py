"""The appeals' commands: filing (public), and the registry's answers applied by the
consumers (appeal_consumers.py). The NIK and KK number are committed to at once with the
registry's keys and never kept; the description goes to the private store; the tracking
code is shown once and only its commitment is kept."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from services.community import private
from services.community.api.appeal_schemas import AppealIn
from services.community.domain.appeal import Appeal, FileAppeal, appeals
from services.community.errors import APPEAL_CODE_COLLISION
from shared.domain import DomainError
from shared.pii import Commitments, bearer_code
from shared.uow import Outcome, UnitOfWork, retried

CODE_DRAWS = 3  # a code drawn twice (40 random bits) is drawn again, this many times


def new_code() -> str:
    """BD-XXXX-XXXX (banding): not guessable, short enough for a paper slip."""
    return bearer_code("BD")


@dataclass(frozen=True)
class Filed:
    tracking_code: str  # shown once, in the reply to the filing
    outcome: Outcome[Appeal]


@retried
async def file_appeal(uow: UnitOfWork, form: AppealIn, keys: Commitments) -> Filed:
    description = private.optional(keys, "description", form.description)
    appeal_id = uuid4()
    for draw in range(1, CODE_DRAWS + 1):
        code = new_code()
        command = FileAppeal(
            code_commitment=keys.ticket(code),
            reason=form.reason,
            rw=form.rw,
            nik_commitment=keys.nik(form.head_nik) if form.head_nik else None,
            kk_commitment=keys.kk(form.kk_number) if form.kk_number else None,
            description_commitment=description.commitment if description else None,
        )
        try:
            async with uow:
                outcome = await uow.create(appeals, appeal_id, command)
                await private.keep_text(uow.session, outcome.events[0], description)
            return Filed(code, outcome)
        except DomainError as refused:  # the code's unique constraint (appeal_projections.py)
            if refused.code != APPEAL_CODE_COLLISION or draw == CODE_DRAWS:
                raise
    raise AssertionError("unreachable")
