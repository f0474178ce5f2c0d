"""DTKS import end to end: a synthetic list (benchmarks/dtks.py) uploaded to one registry
worker on PostgreSQL, timed from the upload until the job is done (validated, decided,
events, outbox, read models, personal data), beside the raw nats-py publish_async
baseline of the same run and the registry process's peak RSS.

    .venv/bin/python -m benchmarks.imports [--households 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from benchmarks import dtks
from benchmarks.common import nats_server, postgres_database, service
from benchmarks.registry import raw_publish_async_per_second
from shared.auth import Role, issue_token
from shared.settings import CommonSettings


def postgres_cpu() -> float:
    """CPU seconds of every postgres process on the machine (the server is shared)."""
    total = 0.0
    for p in psutil.process_iter(["name", "cpu_times"]):
        if p.info["name"] == "postgres" and p.info["cpu_times"] is not None:
            total += sum(p.info["cpu_times"][:2])
    return total


async def import_rate(
    url: str, pid: int, path: Path, profile: Path | None = None
) -> tuple[float, dict[str, object], int, float]:
    """Households/s from upload to done, the job's final counts, peak RSS in bytes, and
    the registry's CPU seconds over the import (steadier than wall time on a shared
    machine)."""
    token = issue_token(CommonSettings(), "bench.operator", Role.registry_operator)
    headers = {"Authorization": f"Bearer {token}"}
    process = psutil.Process(pid)
    peak = process.memory_info().rss
    cpu_before = sum(process.cpu_times()[:2])
    pg_before = postgres_cpu()
    spy = None
    if profile is not None:  # py-spy's collapsed stacks of the registry during the import
        spy = await asyncio.create_subprocess_exec(
            shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")),
            *("record", "--pid", str(pid), "--rate", "250", "--format", "raw", "-o", str(profile)),
            stdout=asyncio.subprocess.DEVNULL,
        )
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:
        started = time.perf_counter()
        with path.open("rb") as file:
            reply = await client.post("/imports", files={"file": (path.name, file, "text/csv")})
        reply.raise_for_status()
        job_id = reply.json()["job_id"]
        while True:
            job = (await client.get(f"/imports/{job_id}")).json()
            peak = max(peak, process.memory_info().rss)
            if job["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    print(f"  postgres CPU over the import: {postgres_cpu() - pg_before:8.1f} s (every backend)")
    return int(job["households_registered"]) / elapsed, job, peak, cpu


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--profile", type=Path, help="py-spy's raw stacks of the registry here")
    args = parser.parse_args()
    os.environ.setdefault("BANSOS_MODE", "development")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dtks.csv"
        rows = dtks.synthetic_file(path, args.households, CommonSettings().rw_list)
        print(f"import benchmark: {args.households:,} households, {rows:,} rows")
        with nats_server() as nats_url:
            raw = await raw_publish_async_per_second(nats_url, 20_000)
            async with postgres_database() as url:
                os.environ["BANSOS_IMPORT_DIR"] = str(Path(tmp) / "imports")
                with service("registry", url, nats_url) as http:
                    rate, job, peak, cpu = await import_rate(http.url, http.pid, path, args.profile)
        print(
            f"  job: {job['status']}, {job['households_registered']:,} households registered, "
            f"{job['households_refused']:,} refused, {job['rows_read']:,} rows"
        )
        print(f"  import end to end, postgres : {rate:8.0f} households/s")
        done = max(int(str(job["households_registered"])), 1)
        print(f"  registry CPU per household  : {cpu / done * 1e6:8.0f} µs")
        print(f"  registry peak RSS           : {peak / 2**20:8.0f} MiB")
        print(f"  raw nats-py publish_async   : {raw:8.0f} msg/s")


if __name__ == "__main__":
    asyncio.run(main())
