"""The `bansos` command's failures are one or two lines that say what to do, exit 2, and it
works from any directory."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from pathlib import Path

from shared.launcher import free_port

BANSOS = str(Path(sys.executable).parent / "bansos")


def bansos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BANSOS, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def said(run: subprocess.CompletedProcess[str]) -> list[str]:
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    return [line for line in lines if "%" not in line and "warning:" not in line]


def test_it_works_from_any_directory(tmp_path: Path) -> None:
    listed = bansos("services", cwd=tmp_path)
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "registry",
        "distribution",
        "training",
        "community",
        "audit",
    ]


def test_the_demo_without_a_running_stack_says_so_in_two_lines(tmp_path: Path) -> None:
    run = bansos("demo", "--households", "2", "--port-base", str(free_port(6)), cwd=tmp_path)
    assert run.returncode == 2
    lines = said(run)
    assert len(lines) <= 2 and "Traceback" not in run.stdout + run.stderr
    assert "cannot reach" in lines[0] and "bansos up" in lines[-1]


def test_verify_against_a_service_without_a_ledger_names_the_audit_port(tmp_path: Path) -> None:
    handler = http.server.SimpleHTTPRequestHandler  # any HTTP server: /ledger/... is a 404
    server = http.server.HTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = bansos("verify", "--url", f"http://127.0.0.1:{server.server_port}", cwd=tmp_path)
    finally:
        server.shutdown()
    assert run.returncode == 2
    lines = said(run)
    assert len(lines) <= 2 and "Traceback" not in run.stdout + run.stderr
    assert "serves no ledger" in lines[0] and "8005" in lines[-1]
