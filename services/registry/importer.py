"""Import a DTKS export (CSV or XLSX, one row per person) as registrations: the registry's
import worker. It reads the file as a stream (import_file.py), a batch of rows at a time
(`BANSOS_IMPORT_BATCH_ROWS`, never splitting a household), and checks, decides and stores
each batch in one transaction (import_batch.py, import_checks.py), so a restart resumes
after the last committed batch. A file it cannot read, or a batch the decider keeps
refusing, fails its job with the reason, and the worker goes on to the next job. The
uploaded file is deleted when its job ends; the error report some days later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from services.registry import jobs, private, projections
from services.registry.import_batch import (
    Checked,
    InFlight,
    RunAfter,
    batch_keys,
    check_batch,
    run_batch,
)
from services.registry.import_file import FileRefused, batches, count_rows, header, records
from services.registry.settings import RegistrySettings
from shared.bulk import analyse
from shared.db import events, is_sqlite, outbox
from shared.domain import DomainError
from shared.events import utcnow
from shared.runtime import Runtime

log = logging.getLogger("bansos.registry.import")
ATTEMPTS = 5  # of one batch, while concurrent registrations keep changing its facts
EXPIRY_INTERVAL_S = 3600  # how often the worker deletes expired error reports
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
        self._expired_at = -math.inf  # monotonic time of the last expiry pass

    async def run(self) -> None:
        while True:
            try:
                if time.monotonic() - self._expired_at >= EXPIRY_INTERVAL_S:
                    self._expired_at = time.monotonic()  # tried once an interval, come what may
                    await self._expire_reports_logged()
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

    async def _expire_reports_logged(self) -> None:
        """The expiry pass, whose failure never holds up the imports (it runs again in an
        interval)."""
        try:
            await self.expire_reports()
        except Exception:
            log.exception("import error reports: the expiry pass failed; next in an hour")

    async def expire_reports(self, now: datetime | None = None) -> list[UUID]:
        """Delete the error reports of jobs that ended more than BANSOS_IMPORT_REPORT_DAYS
        ago (the jobs' counts stay), and any uploaded file an ended job left behind (a job
        that failed before failed jobs' files were deleted at once, say)."""
        settings = self.runtime.settings
        assert isinstance(settings, RegistrySettings)
        now = now or utcnow()
        async with self.runtime.sessions.begin() as session:
            expired = await jobs.expire_reports(
                session, now - timedelta(days=settings.import_report_days), now
            )
            ended = await jobs.ended_files(session)  # the expired jobs' among them
        for path in ended:
            try:
                await asyncio.to_thread(Path(path).unlink, missing_ok=True)
            except OSError as exc:  # the others still go; this one is for the operator
                log.error("import file %s could not be deleted: %s", path, exc)
        if expired:
            log.info("import error reports deleted: %d jobs", len(expired))
        return expired

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

            # The next batch is read and checked while this one is stored: its CPU work
            # overlaps PostgreSQL's (the import waited on each in turn).
            ahead = asyncio.create_task(read_and_check())

            async def next_checked() -> Checked | None:
                nonlocal ahead
                checked = await ahead
                if checked is not None:
                    ahead = asyncio.create_task(read_and_check())
                return checked

            try:
                if not await self._store(job, next_checked, max_batches):
                    return
            finally:
                ahead.cancel()
                if ahead.done() and not ahead.cancelled():
                    ahead.exception()  # read past where this run stopped: not its failure
        except (FileRefused, BatchRefused) as exc:  # a database error: run() retries
            log.warning("import %s failed: %s", job_id, exc)
            await self._end(job_id, path, status="failed", failure=str(exc)[:500])
            return
        await self._end(job_id, path, status="done")

    async def _end(self, job_id: UUID, path: Path, **values: Any) -> None:
        """A job is over, done or failed: neither resumes, so the uploaded file (the whole
        list's personal data) and the NIKs it read go at once."""
        async with self.runtime.sessions.begin() as session:
            await jobs.mark(session, job_id, finished_at=utcnow(), **values)
            await session.execute(
                jobs.import_niks.delete().where(jobs.import_niks.c.job_id == job_id)
            )
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def _store(
        self,
        job: dict[str, Any],
        next_checked: Callable[[], Awaitable[Checked | None]],
        max_batches: int | None,
    ) -> bool:
        """Store the batches in file order; True once the file is done. Two are in flight
        on PostgreSQL (one transaction each: while one waits on the database, the other
        decides), unless they share a NIK, a No. KK, a DTKS id or a household (then one
        after the other); each commits after the one before it, so the job's cursor, and
        a resume, are as one batch at a time would leave them."""
        settings = self.runtime.settings
        assert isinstance(settings, RegistrySettings)
        two = settings.import_in_flight > 1 and not is_sqlite(settings.database_url)
        loop = asyncio.get_running_loop()
        prev: _Flight | None = None
        done = 0
        ended = False
        try:
            while max_batches is None or done < max_batches:
                checked = await next_checked()
                if checked is None:
                    ended = True
                    break
                mine = InFlight(batch_keys(checked), loop.create_future(), loop.create_future())
                if prev is not None and (not two or prev.flight.keys & mine.keys):
                    await self._settle(job, prev)  # one after the other
                    prev = None
                before = prev.flight if prev is not None else None
                task = asyncio.create_task(self._fly(job, checked, mine, before))
                earlier, prev = prev, _Flight(checked, mine, task)
                if earlier is not None:
                    await self._settle(job, earlier)  # at most two in flight
                done += 1
                if done & (done - 1) == 0:  # after batches 1, 2, 4, 8, …: a doubled table
                    await analyse(self.runtime.engine, GROWN)
            if prev is not None:
                await self._settle(job, prev)
                prev = None
            return ended
        finally:
            if prev is not None:  # a failure before it: it cannot commit
                prev.task.cancel()
                with contextlib.suppress(BaseException):
                    await prev.task

    async def _fly(
        self, job: dict[str, Any], checked: Checked, mine: InFlight, before: InFlight | None
    ) -> None:
        try:
            await run_batch(self.runtime, job, checked, before=before, flight=mine)
        except BaseException as exc:
            for future in (mine.touched, mine.committed):
                if not future.done():
                    future.set_exception(NotCommitted(str(exc)))
                    future.exception()  # the batch after reads it, or nobody needs to
            raise
        mine.committed.set_result(None)

    async def _settle(self, job: dict[str, Any], flight: _Flight) -> None:
        """A batch in flight, committed; or, when it could not go on beside the batch
        before it (that one failed, or they shared a household), stored again on its own."""
        settings = self.runtime.settings
        assert isinstance(settings, RegistrySettings)
        checked = flight.checked
        try:
            await flight.task
        except (RunAfter, NotCommitted):
            await self._batch(job, check_batch(settings, checked.rows, checked.cols))
        except DomainError:  # its first attempt
            await self._batch(job, checked, tried=1)

    async def _batch(self, job: dict[str, Any], checked: Checked, tried: int = 0) -> None:
        """One batch, again when a concurrent registration took a NIK or a household
        first (it is then checked and decided again, on the new facts)."""
        settings = self.runtime.settings
        assert isinstance(settings, RegistrySettings)
        for attempt in range(tried + 1, ATTEMPTS + 1):
            if attempt > 1:
                await asyncio.sleep(0.05 * (attempt - 1))
                checked = check_batch(settings, checked.rows, checked.cols)
            try:
                await run_batch(self.runtime, job, checked)
                return
            except DomainError as exc:
                if attempt == ATTEMPTS:
                    raise BatchRefused(
                        f"the batch from row {checked.rows[0][0]} was refused {ATTEMPTS} "
                        f"times: {exc.code}: {exc.message}"
                    ) from exc


class NotCommitted(Exception):
    """The batch in flight before this one did not commit: this one may not either."""


@dataclass
class _Flight:
    checked: Checked
    flight: InFlight
    task: asyncio.Task[None]


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


def report_expires_at(job: dict[str, Any], settings: RegistrySettings) -> datetime | None:
    """When the job's error report will be deleted (the worker's next hourly pass after
    that); None while the job runs, when it refused nothing, or once deleted."""
    ended: datetime | None = job["finished_at"]
    if ended is None or job["report_expired_at"] is not None or not job["rows_refused"]:
        return None
    return ended + timedelta(days=settings.import_report_days)
