"""Hostile input meets bounds where it enters: every number a request may carry (body,
query or path, in every service) has a documented minimum and maximum inside JSON's exact
integers, every string a maximum length, every list a maximum size; then schemathesis
throws generated requests at every operation of a running stack and none answers 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.auth import Role, issue_token
from shared.settings import CommonSettings
from shared.spec import discover
from tests.helpers import UpProcess

SPECS = discover()
SAFE = 2**53 - 1


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def unbounded(document: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    """Where a schema lets an unbounded value in."""
    schema = resolve(document, schema)
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            found += unbounded(document, part, f"{where}[{i}]")
    kind = schema.get("type")
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is None or high is None or high > SAFE or low < -SAFE:
            found.append(f"{where}: {kind} from {low} to {high}")
    bounded_text = {"enum", "const", "maxLength", "pattern", "format"} & set(schema)
    if kind == "string" and not bounded_text:
        found.append(f"{where}: string without a maximum length")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: list without a maximum size")
        found += unbounded(document, schema.get("items", {}), f"{where}[]")
    if kind == "object" or "properties" in schema:
        for name, part in schema.get("properties", {}).items():
            found += unbounded(document, part, f"{where}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            found += unbounded(document, extra, f"{where}.*")
    return found


@pytest.mark.parametrize("name", list(SPECS))
def test_every_input_is_bounded_where_it_enters(name: str) -> None:
    spec = SPECS[name]
    document = spec.app(spec.settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
    found: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            here = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                found += unbounded(
                    document, parameter.get("schema", {}), f"{here} {parameter['name']}"
                )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found += unbounded(document, body["schema"], f"{here} body")
    assert found == []


@pytest.mark.e2e
def test_generated_requests_never_meet_a_server_error(tmp_path: Path) -> None:
    up = UpProcess(tmp_path / "var")
    up.start(wait_for=(1, 2, 3, 4, 5))
    admin = issue_token(CommonSettings(), "fuzz.admin", Role.admin)
    st = str(Path(sys.executable).parent / "st")
    try:
        for offset in range(1, 6):
            run = subprocess.run(
                [
                    st,
                    "run",
                    f"{up.url(offset)}/openapi.json",
                    "--checks",
                    "not_a_server_error",
                    "--max-examples",
                    os.environ.get("BANSOS_FUZZ_EXAMPLES", "10"),
                    "--seed",
                    "2026",
                    "--no-color",
                    "-H",
                    f"Authorization: Bearer {admin}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert run.returncode == 0, run.stdout[-4000:]
    finally:
        up.stop()
