"""Import jobs: the uploaded file's place on disk, how far the worker got (the cursor,
committed with each batch's events) and the rows it refused. Operators' data: the error
report quotes cells of the file (NIKs and names among them, of people the registry
refused) and never leaves the registry; it is deleted some days after its job ended
(`expire_reports`), as the uploaded file is the moment the job ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    delete,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.projections import metadata
from shared.bulk import insert_rows, one_of
from shared.db import BigId, UTCDateTime

COUNTS = (
    "rows_read",
    "rows_accepted",
    "rows_updated",
    "rows_unchanged",
    "rows_refused",
    "households_registered",
    "households_updated",
    "households_unchanged",
    "households_refused",
)

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("job_id", Uuid, primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("path", String(500), nullable=False),
    Column("format", String(4), nullable=False),  # csv | xlsx
    Column("status", String(10), nullable=False),  # queued | running | done | failed
    Column("actor", String(120), nullable=False),
    Column("actor_role", String(40), nullable=False),
    Column("cursor", BigId, nullable=False),  # the last file row done (committed with it)
    Column("rows_total", BigId),  # the file's data rows, counted when the job starts
    *(Column(name, BigId, nullable=False, default=0) for name in COUNTS),
    Column("failure", String(500)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    # The error report is deleted some days after the job ends (BANSOS_IMPORT_REPORT_DAYS).
    Column("report_expired_at", UTCDateTime()),
)

# One line of the error report per refused cell (or per row of a household refused whole).
import_errors = Table(
    "import_errors",
    metadata,
    Column("job_id", Uuid, nullable=False),
    Column("row", BigId, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("column", String(80), nullable=False),
    Column("value", String(200), nullable=False),
    Column("rule", String(60), nullable=False),
    PrimaryKeyConstraint("job_id", "row", "seq", name="import_errors_pkey"),
)

# The NIKs a job has read and on which row: a NIK met again in another household of the
# file is refused (`nik_repeated_in_file`), also after a restart, without holding the
# file's NIKs in memory.
import_niks = Table(
    "import_niks",
    metadata,
    Column("job_id", Uuid, nullable=False),
    Column("nik_commitment", String(64), nullable=False),
    Column("row", BigId, nullable=False),
    PrimaryKeyConstraint("job_id", "nik_commitment", name="import_niks_pkey"),
)

UNFINISHED = ("queued", "running")


async def create(session: AsyncSession, **values: Any) -> None:
    await session.execute(
        insert(import_jobs).values(status="queued", cursor=0, **{c: 0 for c in COUNTS}, **values)
    )


async def get(session: AsyncSession, job_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(import_jobs).where(import_jobs.c.job_id == job_id))).first()
    return dict(row._mapping) if row else None


async def recent(
    session: AsyncSession,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
    status: str | None,
) -> list[dict[str, Any]]:
    """Jobs newest first (ties by id), after `after` (a page's last job's created_at and
    id), with `status` if given."""
    order = (import_jobs.c.created_at, import_jobs.c.job_id)
    query = select(import_jobs).order_by(*(c.desc() for c in order)).limit(limit)
    if after is not None:
        bound = (literal(value, column.type) for value, column in zip(after, order, strict=True))
        query = query.where(tuple_(*order) < tuple_(*bound))
    if status is not None:
        query = query.where(import_jobs.c.status == status)
    return [dict(row._mapping) for row in await session.execute(query)]


async def ended_files(session: AsyncSession) -> list[str]:
    """The uploaded files' paths of the jobs that ended (to delete, if any is left)."""
    query = select(import_jobs.c.path).where(import_jobs.c.finished_at.is_not(None))
    return list((await session.execute(query)).scalars())


async def unfinished(session: AsyncSession) -> list[UUID]:
    rows = await session.execute(
        select(import_jobs.c.job_id)
        .where(import_jobs.c.status.in_(UNFINISHED))
        .order_by(import_jobs.c.created_at)
    )
    return list(rows.scalars())


async def advance(
    session: AsyncSession, job_id: UUID, cursor: int, counts: Mapping[str, int]
) -> None:
    """The batch's progress, in the batch's transaction."""
    await session.execute(
        update(import_jobs)
        .where(import_jobs.c.job_id == job_id)
        .values(cursor=cursor, **{k: import_jobs.c[k] + v for k, v in counts.items() if v})
    )


async def mark(session: AsyncSession, job_id: UUID, **values: Any) -> None:
    await session.execute(
        update(import_jobs).where(import_jobs.c.job_id == job_id).values(**values)
    )


async def refuse(
    session: AsyncSession, job_id: UUID, lines: Sequence[tuple[int, str, str, str]]
) -> None:
    """Error report lines (row, column, value, rule)."""
    if not lines:
        return
    seqs: dict[int, int] = {}
    values = []
    for row, column, value, rule in lines:
        seqs[row] = seqs.get(row, -1) + 1
        values.append(
            {
                "job_id": job_id,
                "row": row,
                "seq": seqs[row],
                "column": column[:80],
                "value": value[:200],
                "rule": rule[:60],
            }
        )
    await session.execute(insert(import_errors), values)


async def errors(
    session: AsyncSession, job_id: UUID, *, after: tuple[int, int] = (0, -1), limit: int = 1000
) -> list[tuple[int, int, str, str, str]]:
    """Error lines in row order after (row, seq): (row, seq, column, value, rule)."""
    row, seq = after
    rows = await session.execute(
        select(
            import_errors.c.row,
            import_errors.c.seq,
            import_errors.c.column,
            import_errors.c.value,
            import_errors.c.rule,
        )
        .where(import_errors.c.job_id == job_id)
        .where(
            (import_errors.c.row > row)
            | ((import_errors.c.row == row) & (import_errors.c.seq > seq))
        )
        .order_by(import_errors.c.row, import_errors.c.seq)
        .limit(limit)
    )
    return [tuple(r) for r in rows]


async def seen(session: AsyncSession, job_id: UUID, commitments: Sequence[str]) -> dict[str, int]:
    """Which of these NIKs the job read before, and on which row."""
    found: dict[str, int] = {}
    for start in range(0, len(commitments), 1000):
        rows = await session.execute(
            select(import_niks.c.nik_commitment, import_niks.c.row)
            .where(import_niks.c.job_id == job_id)
            .where(
                await one_of(
                    session, import_niks.c.nik_commitment, commitments[start : start + 1000]
                )
            )
        )
        found.update({c: r for c, r in rows})
    return found


async def remember(session: AsyncSession, job_id: UUID, niks: Mapping[str, int]) -> None:
    if niks:
        await insert_rows(
            session,
            import_niks,
            [{"job_id": job_id, "nik_commitment": c, "row": r} for c, r in niks.items()],
        )


async def expire_reports(
    session: AsyncSession, ended_before: datetime, now: datetime
) -> list[UUID]:
    """Delete the error reports (and any NIKs left) of the jobs that ended before
    `ended_before`; the jobs and their counts stay, marked with when."""
    expired = list(
        (
            await session.execute(
                select(import_jobs.c.job_id)
                .where(import_jobs.c.finished_at < ended_before)
                .where(import_jobs.c.report_expired_at.is_(None))
            )
        ).scalars()
    )
    if expired:
        await session.execute(delete(import_errors).where(import_errors.c.job_id.in_(expired)))
        await session.execute(delete(import_niks).where(import_niks.c.job_id.in_(expired)))
        await session.execute(
            update(import_jobs)
            .where(import_jobs.c.job_id.in_(expired))
            .values(report_expired_at=now)
        )
    return expired
