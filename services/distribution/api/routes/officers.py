"""Officers' distribution certificates (recorded after training)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.distribution import handlers
from services.distribution.api import queries
from services.distribution.api.deps import ManagerWork, MoneyReader
from services.distribution.api.schemas import CertificateIn, CertificateOut, CertificateStatus
from services.distribution.domain.ids import officer_id
from services.distribution.errors import (
    CERTIFICATE_RECORDED,
    CERTIFIED_ON_FUTURE,
    EXPIRY_BEFORE_CERTIFICATION,
)
from shared import clock
from shared.deps import Reads
from shared.errors import errors

router = APIRouter(tags=["officers"])


@router.post(
    "/officers/{officer_sub}/certificates",
    status_code=201,
    response_model=CertificateOut,
    summary="Record an officer's distribution certificate (after training)",
    responses=errors(CERTIFIED_ON_FUTURE, EXPIRY_BEFORE_CERTIFICATION, CERTIFICATE_RECORDED),
)
async def certify(
    officer_sub: Annotated[str, Path(min_length=1, max_length=120)],
    form: CertificateIn,
    uow: ManagerWork,
) -> CertificateOut:
    await handlers.certify_officer(uow, officer_sub, form)
    return CertificateOut(
        officer_sub=officer_sub, officer_id=officer_id(officer_sub), **form.model_dump()
    )


@router.get(
    "/officers", response_model=list[CertificateStatus], summary="Certificates, newest first"
)
async def list_certificates(session: Reads, principal: MoneyReader) -> list[CertificateStatus]:
    return await queries.certificate_list(session, clock.today())
