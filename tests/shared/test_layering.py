"""The kernel knows no service: `shared/` imports nothing from `services/` (the services
are found through their entry points), and no module of either grows past ~400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
LONGEST = 420  # "about 400 lines": small modules, each with one concern


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_shared_imports_no_service() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported(path) if m.split(".")[0] == "services"
        )
        for path in (ROOT / "shared").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_module_is_long() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for folder in ("shared", "services")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert {k: n for k, n in lengths.items() if n > LONGEST} == {}
