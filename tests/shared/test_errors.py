"""The error catalogue: every code raised anywhere is declared once, with one status."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.errors import CATALOGUE
from shared.spec import discover

ROOT = Path(__file__).parents[2]
SOURCES = [p for d in ("shared", "services") for p in (ROOT / d).rglob("*.py")]


def first_literals(function: str) -> dict[str, str]:
    """The literal first argument of every call of `function`, with where it is made."""
    found: dict[str, str] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == function
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found[str(node.args[0].value)] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def raised_codes() -> dict[str, str]:
    """Every code given as a literal to DomainError(...)."""
    return first_literals("DomainError")


def aggregate_types() -> dict[str, str]:
    """Every `Decider("<type>", ...)`: the kernel answers `<type>_not_found` for each."""
    return first_literals("Decider")


def test_every_code_raised_is_declared() -> None:
    discover()  # every service's errors module is imported with its spec
    missing = {code: where for code, where in raised_codes().items() if code not in CATALOGUE}
    assert missing == {}


def test_every_aggregate_has_its_not_found_code() -> None:
    discover()
    missing = {
        f"{kind}_not_found": where
        for kind, where in aggregate_types().items()
        if f"{kind}_not_found" not in CATALOGUE
    }
    assert missing == {}
    assert all(CATALOGUE[f"{kind}_not_found"].status == 404 for kind in aggregate_types())


def test_codes_are_snake_case_with_an_error_status() -> None:
    for code, entry in CATALOGUE.items():
        assert code.replace("_", "").isalnum() and code == code.lower(), code
        assert 400 <= entry.status < 600 and entry.summary
