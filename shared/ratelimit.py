"""Limits on public endpoints (anyone may file a complaint, so anyone could flood the
programme with them): a moving window per real client address, 429 with Retry-After when
exceeded. The address is the connection's, or the one a trusted reverse proxy forwards
(`BANSOS_TRUSTED_PROXIES`; nothing else is believed, so rotating X-Forwarded-For gains
nothing). Staff with a valid token are limited too, per token subject, at a higher rate
(`BANSOS_STAFF_RATE`). Counts live in memory per process by default, or in a store shared
by replicas and kept across restarts (`BANSOS_RATE_LIMIT_STORAGE=redis://…`, the `limits`
library)."""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

from fastapi import Depends, Request
from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from shared.auth import Principal, optional
from shared.domain import DomainError
from shared.errors import RATE_LIMITED

# Parsed once per rate string, not on every request.
_rate = cache(parse)


def _limiter(request: Request) -> MovingWindowRateLimiter:
    """One per app (its own counts), made on first use from the setting."""
    state = request.app.state
    if getattr(state, "rate_limiter", None) is None:
        # The async variant of the storage named ("memory://" -> "async+memory://").
        uri = state.settings.rate_limit_storage
        storage = storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")
        assert isinstance(storage, Storage)
        state.rate_limiter = MovingWindowRateLimiter(storage)
    limiter: MovingWindowRateLimiter = state.rate_limiter
    return limiter


def source(request: Request) -> str:
    """The client's address: the connection's, or the one a trusted proxy forwarded (the
    app's proxy-headers middleware has put it here, shared/http.py)."""
    return request.client.host if request.client else "unknown"


def limit(scope: str, setting: str) -> Any:
    """A dependency: at most the rate in `settings.<setting>` (e.g. "5/10 minutes") per
    client address for this scope; a caller with a valid staff token (a facilitator
    entering complaints taken on paper at the posko) at `settings.staff_rate` per subject."""

    async def dependency(request: Request, principal: Principal | None = optional()) -> None:
        settings = request.app.state.settings
        if principal is not None:
            rate = _rate(settings.staff_rate)
            key: tuple[str, ...] = (scope, "staff", principal.sub)
        else:
            rate = _rate(getattr(settings, setting))
            key = (scope, source(request))
        limiter = _limiter(request)
        if await limiter.hit(rate, *key):
            return
        stats = await limiter.get_window_stats(rate, *key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise DomainError(
            RATE_LIMITED,
            f"too many requests from you ({rate}); try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )

    return Depends(dependency)
