"""What every service's demo seeding shares: its context, checked replies, waiting for
the bus. `bansos demo` runs each service's seeder in port order (registry first), each
one reading what the earlier ones made from `DemoContext.made`."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

from shared.auth import Role, issue_token
from shared.settings import CommonSettings

# Who acts in the demo, per role: every event records them (the public sees the role).
DEMO_SUBJECTS = {
    Role.registry_operator: "operator.siti",
    Role.distribution_officer: "petugas.agus",
    Role.programme_manager: "manager.dewi",
    Role.training_coordinator: "coordinator.rina",
    Role.community_facilitator: "facilitator.yusuf",
    Role.auditor: "inspektorat.hasan",
    Role.admin: "admin",
}


class DemoError(RuntimeError):
    """A demo request failed: the message names the request and the reply."""


@dataclass
class DemoContext:
    urls: dict[str, str]  # every running service's base URL, by name
    households: int  # how many households the registry's seeder registers
    rng: random.Random
    settings: CommonSettings
    console: Console
    made: dict[str, Any] = field(default_factory=dict)  # what earlier seeders made

    def token(self, role: Role) -> str:
        return issue_token(self.settings, DEMO_SUBJECTS[role], role)

    def client(self, service: str, role: Role, timeout: float = 120) -> httpx.AsyncClient:
        """A client of one service, acting as the demo's person in `role`."""
        auth = {"Authorization": f"Bearer {self.token(role)}"}
        return httpx.AsyncClient(base_url=self.urls[service], headers=auth, timeout=timeout)

    def report(self, line: str) -> None:
        self.console.print(line)

    @contextlib.contextmanager
    def status(self, text: str) -> Iterator[None]:
        with self.console.status(text):
            yield

    @contextlib.contextmanager
    def progress(self, text: str, total: int) -> Iterator[Callable[[], None]]:
        """A progress bar; the caller advances it once per item."""
        with Progress(console=self.console) as bar:
            task = bar.add_task(text, total=total)
            yield lambda: bar.advance(task)


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
