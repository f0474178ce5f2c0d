"""A distribution officer (petugas), keyed by their token subject: the certificates that
let them hand aid over. A pure decider."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from services.distribution.errors import (
    CERTIFICATE_RECORDED,
    CERTIFIED_ON_FUTURE,
    EXPIRY_BEFORE_CERTIFICATION,
)
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.distribution import OfficerCertified
from shared.uow import Decider


@dataclass(frozen=True)
class Officer:
    certificates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Certify:
    officer_sub: str
    certificate_number: str
    certified_on: date
    expires_on: date
    today: date


def decide(state: Officer, command: Certify) -> list[EventPayload]:
    if command.certified_on > command.today:
        raise DomainError(
            CERTIFIED_ON_FUTURE, "a certificate cannot be dated ahead", field="certified_on"
        )
    if command.expires_on <= command.certified_on:
        raise DomainError(
            EXPIRY_BEFORE_CERTIFICATION,
            "expires_on must come after certified_on",
            field="expires_on",
        )
    if command.certificate_number in state.certificates:
        raise DomainError(
            CERTIFICATE_RECORDED,
            f"certificate {command.certificate_number} is already recorded for this officer",
            field="certificate_number",
        )
    return [
        OfficerCertified(
            officer_sub=command.officer_sub,
            certificate_number=command.certificate_number,
            certified_on=command.certified_on,
            expires_on=command.expires_on,
        )
    ]


def evolve(state: Officer, event: EventPayload) -> Officer:
    if isinstance(event, OfficerCertified):
        return replace(state, certificates=(*state.certificates, event.certificate_number))
    return state


officers: Decider[Officer, Certify] = Decider("officer", Officer(), decide, evolve)
