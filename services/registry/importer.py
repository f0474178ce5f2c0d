"""Import a DTKS export (CSV or XLSX, one row per person) as registrations.

The file is read as a stream, a batch of rows at a time (`BANSOS_IMPORT_BATCH_ROWS`, never
splitting a household); the rows of one No. KK are one household. Each row is checked with
the rules of a single registration (api/schemas.py: MemberIn, HouseholdIn, the RW list)
and each household with the household decider's (one head, NIK unique in the household
and among active households). A household with a refused row is refused whole. Good
households go in through the decider, as `POST /households` puts them: a new one is
`RegisterHousehold`; one the registry holds (same DTKS id or No. KK) is `Reconcile`d —
changed facts become `household_updated`, new people `member_added`, and nothing changed
is nothing written. A batch's events, outbox rows, read models, personal data, error
report lines and the job's cursor commit in one transaction: a restart resumes after the
last committed batch, and the result equals one clean run.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from services.registry import jobs, private, projections
from services.registry.api.schemas import HouseholdIn, MemberIn
from services.registry.domain import dtks
from services.registry.domain.household import (
    AddMember,
    Household,
    Reconcile,
    RegisterHousehold,
    UpdateHousehold,
    households,
)
from services.registry.handlers import member_facts
from services.registry.settings import RegistrySettings
from shared import clock, eventstore
from shared.domain import DomainError
from shared.events import utcnow
from shared.events.registry import MemberFacts
from shared.pii import Commitments, commitments
from shared.runtime import Runtime
from shared.uow import Caller

log = logging.getLogger("bansos.registry.import")

Row = tuple[int, list[Any]]  # (row number in the file, header = 1; the cells)
Line = tuple[int, str, str, str]  # an error report line: row, column, value, rule

# Rules the importer adds to the registry's own (README "Import a DTKS list").
HOUSEHOLD_REFUSED = "household_refused"  # another row of the household was refused
NIK_REPEATED_IN_FILE = "nik_repeated_in_file"  # the NIK is on an earlier row of the file
HOUSEHOLD_REPEATED = "household_repeated_in_batch"  # two No. KK, one DTKS id
PLACEHOLDER = MemberIn(  # stands in for the members while the household's fields are checked
    full_name="x", birth_date=date(1980, 1, 1), sex="M", nik="3174090101800001", relationship="head"
)


class FileRefused(ValueError):
    """The file cannot be read as a DTKS list (its format or its header)."""


# --- reading ---------------------------------------------------------------------------
def file_format(filename: str, head: bytes) -> str:
    if head.startswith(b"PK") or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def records(path: Path, fmt: str) -> Iterator[Row]:
    """The file's non-empty rows, streamed, numbered as a spreadsheet numbers them."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FileRefused(f"not a readable XLSX file: {exc}") from exc
        try:
            for number, values in enumerate(book.active.iter_rows(values_only=True), start=1):
                if any(v not in (None, "") for v in values):
                    yield number, list(values)
        finally:
            book.close()
        return
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as text:
        sample = text.read(8192)
        text.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        try:
            for number, cells in enumerate(csv.reader(text, dialect), start=1):
                if any(c.strip() for c in cells):
                    yield number, cells
        except csv.Error as exc:  # a NUL byte, say: no CSV a spreadsheet wrote
            raise FileRefused(f"not a readable CSV file: {exc}") from exc


def header(path: Path, fmt: str) -> dtks.Columns:
    for _, cells in records(path, fmt):
        try:
            return dtks.columns(cells)
        except dtks.HeaderError as exc:
            raise FileRefused(str(exc)) from exc
    raise FileRefused("the file has no rows")


def count_rows(path: Path, fmt: str) -> int:
    return max(0, sum(1 for _ in records(path, fmt)) - 1)


def batches(rows: Iterator[Row], cols: dtks.Columns, after: int, size: int) -> Iterator[list[Row]]:
    """Rows after the cursor `after`, `size` at a time, a household's run of rows kept in
    one batch (up to four batches' worth)."""
    batch: list[Row] = []
    last: Any = object()
    for number, cells in rows:
        if number <= after or number == 1:
            continue
        kk = dtks.cell(cells, cols, "kk_number")
        if batch and len(batch) >= size and (kk != last or len(batch) >= 4 * size):
            yield batch
            batch = []
        batch.append((number, cells))
        last = kk
    if batch:
        yield batch


# --- one batch -------------------------------------------------------------------------
@dataclass
class Group:
    """The rows of one No. KK in a batch, and what checking them found."""

    key: str
    rows: list[Row]
    people: dict[int, MemberIn] = field(default_factory=dict)  # row -> valid member
    form: dict[str, Any] = field(default_factory=dict)
    form_row: int = 0
    lines: list[Line] = field(default_factory=list)

    def refuse(self, row: int, column: str, value: Any, rule: str) -> None:
        self.lines.append((row, column, "" if value is None else str(value), rule))


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(jobs.COUNTS, 0))
    lines: list[Line] = field(default_factory=list)
    niks: dict[str, int] = field(default_factory=dict)  # NIK commitment -> first row


def _raw(cells: list[Any], cols: dtks.Columns, name: str) -> Any:
    return dtks.cell(cells, cols, name)


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, rule) of each problem, as the HTTP edge names them (shared/http.py)."""
    out = []
    for problem in error.errors():
        loc = [str(p) for p in problem.get("loc", ())]
        rule = {"missing": "required"}.get(problem["type"], problem["type"])
        out.append((loc[0] if loc else "", rule))
    return out


def check_rows(group: Group, cols: dtks.Columns, settings: RegistrySettings) -> None:
    """The registration rules a row can break on its own."""
    for number, cells in group.rows:
        try:
            group.people[number] = MemberIn.model_validate(dtks.person(cells, cols))
        except ValidationError as error:
            for name, rule in _problems(error):
                group.refuse(number, cols.name(name), _raw(cells, cols, name), rule)
    # The household's fields from its head's row (else its first): DTKS repeats them.
    heads = [(n, c) for n, c in group.rows if dtks.person(c, cols)["relationship"] == "head"]
    group.form_row, cells = (heads or group.rows)[0]
    group.form = dtks.household(cells, cols)
    try:
        HouseholdIn.model_validate({**group.form, "members": [PLACEHOLDER]})
    except ValidationError as error:
        for name, rule in _problems(error):
            group.refuse(group.form_row, cols.name(name), _raw(cells, cols, name), rule)
    rw = group.form.get("rw")
    if rw is not None and rw.isdigit() and len(rw) == 2 and rw not in settings.rw_list:
        group.refuse(group.form_row, cols.name("rw"), rw, "rw_outside_kelurahan")


def _register(
    group: Group,
    cols: dtks.Columns,
    facts: dict[int, MemberFacts],
    keys: Commitments,
    taken: dict[str, UUID],
) -> RegisterHousehold | None:
    """A new household's command, or None with the rows refused (the decider's rules)."""
    rel = cols.name("relationship")
    heads = [n for n, p in group.people.items() if p.relationship == "head"]
    if not heads:
        first, cells = group.rows[0]
        group.refuse(first, rel, _raw(cells, cols, "relationship"), "one_head_required")
    for extra in heads[1:]:
        group.refuse(extra, rel, group.people[extra].relationship, "one_head_required")
    for number, fact in facts.items():
        if fact.nik_commitment in taken:
            group.refuse(
                number, cols.name("nik"), group.people[number].nik, "nik_already_registered"
            )
    if group.lines:
        return None
    command = RegisterHousehold(
        rt=group.form["rt"],
        rw=group.form["rw"],
        kk_commitment=keys.kk(group.form["kk_number"]),
        members=tuple(facts.values()),
        monthly_income_idr=int(group.form["monthly_income_idr"]),
        desil=int(group.form["desil"]) if group.form["desil"] else None,
        dtks_listed=group.form["dtks_ref"] is not None,
        today=clock.today(),
        taken=_of(taken, facts.values()),
    )
    try:  # the decider's own word, before the batch
        households.decide(Household(), command)
    except DomainError as refused:
        group.refuse(group.form_row, refused.field or "", "", refused.code)
        return None
    return command


def _changes(group: Group, held: dict[str, Any], cols: dtks.Columns) -> dict[str, Any]:
    """The household's fields the file states differently (columns it lacks change nothing)."""
    form = HouseholdIn.model_validate({**group.form, "members": [PLACEHOLDER]})
    stated: dict[str, Any] = {
        "rt": form.rt,
        "rw": form.rw,
        "address": form.address,
        "desil": form.desil,
        "dtks_ref": form.dtks_ref,
    }
    if "monthly_income_idr" in cols.index:
        stated["monthly_income_idr"] = form.monthly_income_idr
    if "phone" in cols.index:
        stated["phone"] = form.phone
    return {k: v for k, v in stated.items() if v is not None and held.get(k) != v}


async def run_batch(
    runtime: Runtime, job: dict[str, Any], batch: list[Row], cols: dtks.Columns
) -> Tally:
    """Check, decide and store one batch; with the job's cursor, in one transaction."""
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    keys = commitments(settings)
    caller = Caller(actor=job["actor"], role=job["actor_role"], correlation_id=job["job_id"])
    uow = runtime.unit_of_work(caller)
    tally = Tally()
    groups: dict[str, Group] = {}
    for number, cells in batch:
        kk = dtks.cell(cells, cols, "kk_number")
        key = f"kk:{kk}" if kk is not None else f"row:{number}"
        groups.setdefault(key, Group(key, [])).rows.append((number, cells))
    for group in groups.values():
        check_rows(group, cols, settings)

    async with uow:
        session = uow.session
        facts: dict[str, dict[int, MemberFacts]] = {}
        for group in groups.values():
            facts[group.key] = {n: member_facts(keys, p, uuid4()) for n, p in group.people.items()}
        wanted = [f.nik_commitment for fs in facts.values() for f in fs.values()]
        earlier = await jobs.seen(session, job["job_id"], wanted)
        taken = await projections.holders(session, wanted)
        held = await private.active_by_reference(
            session,
            [g.form["kk_number"] for g in groups.values() if g.form.get("kk_number")],
            [g.form["dtks_ref"] for g in groups.values() if g.form.get("dtks_ref")],
        )
        by_dtks = {h["dtks_ref"]: h for h in held if h["dtks_ref"]}
        by_kk = {h["kk_number"]: h for h in held}
        niks = await private.niks_of(session, [h["household_id"] for h in held])

        commands: list[tuple[UUID, RegisterHousehold | Reconcile]] = []
        new_pii: list[dict[str, Any]] = []
        new_members: list[dict[str, Any]] = []
        changed_pii: list[tuple[UUID, dict[str, Any]]] = []
        row_kind: dict[int, str] = {}
        outcome: dict[str, str] = {}
        used: set[UUID] = set()
        for group in groups.values():
            mine = facts[group.key]
            # A NIK read before on another household's row: refused here, kept there.
            for number, fact in mine.items():
                first = earlier.get(fact.nik_commitment) or tally.niks.get(fact.nik_commitment)
                if (
                    first is not None
                    and first != number
                    and not any(first == n for n, _ in group.rows)
                ):
                    group.refuse(
                        number, cols.name("nik"), group.people[number].nik, NIK_REPEATED_IN_FILE
                    )
                else:
                    tally.niks.setdefault(fact.nik_commitment, number)
            for number, fact in list(mine.items()):
                same = [n for n, f in mine.items() if f.nik_commitment == fact.nik_commitment]
                if same[0] != number:
                    group.refuse(number, cols.name("nik"), group.people[number].nik, "nik_repeated")
            found = by_dtks.get(group.form.get("dtks_ref")) or by_kk.get(
                group.form.get("kk_number")
            )
            if group.lines:
                pass
            elif found is None:
                command = _register(group, cols, mine, keys, taken)
                if command is not None:
                    hid = uuid4()
                    commands.append((hid, command))
                    new_pii.append(
                        {
                            "household_id": hid,
                            **{
                                k: group.form[k]
                                for k in ("kk_number", "address", "phone", "dtks_ref")
                            },
                        }
                    )
                    new_members += _member_rows(hid, group, mine, 0)
                    outcome[group.key] = "registered"
                    row_kind.update(dict.fromkeys(group.people, "rows_accepted"))
                    taken.update(dict.fromkeys((f.nik_commitment for f in mine.values()), hid))
            else:
                hid = found["household_id"]
                reconcile: Reconcile | None = None
                if hid in used:
                    first_row, cells = group.rows[0]
                    group.refuse(
                        first_row,
                        cols.name("dtks_ref"),
                        _raw(cells, cols, "dtks_ref"),
                        HOUSEHOLD_REPEATED,
                    )
                members = niks[hid]
                fresh = {n: f for n, f in mine.items() if group.people[n].nik not in members}
                for number, fact in fresh.items():
                    holder = taken.get(fact.nik_commitment)
                    if group.people[number].relationship == "head":
                        group.refuse(
                            number,
                            cols.name("relationship"),
                            _raw(dict(group.rows)[number], cols, "relationship"),
                            "one_head_required",
                        )
                    elif holder is not None and holder != hid:
                        group.refuse(
                            number,
                            cols.name("nik"),
                            group.people[number].nik,
                            "nik_already_registered",
                        )
                changes = {} if group.lines else _changes(group, found, cols)
                if not group.lines and (changes or fresh):
                    reconcile = _reconcile(group, changes, fresh, taken)
                    try:  # the decider's own word on the household's history
                        history = await eventstore.load(session, hid)
                        households.decide(households.replay(history), reconcile)
                    except DomainError as refused:
                        group.refuse(group.form_row, refused.field or "", "", refused.code)
                if group.lines:
                    pass
                elif reconcile is None:
                    outcome[group.key] = "unchanged"
                    row_kind.update(dict.fromkeys(group.people, "rows_unchanged"))
                else:
                    commands.append((hid, reconcile))
                    personal = {k: changes[k] for k in PERSONAL if k in changes}
                    if personal:
                        changed_pii.append((hid, personal))
                    new_members += _member_rows(hid, group, fresh, len(members))
                    outcome[group.key] = "updated"
                    for number in group.people:
                        row_kind[number] = (
                            "rows_accepted"
                            if number in fresh
                            else ("rows_updated" if changes else "rows_unchanged")
                        )
                    taken.update(dict.fromkeys((f.nik_commitment for f in fresh.values()), hid))
                used.add(hid)
            if group.lines:
                _refuse_whole(group)

        await uow.execute_many(households, commands)
        await private.keep_many(session, new_pii, new_members)
        for hid, personal in changed_pii:
            await private.change_household(session, hid, **personal)

        for group in groups.values():
            tally.lines += sorted(group.lines)
            kind = outcome.get(group.key, "refused")
            tally.counts[f"households_{kind}"] += 1
        tally.counts["rows_read"] = len(batch)
        tally.counts["rows_refused"] = len(batch) - len(row_kind)
        for kind in row_kind.values():
            tally.counts[kind] += 1
        new_niks = {c: r for c, r in tally.niks.items() if c not in earlier}
        await jobs.remember(session, job["job_id"], new_niks)
        await jobs.refuse(session, job["job_id"], tally.lines)
        await jobs.advance(session, job["job_id"], batch[-1][0], tally.counts)
    return tally


PERSONAL = ("address", "phone", "dtks_ref")


def _of(taken: dict[str, UUID], facts: Iterable[MemberFacts]) -> dict[str, UUID]:
    """The holders of these members' NIKs, as the command's facts (a copy: the batch's
    map grows as it registers)."""
    return {f.nik_commitment: taken[f.nik_commitment] for f in facts if f.nik_commitment in taken}


def _reconcile(
    group: Group, changes: dict[str, Any], fresh: dict[int, MemberFacts], taken: dict[str, UUID]
) -> Reconcile:
    update = UpdateHousehold(
        rt=changes.get("rt"),
        rw=changes.get("rw"),
        monthly_income_idr=changes.get("monthly_income_idr"),
        desil=changes.get("desil"),
        dtks_listed=True if changes.get("dtks_ref") else None,
        address_changed="address" in changes,
    )
    added = tuple(
        AddMember(member=f, today=clock.today(), taken=_of(taken, [f])) for f in fresh.values()
    )
    return Reconcile(update, added)


def _member_rows(
    hid: UUID, group: Group, facts: dict[int, MemberFacts], first: int
) -> list[dict[str, Any]]:
    return [
        {
            "member_id": fact.member_id,
            "household_id": hid,
            **group.people[number].model_dump(
                include={"full_name", "nik", "birth_date", "sex", "relationship", "disabled"}
            ),
            "position": first + i,
        }
        for i, (number, fact) in enumerate(facts.items())
    ]


def _refuse_whole(group: Group) -> None:
    """A household with a refused row is refused whole: its other rows say so."""
    bad = {row for row, *_ in group.lines}
    for number, _ in group.rows:
        if number not in bad:
            group.lines.append((number, "", "", HOUSEHOLD_REFUSED))


# --- the worker ------------------------------------------------------------------------
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
            done = 0
            while max_batches is None or done < max_batches:
                batch = await asyncio.to_thread(next, stream, None)
                if batch is None:
                    break
                await self._batch(job, batch, cols)
                done += 1
            else:
                return
        except (FileRefused, OSError) as exc:
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

    async def _batch(self, job: dict[str, Any], batch: list[Row], cols: dtks.Columns) -> None:
        """One batch, again when a concurrent registration took a NIK or a household
        first (it is then decided on the new facts)."""
        for attempt in range(1, 6):
            try:
                await run_batch(self.runtime, job, batch, cols)
                return
            except DomainError:
                if attempt == 5:
                    raise
                await asyncio.sleep(0.05 * attempt)


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


def flatten(lines: Sequence[Line]) -> list[list[str]]:
    return [[str(r), c, v, rule] for r, c, v, rule in lines]
