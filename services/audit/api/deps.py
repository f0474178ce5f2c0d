"""Who may do what with the ledger (its README lists it), as typed dependencies.

The public reads entries, proofs and checkpoints without a token; auditors open sealed
leaves and search by the private filters; admins erase. Witnesses post cosignatures
without a token: their signature, by a configured witness key, authenticates them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.audit.ledger import Ledger
from services.audit.settings import AuditSettings
from shared.auth import Principal, Role, optional, require
from shared.deps import runtime, settings, work
from shared.domain import DomainError
from shared.errors import ROLE_NOT_ALLOWED, TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_MISSING
from shared.uow import Caller, UnitOfWork

# What a route that reads a token can answer, for its `responses=`.
TOKEN_ERRORS = (TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, ROLE_NOT_ALLOWED)


async def ledger(request: Request) -> Ledger:
    """The running ledger (service.setup opens it): its key and its stream cursor."""
    opened: Ledger = request.app.state.ledger
    return opened


async def witness_work(request: Request) -> UnitOfWork:
    """A unit of work for a witness: no token is read (one sent is ignored, never
    refused); the cosignature itself is what the handler checks."""
    return runtime(request).unit_of_work(Caller(actor="public", role="public"))


Auditor = Annotated[Principal, require(Role.auditor)]
AdminWork = Annotated[UnitOfWork, work(Role.admin)]
WitnessWork = Annotated[UnitOfWork, Depends(witness_work)]
Anyone = Annotated[Principal | None, optional()]  # a token is checked only if sent
TheLedger = Annotated[Ledger, Depends(ledger)]
Settings = Annotated[AuditSettings, Depends(settings)]


def require_auditor(principal: Principal | None, what: str) -> None:
    """On a public route, a part that needs an auditor (admin passes too)."""
    if principal is None:
        raise DomainError(
            TOKEN_MISSING,
            f"{what} needs an auditor token: send 'Authorization: Bearer <token>'",
            field="Authorization",
        )
    if principal.role not in (Role.auditor, Role.admin):
        raise DomainError(
            ROLE_NOT_ALLOWED,
            f"role {principal.role.value} may not do this; needs one of: auditor",
            field="Authorization",
        )
