"""Bearer JWTs with a role claim (docs/architecture.md#security)."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.domain import DomainError
from shared.errors import ROLE_NOT_ALLOWED, TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_MISSING
from shared.events import utcnow
from shared.settings import CommonSettings


class Role(StrEnum):
    registry_operator = "registry_operator"
    distribution_officer = "distribution_officer"
    programme_manager = "programme_manager"
    training_coordinator = "training_coordinator"
    community_facilitator = "community_facilitator"
    auditor = "auditor"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role


def issue_token(
    settings: CommonSettings, sub: str, role: Role | str, ttl: timedelta = timedelta(hours=12)
) -> str:
    """Development tokens (HS256). Production uses an external issuer's keys instead."""
    now = utcnow()
    claims = {
        "sub": sub,
        "role": Role(role).value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


@functools.lru_cache(maxsize=4096)
def _verified(
    token: str, key: str, algorithm: str, audience: str, issuer: str
) -> Mapping[str, Any]:
    """A token's claims once its signature, audience and issuer are checked. A client
    sends the same token with every request, and checking it again cost a tenth of a
    short request; a refused token raises, so nothing is kept for it. Expiry is checked
    on every use, by the caller."""
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[algorithm],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "sub", "role"]},
    )
    return MappingProxyType(claims)


def verify_token(settings: CommonSettings, token: str) -> Principal:
    key = settings.jwt_public_key or settings.jwt_secret.get_secret_value()
    try:
        claims = _verified(
            token, key, settings.jwt_algorithm, settings.jwt_audience, settings.jwt_issuer
        )
        if claims["exp"] <= time.time():  # as PyJWT decides it, with no leeway
            raise jwt.ExpiredSignatureError("Signature has expired")
    except jwt.ExpiredSignatureError as exc:
        raise DomainError(
            TOKEN_EXPIRED,
            "the bearer token has expired: get a new one (`bansos token --role ROLE --sub NAME`)",
            field="Authorization",
        ) from exc
    except jwt.InvalidSignatureError as exc:
        setting = "BANSOS_JWT_PUBLIC_KEY" if settings.jwt_public_key else "BANSOS_JWT_SECRET"
        raise DomainError(
            TOKEN_INVALID,
            f"the bearer token was signed with another key than this service's ({setting}): "
            f"mint it where {setting} is the same",
            field="Authorization",
        ) from exc
    except jwt.PyJWTError as exc:
        raise DomainError(
            TOKEN_INVALID, f"the bearer token is not valid: {exc}", field="Authorization"
        ) from exc
    try:
        role = Role(claims["role"])
    except ValueError as exc:
        raise DomainError(
            TOKEN_INVALID, f"unknown role {claims['role']!r}", field="Authorization"
        ) from exc
    return Principal(sub=str(claims["sub"]), role=role)


_bearer = HTTPBearer(auto_error=False)


def require(*roles: Role) -> Any:
    """FastAPI dependency: a valid token whose role is one of `roles` (admin always passes)."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise DomainError(
                TOKEN_MISSING, "send 'Authorization: Bearer <token>'", field="Authorization"
            )
        principal = verify_token(request.app.state.settings, credentials.credentials)
        if roles and principal.role not in roles and principal.role is not Role.admin:
            allowed = ", ".join(r.value for r in roles)
            raise DomainError(
                ROLE_NOT_ALLOWED,
                f"role {principal.role.value} may not do this; needs one of: {allowed}",
                field="Authorization",
            )
        return principal

    # The roles travel with the dependency, so the API documents say who may call each
    # route (x-roles, shared/http.py) and a test walks them all.
    dependency.bansos_roles = tuple(roles)  # type: ignore[attr-defined]
    return Depends(dependency)


def optional() -> Any:
    """FastAPI dependency for public routes: the caller's principal when a token is sent
    (it must then be valid), None for an anonymous caller."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal | None:
        if credentials is None:
            return None
        return verify_token(request.app.state.settings, credentials.credentials)

    return Depends(dependency)
