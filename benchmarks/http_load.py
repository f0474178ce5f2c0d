"""HTTP load from wrk, not from Python: above a few hundred requests a second a Python
load generator on these two cores measures itself. Each body is POSTed once
(`wrk_bodies.lua`), and the same load against a trivial FastAPI endpoint
(`trivial_app.py`) is the baseline printed beside a service's figure."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import listening
from shared.launcher import free_port

SCRIPT = Path(__file__).with_name("wrk_bodies.lua")
RESULT = re.compile(
    r"WRK thread=\d+ created=(\d+) refused=(\d+) started_us=(\d+) finished_us=(\d+)"
)


@dataclass(frozen=True)
class Load:
    created: int
    refused: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.created / self.seconds


def wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian package `wrk`)")
    return found


def post_each(
    url: str,
    path: str,
    bodies: Sequence[dict[str, Any]],
    token: str,
    *,
    connections: int = 32,
    threads: int = 1,
    max_seconds: int = 120,
) -> Load:
    """POST every body once over `connections` keep-alive connections; count the 201s."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as file:
        for body in bodies:
            file.write(json.dumps(body, separators=(",", ":")) + "\n")
        file.flush()
        command = [
            wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max_seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(SCRIPT),
            url,
            "--",
            file.name,
            path,
            token,
            str(threads),
        ]
        lines: list[tuple[int, ...]] = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:  # each thread prints once it is done; wrk runs on
                if found := RESULT.search(line):
                    lines.append(tuple(map(int, found.groups())))
                    if len(lines) == threads:
                        proc.terminate()
                        break
            proc.wait()
    if len(lines) < threads:
        raise SystemExit(f"wrk stopped after {max_seconds}s with {len(lines)} of {threads} done")
    created = sum(line[0] for line in lines)
    refused = sum(line[1] for line in lines)
    seconds = (max(line[3] for line in lines) - min(line[2] for line in lines)) / 1e6
    return Load(created, refused, seconds)


@contextlib.contextmanager
def trivial_service() -> Iterator[str]:
    port = free_port()
    app = ["-m", "uvicorn", "benchmarks.trivial_app:app", "--port", str(port)]
    quiet = ["--log-level", "warning", "--no-access-log"]
    with listening([sys.executable, *app, *quiet], port, "http") as url:
        yield url
