"""Who may call what, for every route of every service, as its README states it.

The API documents name each operation's roles (`x-roles`, from the `require(...)` its
route depends on). Each service README holds the same table between `<!-- roles -->`
markers; the table is checked against the code, and then every route is called as every
role, with no token, an expired token, a token signed with another key and an `alg: none`
token: a role the table grants never meets 401/403, any other always does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr

from shared.auth import Role, issue_token
from shared.settings import CommonSettings
from shared.spec import ServiceSpec, discover
from tests.helpers import NatsServer, serve_app

ROOT = Path(__file__).parents[1]
SPECS = discover()
MARKERS = re.compile(r"<!-- roles -->\n(.*?)<!-- /roles -->", re.S)


def operations(spec: ServiceSpec) -> list[tuple[str, str, list[str]]]:
    """(METHOD, path, roles) of every documented operation, in the document's order."""
    document = spec.app(spec.settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
    return [
        (method.upper(), path, op["x-roles"])
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if path not in ("/health", "/ready", "/asyncapi.json")
    ]


def table(spec: ServiceSpec) -> str:
    """The README's table, as the code has it."""
    rows = ["| route | who may call it |", "| --- | --- |"]
    for method, path, roles in operations(spec):
        who = (
            "anyone, no token"
            if roles == ["public"]
            else ", ".join(f"`{r}`" for r in roles if r != "admin") or "`admin` only"
        )
        rows.append(f"| `{method} {path}` | {who} |")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("name", list(SPECS))
def test_the_readme_states_who_may_call_each_route(name: str) -> None:
    readme = (ROOT / "services" / name / "README.md").read_text()
    found = MARKERS.search(readme)
    expected = table(SPECS[name])
    assert found, f"services/{name}/README.md has no <!-- roles --> table:\n{expected}"
    assert found.group(1) == expected


# --- the matrix ---------------------------------------------------------------------------
SETTINGS = CommonSettings()
OTHER_KEY = "a-key-that-is-not-the-services-one-0123456789abcdef"


def tokens() -> dict[str, str | None]:
    """Every way of asking: each role, none, expired, signed with another key, alg none."""
    asked: dict[str, str | None] = {
        role.value: issue_token(SETTINGS, f"matrix.{role.value}", role) for role in Role
    }
    asked["no token"] = None
    asked["expired"] = issue_token(
        SETTINGS, "matrix.expired", Role.admin, ttl=timedelta(seconds=-60)
    )
    asked["another key"] = issue_token(
        SETTINGS.model_copy(update={"jwt_secret": SecretStr(OTHER_KEY)}),
        "matrix.forged",
        Role.admin,
    )
    claims = jwt.decode(asked["admin"] or "", options={"verify_signature": False})
    asked["alg none"] = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    return asked


def fill(path: str) -> str:
    """A path with its parameters filled by well-formed values nobody has."""
    values = {
        "programme": "BLT",
        "period": "2026-11",
        "ticket_code": "TB-2222-2222",
        "index": "0",
        "officer_sub": "petugas.matrix",
    }
    return re.sub(
        r"\{(\w+)\}",
        lambda m: values.get(m.group(1), "00000000-0000-4000-8000-000000000000"),
        path,
    )


@pytest.fixture
async def clients(
    tmp_path: Path, nats_server: NatsServer
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        out = {}
        for name, spec in SPECS.items():
            settings = spec.settings(
                database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db",
                nats_url=nats_server.url,
                audit_data_dir=tmp_path / "audit",
            )
            out[name] = await stack.enter_async_context(serve_app(spec.app(settings)))
        yield out


async def test_every_route_answers_every_caller_as_its_roles_say(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    wrong: list[str] = []
    asked = tokens()
    for name, spec in SPECS.items():
        for method, path, roles in operations(spec):
            for who, token in asked.items():
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                # An empty body: a caller who may call gets past authorisation, then a 4xx.
                body: Any = {} if method in ("POST", "PATCH", "PUT") else None
                reply = await clients[name].request(method, fill(path), headers=headers, json=body)
                denied = reply.status_code in (401, 403)
                if roles == ["public"]:
                    # Anyone; a bad token sent to a route that reads one is refused (401).
                    expected = denied if who in ("expired", "another key", "alg none") else False
                else:
                    expected = who not in roles
                if denied != expected or reply.status_code >= 500:
                    wrong.append(f"{name} {method} {path} as {who}: {reply.status_code}")
    assert wrong == []
