"""Every service's own page and API documents work without the internet, and document
the replies the service really gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.spec import discover
from tests.helpers import NatsServer, serve_app

SPECS = discover()


@pytest.mark.parametrize("name", list(SPECS))
async def test_docs_are_served_by_the_service_itself(
    name: str, tmp_path: Path, nats_server: NatsServer
) -> None:
    spec = SPECS[name]
    settings = spec.settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        nats_url=nats_server.url,
        audit_data_dir=tmp_path / "audit",
    )
    async with serve_app(spec.app(settings)) as client:
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
