"""The README's walk-throughs as a newcomer runs them: `make run` (here `bansos up --demo`
on free ports), the shell blocks twice in a row in one bash session, then `make run` again
on the same ./var and the blocks a third time. Each run must succeed with the same replies;
the second `make run` must say it reuses ./var and add no second round of a programme."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from shared.auth import Role, issue_token
from shared.clock import today
from shared.settings import CommonSettings
from tests.helpers import UpProcess

pytestmark = pytest.mark.e2e

README = Path(__file__).parents[2] / "README.md"
# The refusals the walk-throughs show on purpose: the demo budgeted the month already, a
# NIK that does not encode its birth date, a follow-up before it is due, an erased leaf.
SHOWN = Counter(
    {
        "budget_exists": 1,
        "validation_failed": 1,
        "follow_up_too_early": 1,
        "leaf_erased": 1,
    }
)


def walkthrough(port_base: int) -> str:
    """The README's shell blocks from "Try it" to "Test it", as one bash script, with the
    services' ports moved to `port_base`."""
    text = README.read_text()
    text = text[text.index("## Try it") : text.index("## Test it")]
    script = "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S))
    return re.sub(r"127\.0\.0\.1:800(\d)", lambda m: f"127.0.0.1:{port_base + int(m[1])}", script)


def run_blocks(workdir: Path, port_base: int) -> str:
    """Run them (errexit: a step that fails, such as an id missing from a reply, stops the
    run); the output, stdout and stderr together."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough(port_base)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{workdir / '.venv' / 'bin'}:{os.environ['PATH']}"},
    )
    assert done.returncode == 0, done.stdout[-4000:]
    return done.stdout


def refusals(output: str) -> Counter[str]:
    return Counter(re.findall(r'"error":\s*"(\w+)"', output))


def rounds_of_the_month(up: UpProcess) -> Counter[str]:
    """This month's rounds per programme, as the programme manager lists them."""
    token = issue_token(CommonSettings(), "manager.test", Role.programme_manager)
    reply = httpx.get(
        f"{up.url(2)}/rounds",
        params={"period": f"{today():%Y-%m}"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return Counter(r["programme"] for r in reply.json())


def walked_the_community_blocks(out: str) -> None:
    """A case opened (its closure is tested in the block), a round's sample drawn,
    verified and recomputed twice (the demo's round by anyone, the README's by an
    auditor), an appeal upheld."""
    assert '"reason":"after_aid"' in out
    assert '"discrepancies":["asked_to_pay"]' in out
    assert out.count("OK: the sample is the one the published rule gives") == 2, out[-4000:]
    assert "is the one drawn, in order" in out
    assert out.count('"outcome":"upheld"') >= 1


def test_the_walkthroughs_run_twice_and_after_a_second_make_run(tmp_path: Path) -> None:
    # A checkout's layout: .venv/bin/bansos beside ./var, as the README expects.
    workdir = tmp_path / "checkout"
    (workdir / ".venv" / "bin").mkdir(parents=True)
    (workdir / ".venv" / "bin" / "bansos").symlink_to(Path(sys.executable).parent / "bansos")
    up = UpProcess(workdir / "var", args=("--demo", "--households", "40"))
    up.start(wait_for=(1, 2, 3, 4, 5), within=240)
    try:
        first_start = up.printed()
        assert "Fresh start: the stream is empty" in first_start, first_start[-3000:]
        demo_rounds = rounds_of_the_month(up)
        assert demo_rounds == Counter({"BLT": 1, "SEMBAKO": 1})

        first = run_blocks(workdir, up.port_base)
        assert refusals(first) == SHOWN, first[-4000:]
        second = run_blocks(workdir, up.port_base)
        assert refusals(second) == SHOWN, second[-4000:]
        for out in (first, second):
            assert '"receipt_code"' in out and '"status":"completed"' in out
            assert out.count("FAILED") == 0 and "opened and matched" in out
            walked_the_community_blocks(out)
        # Each run scheduled its own BLT round for RW 03; the demo's stay as they were.
        assert rounds_of_the_month(up) == demo_rounds + Counter({"BLT": 2})
    finally:
        out = up.stop()
    assert up.returncode == 0, out

    again = UpProcess(workdir / "var", args=("--demo", "--households", "40"))
    again.port_base = up.port_base  # the README's ports, as `make run` keeps them
    again.nats_port = up.nats_port
    again.start(wait_for=(1, 2, 3, 4, 5), within=240)
    try:
        started = again.printed()
        assert "Reusing an earlier run" in started and "rm -rf" in started, started[-3000:]
        # The demo's 40; each README run registers two (Budi's, and Rini's who appeals).
        assert "44 households registered" in started
        # The second demo added households to the month's rounds, and no round.
        assert rounds_of_the_month(again) == demo_rounds + Counter({"BLT": 2})
        third = run_blocks(workdir, again.port_base)
        assert refusals(third) == SHOWN, third[-4000:]
        walked_the_community_blocks(third)
    finally:
        out = again.stop()
    assert again.returncode == 0, out
