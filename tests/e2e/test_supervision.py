"""`bansos up` supervises what it starts: a killed service comes back by itself while the
others keep serving, and Ctrl-C or SIGTERM stop everything cleanly, also when it was started
in the background (where the shell has SIGINT ignored)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers import UpProcess, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var")
    process.start(wait_for=(1, 2, 3, 4, 5))
    yield process
    process.stop()


def health(url: str) -> int | str:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code
    except httpx.HTTPError as exc:
        return type(exc).__name__


def healthy(url: str) -> bool:
    return health(url) == 200


async def test_a_killed_service_restarts_while_the_others_keep_serving(up: UpProcess) -> None:
    audit = up.children()["audit"]
    os.kill(audit, signal.SIGKILL)
    await eventually(lambda: not psutil.pid_exists(audit) or not healthy(up.url(5)), within=10)
    # The others never stop answering while audit is down and coming back.
    for _ in range(10):
        others = [health(up.url(n)) for n in (1, 2, 3, 4)]
        if others != [200] * 4:
            pytest.fail(f"others answered {others} while audit was down:\n{up.stop()[-3000:]}")
    await eventually(lambda: healthy(up.url(5)), within=30, interval=0.2)
    assert up.children()["audit"] != audit
    out = up.stop()
    assert up.returncode == 0, out
    assert "audit exited with -9; restarting in 1 s" in out and "audit restarted" in out
    assert "could not start" not in out and "stopped." in out


@pytest.mark.parametrize(
    "how",
    [(signal.SIGINT,), (signal.SIGTERM,), (signal.SIGINT, signal.SIGTERM)],
    ids=["SIGINT", "SIGTERM", "SIGINT-then-SIGTERM"],
)
def test_a_background_stack_stops_cleanly(tmp_path: Path, how: tuple[int, ...]) -> None:
    up = UpProcess(tmp_path / "var", background=True)
    up.start(wait_for=(1, 5))
    children = list(up.children().values())
    out = up.stop(*how)
    assert up.returncode == 0, out
    assert "stopped." in out and "unexpectedly" not in out and "could not start" not in out
    assert not [pid for pid in children if psutil.pid_exists(pid)]
