"""Usulan for the Dinas Sosial round-trip through their documented CSV; `bansos import` and
`bansos export usulan` against a registry listening on a port."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import astuple
from datetime import timedelta
from pathlib import Path

import uvicorn

from services.registry import usulan
from services.registry.service import SERVICE
from shared import clock
from shared.events import utcnow
from shared.launcher import free_port
from tests.helpers import NatsServer, eventually
from tests.registry.test_import import (
    BAD,
    GOOD,
    HEADER,
    OPERATOR,
    dtks_csv,
    registry,
    run_import,
    settings_for,
)

BANSOS = str(Path(sys.executable).parent / "bansos")
SAMPLE = Path(__file__).parents[2] / "services" / "registry" / "samples" / "dtks-sample.csv"


async def test_usulan_round_trip_through_the_documented_format(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    today = clock.today().isoformat()
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, runtime):
        await run_import(client, runtime, dtks_csv(GOOD))
        listed = (await client.get("/households", headers=OPERATOR)).json()["items"]
        by_rw = {h["rw"]: h["household_id"] for h in listed}
        decided = await client.post(f"/households/{by_rw['03']}/eligibility", headers=OPERATOR)
        assert decided.status_code == 200, decided.text
        gone = await client.post(
            f"/households/{by_rw['01']}/deactivation", json={"reason": "moved"}, headers=OPERATOR
        )
        assert gone.status_code == 200
        reply = await client.get(f"/exports/usulan?since={today}", headers=OPERATOR)
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/csv")
        later = await client.get("/exports/usulan?since=2999-01-01", headers=OPERATOR)
        refused = await client.get("/exports/usulan?since=yesterday", headers=OPERATOR)
    parsed = list(usulan.parse(reply.text.splitlines()))
    reasons = ";".join(decided.json()["reasons"])
    assert parsed == [
        usulan.Usulan("DT-1", GOOD[0][1], today, "BARU", "005", "03", "3", "anggota=3"),
        usulan.Usulan("DT-2", GOOD[3][1], today, "BARU", "001", "01", "", "anggota=1"),
        usulan.Usulan("DT-1", GOOD[0][1], today, "LAYAK", "005", "03", "3", reasons),
        usulan.Usulan("DT-2", GOOD[3][1], today, "NONAKTIF", "001", "01", "", "moved"),
    ]
    # What the Dinas Sosial reads back writes out as the same text.
    assert usulan.text([usulan.COLUMNS, *(astuple(u) for u in parsed)]) == reply.text
    assert later.text.strip() == ",".join(usulan.COLUMNS)
    assert (refused.status_code, refused.json()["details"][0]["field"]) == (422, "since")


@contextlib.asynccontextmanager
async def listening(database_url: str, nats: NatsServer, tmp: Path) -> AsyncIterator[str]:
    settings = settings_for(database_url, nats, tmp).model_copy(
        update={"import_worker": True, "import_batch_rows": 50}
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(SERVICE.app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def bansos(*args: str, cwd: Path) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        BANSOS,
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "BANSOS_MODE": "development"},
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    lines = [line for line in out.decode().splitlines() if line.strip()]
    return process.returncode or 0, lines


async def test_bansos_import_and_export_against_a_running_registry(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with listening(database, nats_server, tmp_path) as url:
        started = utcnow()
        code, lines = await bansos("import", str(SAMPLE), "--url", url, cwd=tmp_path)
        assert code == 0, lines
        # The report is kept 30 days from the job's end, a moment between these two (days
        # as Jakarta names them).
        ends = (started, utcnow())
        until = "|".join({clock.day_of(t + timedelta(days=30)).isoformat() for t in ends})
        assert lines[-3:-1] == [
            "rows: 181 read, 175 accepted, 0 updated, 0 unchanged, 6 refused",
            "households: 50 registered, 0 updated, 0 unchanged, 5 refused (a household with a "
            "refused row is refused whole)",
        ]
        assert lines[-1].startswith(f"error report: {url}/imports/")
        assert re.search(rf"download it by ({until}), after which it is deleted\)$", lines[-1])
        assert "181/181 rows" in "\n".join(lines)

        code, lines = await bansos("imports", "--url", url, cwd=tmp_path)
        assert code == 0, lines
        [row] = [line for line in lines if "dtks-sample.csv" in line]
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        assert cells[1:5] == ["dtks-sample.csv", "done", "50 new, 0 updated, 5 refused", "6"]
        assert re.fullmatch(rf"{url}/imports/[0-9a-f-]{{36}}/errors\.csv until ({until})", cells[5])

        out = tmp_path / "usulan.csv"
        since = clock.today().isoformat()
        code, lines = await bansos(
            "export", "usulan", "--since", since, "--out", str(out), "--url", url, cwd=tmp_path
        )
        assert (code, lines) == (0, [f"50 usulan since {since} written to {out}"])
        assert {u.usulan for u in usulan.parse(out.read_text().splitlines())} == {"BARU"}


async def test_bansos_import_failures_are_a_line_or_two_and_exit_2(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    bad = tmp_path / "no-nik.csv"
    bad.write_bytes(dtks_csv(BAD, header=[h for h in HEADER if h != "NIK"]))
    database = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with listening(database, nats_server, tmp_path) as url:
        code, lines = await bansos("import", str(bad), "--url", url, cwd=tmp_path)
        assert code == 2 and len(lines) <= 2, lines
        assert "refused no-nik.csv" in lines[0] and "import_file_unreadable" in lines[0]
        assert "NIK" in " ".join(lines)
        code, lines = await bansos("import", str(bad), "--url", url, "--token", "x", cwd=tmp_path)
        assert code == 2 and len(lines) <= 2 and "token_invalid" in " ".join(lines), lines
    code, lines = await bansos("import", str(bad), "--url", url, cwd=tmp_path)
    assert code == 2 and len(lines) <= 2 and "cannot reach the registry" in lines[0], lines
