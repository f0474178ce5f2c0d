"""A city's DTKS list reflected everywhere: the synthetic file (benchmarks/dtks.py) imported
by the registry while distribution, training and the audit ledger follow the stream, each
service as its own process on its own fresh PostgreSQL database, as in production. Timed
from the upload until the registry's job is done, each household projection holds every
household, the ledger holds every event, and `bansos verify`'s check (every entry against
the signed checkpoint) has passed; with every process's peak RSS and the raw nats-py
publish baseline of the same run.

    .venv/bin/python -m benchmarks.city [--households 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from benchmarks import dtks
from benchmarks.common import Service, nats_server, postgres_database, service
from benchmarks.registry import raw_publish_async_per_second
from shared.auth import Role, issue_token
from shared.settings import CommonSettings
from shared.verify import verify_ledger

SERVICES = ("registry", "distribution", "training", "audit")
# What each service holds when it reflects the import: (query, what it is compared with).
REFLECTED = {
    "distribution": "SELECT count(*) FROM eligibility",
    "training": "SELECT count(*) FROM eligibility",
    "audit": "SELECT tree_size FROM ledger_cursor WHERE id = 1",
}


@contextlib.asynccontextmanager
async def stack(
    nats_url: str, tmp: Path
) -> AsyncIterator[tuple[dict[str, Service], dict[str, str]]]:
    """The four services, each on a fresh database; their URLs and database URLs."""
    os.environ["BANSOS_IMPORT_DIR"] = str(tmp / "imports")
    os.environ["BANSOS_AUDIT_DATA_DIR"] = str(tmp / "audit")
    async with contextlib.AsyncExitStack() as exits:
        databases = {n: await exits.enter_async_context(postgres_database()) for n in SERVICES}
        running = {n: exits.enter_context(service(n, databases[n], nats_url)) for n in SERVICES}
        yield running, databases


async def count(engine: AsyncEngine, query: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(query)) or 0)


async def run(path: Path, households: int, nats_url: str, tmp: Path) -> dict[str, float]:
    token = issue_token(CommonSettings(), "bench.operator", Role.registry_operator)
    async with stack(nats_url, tmp) as (running, urls):
        # One engine per database for the whole run, not one per poll.
        databases = {name: create_async_engine(url) for name, url in urls.items()}
        procs = {n: psutil.Process(s.pid) for n, s in running.items()}
        peaks = dict.fromkeys(SERVICES, 0)
        done: dict[str, float] = {}
        registry = running["registry"].url
        async with httpx.AsyncClient(
            base_url=registry, headers={"Authorization": f"Bearer {token}"}, timeout=600
        ) as client:
            started = time.perf_counter()
            with path.open("rb") as file:
                reply = await client.post("/imports", files={"file": (path.name, file, "text/csv")})
            reply.raise_for_status()
            job_id = reply.json()["job_id"]
            events = 0
            while len(done) < len(SERVICES):
                for name, proc in procs.items():
                    peaks[name] = max(peaks[name], proc.memory_info().rss)
                now = time.perf_counter() - started
                if "registry" not in done:
                    job = (await client.get(f"/imports/{job_id}")).json()
                    if job["status"] == "failed":
                        raise RuntimeError(f"import failed: {job['failure']}")
                    if job["status"] == "done":
                        done["registry"] = now
                        events = await count(databases["registry"], "SELECT count(*) FROM events")
                for name, query in REFLECTED.items():
                    if name in done or "registry" not in done:
                        continue
                    held = await count(databases[name], query)
                    if held >= (events if name == "audit" else households):
                        done[name] = time.perf_counter() - started
                await asyncio.sleep(1.0)
        audit = running["audit"].url
        async with httpx.AsyncClient(base_url=audit, timeout=30) as client:
            signed = 0
            while signed < events:  # the checkpoint loop signs within a second
                await asyncio.sleep(0.2)
                signed = int((await client.get("/ledger/checkpoint.json")).json()["tree_size"])
        with httpx.Client(base_url=audit, timeout=120) as sync_client:
            report = await asyncio.to_thread(verify_ledger, sync_client, public_key=None)
        done["verified"] = time.perf_counter() - started
        for name, peak in peaks.items():
            done[f"rss:{name}"] = peak / 2**20
        done["events"] = events
        done["entries_checked"] = report.entries_checked
        for engine in databases.values():
            await engine.dispose()
    return done


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("BANSOS_MODE", "development")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path = tmp / "dtks.csv"
        rows = dtks.synthetic_file(path, args.households, CommonSettings().rw_list)
        print(f"city benchmark: {args.households:,} households, {rows:,} rows, on PostgreSQL")
        with nats_server() as nats_url:  # its own server: the stack must not read these
            raw = await raw_publish_async_per_second(nats_url, 20_000)
        with nats_server() as nats_url:
            done = await run(path, args.households, nats_url, tmp)
    n = args.households
    print(f"  events on the stream                : {int(done['events']):,}")
    for name in ("registry", "distribution", "training", "audit", "verified"):
        label = {"audit": "ledger holds every event", "verified": "ledger verified"}.get(
            name, f"{name} holds every household"
        )
        print(f"  {label:<36}: {done[name]:8.1f} s  ({n / done[name]:8.0f} households/s)")
    print(f"  entries verified                    : {int(done['entries_checked']):,}")
    for name in SERVICES:
        print(f"  peak RSS {name:<28}: {done[f'rss:{name}']:8.0f} MiB")
    print(f"  raw nats-py publish_async           : {raw:8.0f} msg/s")


if __name__ == "__main__":
    asyncio.run(main())
