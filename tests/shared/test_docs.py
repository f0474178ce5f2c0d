"""Every service's own page and API documents work without the internet, and document
the replies the service really gives."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from shared.settings import CommonSettings
from shared.spec import ServiceSpec, discover
from tests.helpers import NatsServer, serve_app

SPECS = discover()


def settings_of(spec: ServiceSpec, tmp_path: Path, nats_server: NatsServer) -> CommonSettings:
    """The service alone, on SQLite, against the test's nats-server."""
    return spec.settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        nats_url=nats_server.url,
        audit_data_dir=tmp_path / "audit",
    )


@pytest.mark.parametrize("name", list(SPECS))
async def test_docs_are_served_by_the_service_itself(
    name: str, tmp_path: Path, nats_server: NatsServer
) -> None:
    spec = SPECS[name]
    async with serve_app(spec.app(settings_of(spec, tmp_path, nats_server))) as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
            links += re.findall(r"""url: ?['"]([^'"]+)['"]""", html)
            assert links, page
            assert not [u for u in links if "//" in u], f"{page} loads from elsewhere: {links}"
            for url in links:
                assert (await client.get(url)).status_code == 200, url
        document = (await client.get("/openapi.json")).json()
        assert "HTTPValidationError" not in document["components"]["schemas"]
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for status, answer in operation["responses"].items():
                    if status.startswith(("4", "5")):
                        schema = answer["content"]["application/json"]["schema"]
                        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (
                            f"{method} {path} {status}"
                        )
                assert {"413", "422", "503"} <= set(operation["responses"]), f"{method} {path}"
        if name != "audit":  # the audit's own page is the public transparency page
            home = await client.get("/", follow_redirects=False)
            assert home.status_code in (302, 307) and home.headers["location"] == "/docs"


def _resolves(document: dict[str, Any], node: Any) -> list[str]:
    """Every `$ref` under `node` that points nowhere in `document`."""
    broken: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                part = unquote(part)
                target = target.get(part) if isinstance(target, dict) else None
            if target is None:
                broken.append(ref)
        for value in node.values():
            broken += _resolves(document, value)
    elif isinstance(node, list):
        for value in node:
            broken += _resolves(document, value)
    return broken


@pytest.mark.parametrize("name", list(SPECS))
async def test_asyncapi_documents_what_each_service_sends_and_receives(
    name: str, tmp_path: Path, nats_server: NatsServer
) -> None:
    spec = SPECS[name]
    async with serve_app(spec.app(settings_of(spec, tmp_path, nats_server))) as client:
        document = (await client.get("/asyncapi.json")).json()
    operations = document.get("operations", {}).values()
    received = {
        document["channels"][unquote(o["channel"]["$ref"].rsplit("/", 1)[-1])]["address"]
        for o in operations
        if o["action"] == "receive"
    }
    sent = {o["channel"]["$ref"] for o in operations if o["action"] == "send"}
    assert received == {c.subject for c in spec.consumers} | {s for s, _ in spec.reads}
    if name == "audit":
        assert received == {"bansos.>"}  # the ledger's ingest: every message
    assert sent, f"{name} documents nothing it publishes"
    assert _resolves(document, document) == []
