"""DTKS imports on SQLite and PostgreSQL with a real nats-server: the error report of a
file with every kind of bad row, idempotent re-imports, updates, resuming after a stop,
and imported households' events equal to those of `POST /households`."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from services.registry import importer, jobs
from services.registry.import_batch import RunAfter, run_batch
from services.registry.importer import Importer
from services.registry.service import SERVICE
from services.registry.settings import RegistrySettings
from shared import eventstore
from shared.auth import Role
from shared.db import events
from shared.domain import DomainError
from shared.events import Envelope, utcnow
from tests.conftest import fresh_postgres_database
from tests.helpers import NatsServer, bearer, eventually, serve_app

OPERATOR = bearer(Role.registry_operator, "operator.siti")
HEADER = ["ID_DTKS", "No. KK", "NIK", "Nama", "HUB_KELUARGA", "TGL_LAHIR", "JENIS_KELAMIN",
          "ALAMAT", "RT", "RW", "DESIL"]  # fmt: skip
# Two good households (rows 2-4, 5), then one bad household of each kind.
GOOD = [
    ["DT-1", "3174090101090001", "3174091203650001", "Budi Santoso", "KEPALA KELUARGA",
     "12-03-1965", "L", "Jl. Tanjung Barat Raya No. 12", "5", "3", "3"],
    ["DT-1", "3174090101090001", "3174095508700002", "Sri Wahyuni", "ISTRI",
     "15-08-1970", "P", "Jl. Tanjung Barat Raya No. 12", "5", "3", "3"],
    ["DT-1", "3174090101090001", "3174090101150003", "Andi Santoso", "ANAK",
     "01-01-2015", "L", "Jl. Tanjung Barat Raya No. 12", "5", "3", "3"],
    ["DT-2", "3174090101090002", "3174090404800004", "Joko Widodo", "Kepala Keluarga",
     "1980-04-04", "L", "Gg. Masjid No. 3", "001", "01", ""],
]  # fmt: skip
BAD = [
    # row 6: the NIK does not encode the birth date; row 7 is refused with its household
    ["DT-3", "3174090101090003", "3174091203650005", "Slamet", "KEPALA KELUARGA",
     "13-03-1965", "L", "Gg. Haji Dilun 1", "002", "02", "2"],
    ["DT-3", "3174090101090003", "3174094506800006", "Ani", "ISTRI",
     "05-06-1980", "P", "Gg. Haji Dilun 1", "002", "02", "2"],
    # row 8: Budi's NIK again, in another household
    ["DT-4", "3174090101090004", "3174091203650001", "Budi S.", "KEPALA KELUARGA",
     "12-03-1965", "L", "Jl. Gardu 2", "003", "02", "2"],
    # row 9: a NIK an active household registered over HTTP holds
    ["DT-5", "3174090101090005", "3174090505550007", "Hasan", "KEPALA KELUARGA",
     "05-05-1955", "L", "Jl. Gardu 3", "003", "02", "2"],
    # rows 10-11: no head
    ["DT-6", "3174090101090006", "3174094606800008", "Wati", "ISTRI",
     "06-06-1980", "P", "Jl. Melati 4", "004", "04", "1"],
    ["DT-6", "3174090101090006", "3174090707100009", "Rizky", "ANAK",
     "07-07-2010", "L", "Jl. Melati 4", "004", "04", "1"],
    # row 12: RT 1000; row 13: RW 99, not Tanjung Barat's
    ["DT-7", "3174090101090007", "3174090808700010", "Eko", "KEPALA KELUARGA",
     "08-08-1970", "L", "Jl. Kebagusan 5", "1000", "05", "2"],
    ["DT-8", "3174090101090008", "3174090909700011", "Dedi", "KEPALA KELUARGA",
     "09-09-1970", "L", "Jl. Kebagusan 6", "006", "99", "2"],
    # row 14: a birth date that is no date
    ["DT-9", "3174090101090009", "3174091010700012", "Fajar", "KEPALA KELUARGA",
     "31-02-1970", "L", "Jl. Kebagusan 7", "007", "06", "2"],
]  # fmt: skip
REPORT = [
    ("6", "NIK", "3174091203650005", "nik_birth_date"),
    ("7", "", "", "household_refused"),
    ("8", "NIK", "3174091203650001", "nik_repeated_in_file"),
    ("9", "NIK", "3174090505550007", "nik_already_registered"),
    ("10", "HUB_KELUARGA", "ISTRI", "one_head_required"),
    ("11", "", "", "household_refused"),
    ("12", "RT", "1000", "string_pattern_mismatch"),
    ("13", "RW", "99", "rw_outside_kelurahan"),
    ("14", "TGL_LAHIR", "31-02-1970", "date_from_datetime_parsing"),
]
HASAN = {
    "kk_number": "3174090101090099",
    "rt": "001",
    "rw": "01",
    "address": "Jl. Gardu 3",
    "monthly_income_idr": 900_000,
    "members": [
        {
            "full_name": "Hasan",
            "nik": "3174090505550007",
            "birth_date": "1955-05-05",
            "sex": "M",
            "relationship": "head",
        }
    ],
}


def dtks_csv(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows([header, *rows])
    return out.getvalue().encode()


def settings_for(database_url: str, nats: NatsServer, tmp: Path, **more: Any) -> RegistrySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats.url,
        "import_dir": tmp / "imports",
        "import_worker": False,  # the tests run the jobs themselves, batch by batch
        "import_batch_rows": 2,
    }
    return RegistrySettings(**{**values, **more})


@asynccontextmanager
async def registry(settings: RegistrySettings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = SERVICE.app(settings)
    async with serve_app(app) as client:
        yield client, app.state.runtime


async def upload(client: httpx.AsyncClient, content: bytes, name: str = "dtks.csv") -> str:
    reply = await client.post("/imports", files={"file": (name, content)}, headers=OPERATOR)
    assert reply.status_code == 202, reply.text
    # Queued; or already running where the service's own worker is on and was quicker.
    assert reply.json()["status"] in ("queued", "running")
    return str(reply.json()["job_id"])


async def run_import(
    client: httpx.AsyncClient, runtime: Any, content: bytes, **kw: Any
) -> dict[str, Any]:
    job = await upload(client, content)
    await Importer(runtime).process(UUID(job), **kw)
    reply = await client.get(f"/imports/{job}", headers=OPERATOR)
    assert reply.status_code == 200
    return reply.json()  # type: ignore[no-any-return]


async def report(client: httpx.AsyncClient, job: str) -> list[tuple[str, ...]]:
    reply = await client.get(f"/imports/{job}/errors.csv", headers=OPERATOR)
    assert reply.status_code == 200
    lines = list(csv.reader(io.StringIO(reply.text)))
    assert lines[0] == ["row", "column", "value", "rule"]
    return [tuple(line) for line in lines[1:]]


async def event_types(runtime: Any) -> list[str]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(events.c.type).order_by(events.c.position))
        return list(rows.scalars())


COUNTED = ("rows_read", "rows_accepted", "rows_updated", "rows_unchanged", "rows_refused",
           "households_registered", "households_updated", "households_unchanged",
           "households_refused")  # fmt: skip


def counts(job: dict[str, Any]) -> dict[str, int]:
    return {k: job[k] for k in COUNTED}


async def test_bad_rows_are_reported_and_good_households_go_in(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, runtime):
        assert (await client.post("/households", json=HASAN, headers=OPERATOR)).status_code == 201
        job = await run_import(client, runtime, dtks_csv(GOOD + BAD))
        assert job["status"] == "done"
        assert counts(job) == {
            "rows_read": 13,
            "rows_accepted": 4,
            "rows_updated": 0,
            "rows_unchanged": 0,
            "rows_refused": 9,
            "households_registered": 2,
            "households_updated": 0,
            "households_unchanged": 0,
            "households_refused": 7,
        }
        assert (job["rows_total"], job["eta_s"]) == (13, 0.0)
        assert await report(client, job["job_id"]) == REPORT
        assert [tuple(map(str, e.values())) for e in job["errors"]] == REPORT
        listed = (await client.get("/households?rw=03", headers=OPERATOR)).json()["items"]
        assert [(h["head_name"], h["rt"], h["member_count"]) for h in listed] == [
            ("Budi Santoso", "005", 3)
        ]
        # The uploaded file is gone once its job is done; the report stays.
        assert list((tmp_path / "imports").iterdir()) == []


async def test_reimport_changes_nothing_and_an_updated_file_only_updates(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, runtime):
        first = await run_import(client, runtime, dtks_csv(GOOD + BAD))
        before = await event_types(runtime)
        again = await run_import(client, runtime, dtks_csv(GOOD + BAD))
        assert await event_types(runtime) == before  # no new events
        assert (first["rows_accepted"], first["households_registered"]) == (5, 3)  # Hasan too
        assert counts(again) == {
            **counts(first),
            "rows_accepted": 0,
            "rows_unchanged": 5,
            "households_registered": 0,
            "households_unchanged": 3,
        }
        assert await report(client, again["job_id"]) == await report(client, first["job_id"])

        # Budi's household moved to RT 006 and has a baby; Joko's is as it was.
        moved = [[*r[:8], "6", *r[9:]] for r in GOOD[:3]]
        baby = [*GOOD[0][:2], "3174094102250013", "Putri Santoso", "ANAK", "01-02-2025", "P",
                *GOOD[0][7:8], "6", *GOOD[0][9:]]  # fmt: skip
        updated = await run_import(client, runtime, dtks_csv([*moved, baby, GOOD[3]]))
        assert counts(updated) == {
            "rows_read": 5,
            "rows_accepted": 1,
            "rows_updated": 3,
            "rows_unchanged": 1,
            "rows_refused": 0,
            "households_registered": 0,
            "households_updated": 1,
            "households_unchanged": 1,
            "households_refused": 0,
        }
        assert (await event_types(runtime))[len(before) :] == [
            "registry.household_updated",
            "registry.member_added",
        ]
        listed = (await client.get("/households?rw=03", headers=OPERATOR)).json()["items"]
        assert [(h["rt"], h["member_count"], h["vulnerability"]) for h in listed] == [
            ("006", 4, ["elderly", "children"])
        ]


async def test_a_stopped_import_resumes_to_the_result_of_one_clean_run(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    content = dtks_csv(GOOD + BAD)
    settings = settings_for(database_url, nats_server, tmp_path)
    async with registry(settings) as (client, runtime):
        job = await upload(client, content)
        await Importer(runtime).process(UUID(job), max_batches=2)  # then the service stops
        halfway = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
        assert halfway["status"] == "running"
        assert 0 < halfway["rows_read"] < 13
    # Restarted with its worker, the service resumes the job on its own.
    async with registry(settings.model_copy(update={"import_worker": True})) as (client, runtime):

        async def finished() -> dict[str, Any] | None:
            got: dict[str, Any] = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
            return got if got["status"] == "done" else None

        resumed = await eventually(finished)
        resumed_types = await event_types(runtime)
        resumed_report = await report(client, job)

    clean_settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'clean.db'}", nats_server,
                                  tmp_path / "clean")  # fmt: skip
    async with registry(clean_settings) as (client, runtime):
        clean = await run_import(client, runtime, content)
        assert counts(resumed) == counts(clean)
        # In any order: two batches in flight may interleave their events' positions.
        assert sorted(resumed_types) == sorted(await event_types(runtime))
        assert resumed_report == await report(client, clean["job_id"])


def _comparable(envelopes: Sequence[Any]) -> list[dict[str, Any]]:
    """Events as they compare across registrations: no ids, times or correlation."""
    out = []
    for e in envelopes:
        payload = dict(e.payload)
        payload["members"] = [
            {k: v for k, v in m.items() if k != "member_id"} for m in payload.get("members", [])
        ]
        out.append(
            {
                "type": e.type,
                "version": e.aggregate_version,
                "actor": e.actor,
                "role": e.actor_role,
                "payload": payload,
            }
        )
    return out


async def test_an_imported_household_has_the_events_of_one_registered_over_http(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    form = {
        "kk_number": GOOD[0][1],
        "rt": "005",
        "rw": "03",
        "address": GOOD[0][7],
        "monthly_income_idr": 0,
        "desil": 3,
        "dtks_ref": "DT-1",
        "members": [
            {"full_name": r[3], "nik": r[2], "birth_date": b, "sex": s, "relationship": rel}
            for r, b, s, rel in zip(
                GOOD[:3],
                ["1965-03-12", "1970-08-15", "2015-01-01"],
                "MFM",
                ["head", "spouse", "child"],
                strict=True,
            )
        ],
    }
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, runtime):
        await run_import(client, runtime, dtks_csv(GOOD[:3]))
        async with runtime.sessions() as session:
            imported_id = (await session.execute(select(events.c.aggregate_id))).scalars().first()
            imported = await eventstore.load(session, imported_id)
    other = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'http.db'}", nats_server,
                         tmp_path / "http")  # fmt: skip
    async with registry(other) as (client, runtime):
        reply = await client.post("/households", json=form, headers=OPERATOR)
        assert reply.status_code == 201, reply.text
        async with runtime.sessions() as session:
            over_http = await eventstore.load(session, UUID(reply.json()["household_id"]))
            assert await session.scalar(select(func.count()).select_from(events)) == 1
    assert _comparable(imported) == _comparable(over_http)
    assert imported[0].correlation_id is not None


async def test_the_upload_is_refused_with_the_reason(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, _):
        no_nik = dtks_csv(GOOD, header=[h for h in HEADER if h != "NIK"])
        reply = await client.post("/imports", files={"file": ("x.csv", no_nik)}, headers=OPERATOR)
        assert reply.status_code == 422
        assert reply.json()["error"] == "import_file_unreadable"
        assert "NIK" in reply.json()["message"]
        reply = await client.post("/imports", headers=OPERATOR, data={"other": "x"})
        assert (reply.status_code, reply.json()["error"]) == (422, "import_file_required")
        auditor = bearer(Role.auditor, "inspektorat")
        reply = await client.post("/imports", files={"file": ("x.csv", b"a")}, headers=auditor)
        assert reply.status_code == 403


async def test_the_xlsx_sample_imports_as_the_csv_sample_does(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    samples = Path(__file__).parents[2] / "services" / "registry" / "samples"
    found = []
    for name in ("dtks-sample.csv", "dtks-sample.xlsx"):
        database = f"sqlite+aiosqlite:///{tmp_path / name}.db"
        settings = settings_for(database, nats_server, tmp_path / name, import_batch_rows=500)
        async with registry(settings) as (client, runtime):
            job = await upload(client, (samples / name).read_bytes(), name)
            await Importer(runtime).process(UUID(job))
            reply = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
            found.append((reply["format"], counts(reply), await report(client, job)))
    (csv_format, csv_counts, csv_report), (xlsx_format, xlsx_counts, xlsx_report) = found
    assert (csv_format, xlsx_format) == ("csv", "xlsx")
    assert csv_counts == xlsx_counts
    assert (csv_counts["households_registered"], csv_counts["households_refused"]) == (50, 5)
    assert (
        [line[3] for line in xlsx_report]
        == [line[3] for line in csv_report]
        == [
            "nik_birth_date",
            "nik_repeated_in_file",
            "one_head_required",
            "household_refused",
            "string_pattern_mismatch",
            "rw_outside_kelurahan",
        ]
    )


async def test_a_file_that_is_no_csv_is_refused_not_a_fault(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    async with registry(settings_for(database, nats_server, tmp_path)) as (client, _):
        for name, content in (("x.csv", b"NIK\x00;NO_KK\n1\x002"), ("x.xlsx", b"PK\x03\x04junk")):
            reply = await client.post("/imports", files={"file": (name, content)}, headers=OPERATOR)
            assert (reply.status_code, reply.json()["error"]) == (422, "import_file_unreadable")


async def test_a_batch_refused_every_time_fails_its_job_and_the_next_job_runs(
    database_url: str, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    async def refusing(runtime: Any, job: dict[str, Any], checked: Any, **flying: Any) -> Any:
        if job["filename"] == "poison.csv":  # as if a registration took its NIK each time
            attempts.append(checked.rows[0][0])
            raise DomainError("nik_already_registered", "taken again meanwhile", field="nik")
        return await run_batch(runtime, job, checked, **flying)

    monkeypatch.setattr(importer, "run_batch", refusing)
    settings = settings_for(database_url, nats_server, tmp_path, import_worker=True)
    async with registry(settings) as (client, _):
        poisoned = await upload(client, dtks_csv(GOOD[:1]), "poison.csv")
        later = await upload(client, dtks_csv(GOOD), "later.csv")

        async def finished(job: str) -> dict[str, Any] | None:
            got: dict[str, Any] = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
            return got if got["status"] in ("done", "failed") else None

        failed = await eventually(lambda: finished(poisoned))
        assert failed["status"] == "failed" and failed["finished_at"] is not None
        # A failed job never resumes: its file (the list's personal data) is gone at once.
        assert not list((tmp_path / "imports").glob(f"{poisoned}.*"))
        assert "nik_already_registered: taken again meanwhile" in failed["failure"]
        assert attempts == [2] * importer.ATTEMPTS  # tried again, then given up
        done = await eventually(lambda: finished(later))
        assert done["status"] == "done"
        assert done["households_registered"] == 2


async def _import_twice(settings: RegistrySettings, second: bytes) -> dict[str, Any]:
    """GOOD imported, then `second`: the second job's counts, report and events."""
    async with registry(settings) as (client, runtime):
        await run_import(client, runtime, dtks_csv(GOOD))
        job = await run_import(client, runtime, second)
        async with runtime.sessions() as session:
            bodies = (await session.execute(select(events.c.body))).scalars()
            envelopes = [Envelope.model_validate_json(b) for b in bodies]
        comparable = sorted(_comparable(envelopes), key=lambda e: json.dumps(e, sort_keys=True))
        return {
            "counts": counts(job),
            "report": await report(client, job["job_id"]),
            "events": comparable,
        }


async def test_two_batches_in_flight_leave_what_one_at_a_time_does(
    postgres_base_url: str, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL stores two batches at once (SQLite one): the same jobs, results and
    events as one at a time, also where two consecutive batches find one household by
    different references (Budi's by his No. KK, then by the DTKS id on another KK)."""
    budi_by_kk = [["", *GOOD[0][1:7], "Jl. Tanjung Barat Raya No. 14", *GOOD[0][8:]]]
    sri_by_dtks = [["DT-1", "3174090101090010", *GOOD[1][2:4], "KEPALA KELUARGA", *GOOD[1][5:]]]
    second = dtks_csv([*budi_by_kk, *sri_by_dtks, GOOD[3], *BAD[:2]])
    ran_after: list[str] = []

    async def watched(runtime: Any, job: dict[str, Any], checked: Any, **flying: Any) -> Any:
        try:
            return await run_batch(runtime, job, checked, **flying)
        except RunAfter:
            ran_after.append(checked.rows[0][0])
            raise

    monkeypatch.setattr(importer, "run_batch", watched)
    results = []
    for in_flight in (2, 1):
        async with fresh_postgres_database(postgres_base_url) as url:
            settings = settings_for(url, nats_server, tmp_path / str(in_flight))
            settings = settings.model_copy(update={"import_batch_rows": 1})
            results.append(
                await _import_twice(
                    settings.model_copy(update={"import_in_flight": in_flight}), second
                )
            )
    assert ran_after == [3]  # Sri's row found Budi's household beside the batch before it
    assert results[0] == results[1]
    assert results[0]["counts"]["rows_read"] == 5


async def _age(runtime: Any, job: str, days: int) -> None:
    """As if the job had ended `days` days ago."""
    async with runtime.sessions.begin() as session:
        await jobs.mark(session, UUID(job), finished_at=utcnow() - timedelta(days=days))


async def test_an_error_report_is_deleted_after_its_retention_and_the_counts_stay(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    settings = settings_for(database_url, nats_server, tmp_path, import_report_days=30)
    async with registry(settings) as (client, runtime):
        old = await run_import(client, runtime, dtks_csv(GOOD + BAD))
        recent = await run_import(client, runtime, dtks_csv(BAD[:1]))
        ends = datetime.fromisoformat(recent["report_expires_at"])
        assert ends - datetime.fromisoformat(recent["finished_at"]) == timedelta(days=30)
        await _age(runtime, old["job_id"], 31)
        await _age(runtime, recent["job_id"], 29)

        assert await Importer(runtime).expire_reports() == [UUID(old["job_id"])]
        assert await Importer(runtime).expire_reports() == []  # once
        gone = (await client.get(f"/imports/{old['job_id']}", headers=OPERATOR)).json()
        assert (gone["errors"], gone["errors_csv"], gone["report_expires_at"]) == ([], None, None)
        assert gone["report_expired_at"] is not None
        assert counts(gone) == counts(old)  # what the import did stays
        refused = await client.get(f"/imports/{old['job_id']}/errors.csv", headers=OPERATOR)
        assert (refused.status_code, refused.json()["error"]) == (410, "import_report_expired")
        assert refused.json()["details"][0]["field"] == "job_id"
        async with runtime.sessions() as session:  # no cell of the file is left behind
            left = await session.scalar(
                select(func.count())
                .select_from(jobs.import_errors)
                .where(jobs.import_errors.c.job_id == UUID(old["job_id"]))
            )
        assert left == 0
        # The younger report is whole.
        assert await report(client, recent["job_id"]) == [("2", *REPORT[0][1:])]
        # A file an ended job left behind (as a failed one did before) goes on the pass.
        left = tmp_path / "imports" / f"{recent['job_id']}.csv"
        left.write_bytes(dtks_csv(BAD[:1]))
        assert await Importer(runtime).expire_reports() == []
        assert not left.exists()


async def test_the_worker_deletes_expired_reports(
    database_url: str, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "EXPIRY_INTERVAL_S", 0)  # a pass each time it wakes
    settings = settings_for(database_url, nats_server, tmp_path, import_worker=True)
    async with registry(settings) as (client, runtime):

        async def job(job_id: str) -> dict[str, Any]:
            got: dict[str, Any] = (await client.get(f"/imports/{job_id}", headers=OPERATOR)).json()
            return got

        first = await upload(client, dtks_csv(BAD[:1]))
        await eventually(lambda: _status(job(first), "done"))
        await _age(runtime, first, 31)
        await upload(client, dtks_csv(GOOD[:1]))  # wakes the worker

        async def expired() -> bool:
            return (await job(first))["report_expired_at"] is not None

        await eventually(expired)


async def test_imports_go_on_when_the_expiry_pass_fails(
    database_url: str, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("statement timeout")

    monkeypatch.setattr(jobs, "expire_reports", failing)
    monkeypatch.setattr(importer, "EXPIRY_INTERVAL_S", 0)  # and it fails on every pass
    settings = settings_for(database_url, nats_server, tmp_path, import_worker=True)
    async with registry(settings) as (client, _):
        job = await upload(client, dtks_csv(GOOD))

        async def done() -> bool:
            got = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
            return bool(got["status"] == "done")

        await eventually(done)


async def test_an_import_whose_file_is_gone_fails_with_the_reason(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, runtime):
        job = await upload(client, dtks_csv(GOOD))
        for path in (tmp_path / "imports").iterdir():
            path.unlink()  # as a full disk or a lost volume would leave it
        await Importer(runtime).process(UUID(job))
        failed = (await client.get(f"/imports/{job}", headers=OPERATOR)).json()
        assert failed["status"] == "failed"
        assert failed["failure"].startswith("cannot read the file:")


async def _status(got: Awaitable[dict[str, Any]], status: str) -> bool:
    return (await got)["status"] == status


async def test_imports_are_listed_newest_first_a_page_at_a_time(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with registry(settings_for(database_url, nats_server, tmp_path)) as (client, runtime):
        first = await run_import(client, runtime, dtks_csv(GOOD + BAD))
        second = await run_import(client, runtime, dtks_csv(GOOD))
        queued = await upload(client, dtks_csv(BAD[:1]), "later.csv")

        listed = (await client.get("/imports", headers=OPERATOR)).json()
        assert [j["job_id"] for j in listed["items"]] == [queued, second["job_id"], first["job_id"]]
        assert listed["next_cursor"] is None
        shown = listed["items"][2]
        assert "errors" not in shown  # the report's lines only on the job itself
        assert shown["status"] == "done" and counts(shown) == counts(first)
        assert shown["errors_csv"] == f"/imports/{first['job_id']}/errors.csv"
        assert shown["report_expires_at"] == first["report_expires_at"] is not None

        pages, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            got = (await client.get("/imports", params=params, headers=OPERATOR)).json()
            pages.append([j["job_id"] for j in got["items"]])
            if (cursor := got["next_cursor"]) is None:
                break
        assert pages == [[queued, second["job_id"]], [first["job_id"]]]

        waiting = await client.get("/imports?status=queued", headers=OPERATOR)
        assert [j["job_id"] for j in waiting.json()["items"]] == [queued]
        assert (await client.get("/imports")).status_code == 401
        huge = base64.urlsafe_b64encode((10**18).to_bytes(8, "big") + bytes(16)).decode()
        for cursor in ("!!", "AAAA", huge):  # not base64, too short, beyond the calendar
            bad = await client.get("/imports", params={"cursor": cursor}, headers=OPERATOR)
            assert (bad.status_code, bad.json()["error"]) == (422, "cursor_invalid"), cursor

        # Jobs uploaded in the same microsecond: each is shown once, a page at a time.
        async with runtime.sessions.begin() as session:
            at = utcnow()
            for job in (first["job_id"], second["job_id"], queued):
                await jobs.mark(session, UUID(job), created_at=at)
        done_pages, cursor = [], None
        while True:
            params = {"limit": 1, "status": "done", **({"cursor": cursor} if cursor else {})}
            got = (await client.get("/imports", params=params, headers=OPERATOR)).json()
            done_pages += [j["job_id"] for j in got["items"]]
            if (cursor := got["next_cursor"]) is None:
                break
        assert done_pages == sorted([first["job_id"], second["job_id"]], reverse=True)
