"""Import a DTKS export (CSV or XLSX, one row per person) as registrations: the registry's
import worker. It reads the file as a stream (import_file.py), a batch of rows at a time
(`BANSOS_IMPORT_BATCH_ROWS`, never splitting a household), and checks, decides and stores
each batch in one transaction (import_batch.py, import_checks.py), so a restart resumes
after the last committed batch. A file it cannot read, or a batch the decider keeps
refusing, fails its job with the reason, and the worker goes on to the next job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

from services.registry import jobs, private, projections
from services.registry.import_batch import Checked, check_batch, run_batch
from services.registry.import_file import FileRefused, batches, count_rows, header, records
from services.registry.settings import RegistrySettings
from shared.bulk import analyse
from shared.db import events, outbox
from shared.domain import DomainError
from shared.events import utcnow
from shared.runtime import Runtime

log = logging.getLogger("bansos.registry.import")
ATTEMPTS = 5  # of one batch, while concurrent registrations keep changing its facts
# The tables an import grows, whose statistics its lookups are planned with.
GROWN = (
    private.household_pii,
    private.members,
    projections.households,
    projections.active_niks,
    jobs.import_niks,
    events,
    outbox,
)


class BatchRefused(Exception):
    """A batch refused by the decider on every attempt: its job fails (never retried, so
    one such batch cannot stall every import after it)."""


class Importer:
    """The registry's import worker: one job at a time, unfinished ones first on start."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                async with self.runtime.sessions() as session:
                    pending = await jobs.unfinished(session)
                for job_id in pending:
                    await self.process(job_id)
            except Exception:  # the database is down, say: try again shortly
                log.exception("import worker: retrying in 5 s")
                await asyncio.sleep(5)
                continue
            if not pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=5)
                self.wake.clear()

    async def process(self, job_id: UUID, max_batches: int | None = None) -> None:
        """Run a job from its cursor to the end (or `max_batches` batches: tests stop
        there, as a crash would)."""
        sessions = self.runtime.sessions
        async with sessions.begin() as session:
            job = await jobs.get(session, job_id)
            if job is None or job["status"] not in jobs.UNFINISHED:
                return
        path, fmt = Path(job["path"]), job["format"]
        settings = self.runtime.settings
        assert isinstance(settings, RegistrySettings)
        try:
            cols = await asyncio.to_thread(header, path, fmt)
            if job["rows_total"] is None:
                total = await asyncio.to_thread(count_rows, path, fmt)
                async with sessions.begin() as session:
                    await jobs.mark(
                        session, job_id, rows_total=total, status="running", started_at=utcnow()
                    )
            stream = batches(
                records(path, fmt), cols, int(job["cursor"]), settings.import_batch_rows
            )

            async def read_and_check() -> Checked | None:
                batch = await asyncio.to_thread(next, stream, None)
                return None if batch is None else check_batch(settings, batch, cols)

            done = 0
            # The next batch is read and checked while this one is stored: its CPU work
            # overlaps PostgreSQL's (the import waited on each in turn).
            ahead = asyncio.create_task(read_and_check())
            try:
                while max_batches is None or done < max_batches:
                    checked = await ahead
                    if checked is None:
                        break
                    ahead = asyncio.create_task(read_and_check())
                    await self._batch(job, checked)
                    done += 1
                    if done & (done - 1) == 0:  # after batches 1, 2, 4, 8, …: a doubled table
                        await analyse(self.runtime.engine, GROWN)
                else:
                    return
            finally:
                ahead.cancel()
                if ahead.done() and not ahead.cancelled():
                    ahead.exception()  # read past where this run stopped: not its failure
        except (FileRefused, BatchRefused, OSError) as exc:
            log.warning("import %s failed: %s", job_id, exc)
            async with sessions.begin() as session:
                await jobs.mark(
                    session, job_id, status="failed", failure=str(exc)[:500], finished_at=utcnow()
                )
            return
        async with sessions.begin() as session:
            await jobs.mark(session, job_id, status="done", finished_at=utcnow())
            await session.execute(
                jobs.import_niks.delete().where(jobs.import_niks.c.job_id == job_id)
            )
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def _batch(self, job: dict[str, Any], checked: Checked) -> None:
        """One batch, again when a concurrent registration took a NIK or a household
        first (it is then checked and decided again, on the new facts)."""
        settings = self.runtime.settings
        assert isinstance(settings, RegistrySettings)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await run_batch(self.runtime, job, checked)
                return
            except DomainError as exc:
                if attempt == ATTEMPTS:
                    raise BatchRefused(
                        f"the batch from row {checked.rows[0][0]} was refused {ATTEMPTS} "
                        f"times: {exc.code}: {exc.message}"
                    ) from exc
                await asyncio.sleep(0.05 * attempt)
                checked = check_batch(settings, checked.rows, checked.cols)


def job_files(settings: RegistrySettings) -> Path:
    folder = Path(settings.import_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def rows_per_second(job: dict[str, Any]) -> float | None:
    started, read = job.get("started_at"), int(job.get("rows_read") or 0)
    if started is None or not read:
        return None
    end = job.get("finished_at") or utcnow()
    seconds: float = max((end - started).total_seconds(), 1e-3)
    return round(read / seconds, 1)


def eta_seconds(job: dict[str, Any]) -> float | None:
    rate, total = rows_per_second(job), job.get("rows_total")
    read = int(job["rows_read"])
    if job["status"] == "done":
        return 0.0
    if not rate or total is None:
        return None
    return round(max(0, int(total) - read) / rate, 1)
