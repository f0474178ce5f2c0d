"""Bearer tokens are verified once and their claims kept: a kept token still expires on
time, a refused one is never kept, and another key is a different token altogether."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from pydantic import SecretStr

from shared import auth
from shared.auth import Role, issue_token, verify_token
from shared.domain import DomainError
from shared.settings import CommonSettings


def test_a_kept_token_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = CommonSettings()
    token = issue_token(settings, "operator.siti", Role.registry_operator, ttl=timedelta(minutes=5))
    assert verify_token(settings, token).sub == "operator.siti"
    assert auth._verified.cache_info().currsize >= 1
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(DomainError) as refused:
        verify_token(settings, token)
    assert refused.value.code == "token_expired"


def test_a_refused_token_is_checked_again_each_time() -> None:
    settings = CommonSettings()
    forged = jwt.encode(
        {
            "sub": "x",
            "role": "admin",
            "aud": settings.jwt_audience,
            "iss": settings.jwt_issuer,
            "exp": int(time.time()) + 60,
        },
        "not the service's secret, but long enough for HS256 to accept it as a key",
        algorithm="HS256",
    )
    before = auth._verified.cache_info().currsize
    for _ in range(2):
        with pytest.raises(DomainError) as refused:
            verify_token(settings, forged)
        assert refused.value.code == "token_invalid"
    assert auth._verified.cache_info().currsize == before


def test_a_token_kept_under_one_key_is_refused_under_another() -> None:
    signer = CommonSettings()
    token = issue_token(signer, "operator.siti", Role.registry_operator)
    assert verify_token(signer, token).role is Role.registry_operator
    other = CommonSettings(jwt_secret=SecretStr("another service's secret, thirty-two chars+"))
    with pytest.raises(DomainError) as refused:
        verify_token(other, token)
    assert refused.value.code == "token_invalid"
