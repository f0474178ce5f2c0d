"""Imports of DTKS lists: upload a file (a job the registry's worker runs), follow it,
read its error report. Exports: the usulan for the Dinas Sosial.

Each route reads: parse, authorise, call the importer or a query, reply."""

from __future__ import annotations

import asyncio
import base64
import binascii
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from services.registry import import_file, importer, jobs, usulan
from services.registry.api.deps import Operator, Reader, Settings
from services.registry.api.schemas import ImportErrorOut, ImportOut, ImportSummaryOut
from services.registry.errors import (
    IMPORT_FILE_REQUIRED,
    IMPORT_FILE_UNREADABLE,
    IMPORT_NOT_FOUND,
    IMPORT_REPORT_EXPIRED,
)
from services.registry.settings import RegistrySettings
from shared import clock
from shared.deps import Cursor, Page, Reads
from shared.domain import DomainError
from shared.errors import CURSOR_INVALID, errors
from shared.events import utcnow

router = APIRouter(tags=["imports"])
# An upload may be far larger than a JSON body (BANSOS_MAX_BODY_BYTES): a city's DTKS
# list is a few hundred megabytes. It is spooled to disk as it arrives, never held whole.
IMPORT_MAX_BYTES = 1024 * 1024 * 1024
CHUNK = 1024 * 1024
SHOWN_ERRORS = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "a DTKS export, CSV (`,` or `;`) or XLSX, "
                            f"at most {IMPORT_MAX_BYTES // 2**20} MiB",
                        }
                    },
                }
            }
        },
    }
}


def _save(sent: UploadFile, path: Path) -> None:
    with path.open("wb") as out:
        shutil.copyfileobj(sent.file, out, CHUNK)  # from the spooled upload, by chunks


def _summary(job: dict[str, Any], settings: RegistrySettings) -> dict[str, Any]:
    return {
        **{k: job[k] for k in ImportSummaryOut.model_fields if k in job},
        "rows_per_s": importer.rows_per_second(job),
        "eta_s": importer.eta_seconds(job),
        "errors_csv": None if job["report_expired_at"] else f"/imports/{job['job_id']}/errors.csv",
        "report_expires_at": importer.report_expires_at(job, settings),
    }


async def _job(session: Reads, settings: RegistrySettings, job_id: UUID) -> ImportOut:
    job = await jobs.get(session, job_id)
    if job is None:
        raise DomainError(IMPORT_NOT_FOUND, f"no import {job_id}", field="job_id")
    shown = await jobs.errors(session, job_id, limit=SHOWN_ERRORS)
    return ImportOut(
        **_summary(job, settings),
        errors=[ImportErrorOut(row=r, column=c, value=v, rule=rule) for r, _, c, v, rule in shown],
    )


@router.get(
    "/imports",
    response_model=Page[ImportSummaryOut],
    summary="Import jobs, newest first: status, counts and until when each report is kept",
    responses=errors(CURSOR_INVALID),
)
async def list_imports(
    session: Reads,
    principal: Reader,
    settings: Settings,
    status: Literal["queued", "running", "done", "failed"] | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ImportSummaryOut]:
    found = await jobs.recent(session, after=_after(cursor), limit=limit + 1, status=status)
    shown = found[:limit]
    return Page(
        items=[ImportSummaryOut(**_summary(job, settings)) for job in shown],
        next_cursor=_cursor(shown[-1]) if len(found) > limit else None,
    )


# A page ends at its last job: (created_at in µs, job_id), so jobs created in the same
# microsecond are neither skipped nor shown twice.
def _cursor(job: dict[str, Any]) -> str:
    micros = (job["created_at"] - EPOCH) // timedelta(microseconds=1)
    raw = micros.to_bytes(8, "big", signed=True) + job["job_id"].bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[datetime, UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 24:
            raise ValueError(len(raw))
        micros = int.from_bytes(raw[:8], "big", signed=True)
        return EPOCH + timedelta(microseconds=micros), UUID(bytes=raw[8:])
    except (ValueError, OverflowError, binascii.Error) as exc:
        raise DomainError(
            CURSOR_INVALID, "cursor is not one this API returned", field="cursor"
        ) from exc


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportOut,
    summary="Import a DTKS list (CSV or XLSX): answers a job to follow",
    responses=errors(IMPORT_FILE_REQUIRED, IMPORT_FILE_UNREADABLE),
    openapi_extra=UPLOAD,
    max_body_size=IMPORT_MAX_BYTES,
)
async def upload(
    request: Request, principal: Operator, settings: Settings, session: Reads, response: Response
) -> ImportOut:
    # The token is checked before the body is read (the form is parsed here, not by
    # FastAPI ahead of the dependencies).
    form = await request.form(max_files=1, max_fields=4)
    sent = form.get("file")
    if not isinstance(sent, UploadFile):
        raise DomainError(
            IMPORT_FILE_REQUIRED, "send the file as the multipart part `file`", field="file"
        )
    job_id = uuid4()
    filename = Path(sent.filename or "upload").name[:200]
    head = await sent.read(8)
    await sent.seek(0)
    fmt = import_file.file_format(filename, head)
    path = importer.job_files(settings) / f"{job_id}.{fmt}"
    await asyncio.to_thread(_save, sent, path)
    await sent.close()
    try:
        await asyncio.to_thread(import_file.header, path, fmt)
    except import_file.FileRefused as refused:
        path.unlink(missing_ok=True)
        raise DomainError(IMPORT_FILE_UNREADABLE, str(refused), field="file") from refused
    runtime = request.app.state.runtime
    try:
        async with runtime.sessions.begin() as writing:
            await jobs.create(
                writing,
                job_id=job_id,
                filename=filename,
                path=str(path),
                format=fmt,
                actor=principal.sub,
                actor_role=principal.role.value,
                created_at=utcnow(),
            )
    except BaseException:  # no job points to the file: nothing else would ever delete it
        path.unlink(missing_ok=True)
        raise
    worker = getattr(request.app.state, "importer", None)
    if worker is not None:
        worker.wake.set()
    response.headers["Location"] = f"/imports/{job_id}"
    return await _job(session, settings, job_id)


@router.get(
    "/imports/{job_id}",
    response_model=ImportOut,
    summary="An import's progress, counts and the first lines of its error report",
    responses=errors(IMPORT_NOT_FOUND),
)
async def get_import(
    job_id: UUID, session: Reads, principal: Reader, settings: Settings
) -> ImportOut:
    return await _job(session, settings, job_id)


@router.get(
    "/imports/{job_id}/errors.csv",
    response_class=StreamingResponse,
    summary="An import's whole error report as CSV: row,column,value,rule",
    responses={
        200: {"content": {"text/csv": {}}},
        **errors(IMPORT_NOT_FOUND, IMPORT_REPORT_EXPIRED),
    },
)
async def import_errors(job_id: UUID, session: Reads, principal: Reader) -> StreamingResponse:
    job = await jobs.get(session, job_id)
    if job is None:
        raise DomainError(IMPORT_NOT_FOUND, f"no import {job_id}", field="job_id")
    if job["report_expired_at"] is not None:
        raise DomainError(
            IMPORT_REPORT_EXPIRED,
            f"the error report of import {job_id} was deleted on "
            f"{clock.day_of(job['report_expired_at'])}: it quoted personal data, kept only for a "
            "while after the job; import the corrected file again for a new report",
            field="job_id",
        )

    async def report() -> AsyncIterator[str]:
        yield usulan.text([("row", "column", "value", "rule")])
        after = (0, -1)
        while page := await jobs.errors(session, job_id, after=after):
            yield usulan.text([(str(r), c, v, rule) for r, _, c, v, rule in page])
            after = (page[-1][0], page[-1][1])

    return StreamingResponse(
        report(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )


@router.get(
    "/exports/usulan",
    response_class=StreamingResponse,
    summary="Usulan for the Dinas Sosial: decisions and changes since a day, CSV by DTKS id",
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_usulan(
    session: Reads,
    principal: Operator,
    since: Annotated[date, Query(description="the first day (WIB) to include, YYYY-MM-DD")],
) -> StreamingResponse:
    return StreamingResponse(
        usulan.csv_chunks(session, since),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="usulan-since-{since}.csv"'},
    )
