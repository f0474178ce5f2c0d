"""What every service's demo seeding shares: checked replies and waiting for the bus."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class DemoError(RuntimeError):
    """A demo request failed: the message names the request and the reply."""


def ok(reply: httpx.Response, *tolerated: str) -> dict[str, Any]:
    """The reply's JSON body; a 409 whose code is tolerated (a re-run) gives {}."""
    if reply.is_error:
        if reply.status_code == 409 and reply.json().get("error") in tolerated:
            return {}
        raise DemoError(
            f"{reply.request.method} {reply.request.url.path} -> "
            f"{reply.status_code}: {reply.text[:500]}"
        )
    body: dict[str, Any] = reply.json()
    return body


async def known(client: httpx.AsyncClient, household_id: str, within: float = 60) -> None:
    """Services learn households from the registry's events: wait until this one has."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        reply = await client.get(f"/eligibility/{household_id}")
        if reply.status_code == 200 and reply.json()["eligible"] is not None:
            return
        await asyncio.sleep(0.2)
    raise DemoError(f"{client.base_url} did not learn household {household_id} within {within} s")
