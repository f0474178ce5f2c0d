"""Usulan for the Dinas Sosial: the registry's eligibility decisions and data changes since
a day, as CSV keyed by DTKS id (services/registry/README.md "Usulan export"), read from
the event store a page at a time and written out as it is read."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.private import household_pii
from services.registry.projections import households
from shared.clock import JAKARTA, day_of
from shared.db import events
from shared.events import Envelope

COLUMNS = ("ID_DTKS", "NO_KK", "TANGGAL", "USULAN", "RT", "RW", "DESIL", "KETERANGAN")
# event type -> the kind of proposal it is
KINDS = {
    "registry.household_registered": "BARU",
    "registry.household_updated": "PERUBAHAN",
    "registry.member_added": "TAMBAH_ANGGOTA",
    "registry.eligibility_decided": "KELAYAKAN",
    "registry.household_deactivated": "NONAKTIF",
}
PAGE = 1000


@dataclass(frozen=True)
class Usulan:
    """One line: a household's proposal of one day (values as CSV text)."""

    id_dtks: str
    no_kk: str
    tanggal: str
    usulan: str
    rt: str
    rw: str
    desil: str
    keterangan: str


def _explain(envelope: Envelope) -> tuple[str, str]:
    """(USULAN, KETERANGAN) of an event."""
    p = envelope.payload
    kind = KINDS[envelope.type]
    if kind == "KELAYAKAN":
        return ("LAYAK" if p["eligible"] else "TIDAK_LAYAK"), ";".join(p["reasons"])
    if kind == "PERUBAHAN":
        return kind, ";".join(p.get("changed") or ())
    if kind == "NONAKTIF":
        return kind, str(p.get("reason") or "")
    if kind == "BARU":
        return kind, f"anggota={len(p.get('members') or ())}"
    return kind, ""


def line(envelope: Envelope, pii: dict[str, Any], current: dict[str, Any]) -> Usulan:
    p = envelope.payload
    kind, why = _explain(envelope)

    def fact(name: str) -> str:
        value = p.get(name) if p.get(name) is not None else current.get(name)
        return "" if value is None else str(value)

    return Usulan(
        id_dtks=pii.get("dtks_ref") or "",
        no_kk=pii.get("kk_number") or "",
        tanggal=day_of(envelope.occurred_at).isoformat(),
        usulan=kind,
        rt=fact("rt"),
        rw=fact("rw"),
        desil=fact("desil"),
        keterangan=why,
    )


def start_of(day: date) -> datetime:
    """The programme's day starts at midnight WIB."""
    return datetime.combine(day, time(), JAKARTA).astimezone(UTC)


async def rows(session: AsyncSession, since: date) -> AsyncIterator[Usulan]:
    position = 0
    while True:
        page = (
            await session.execute(
                select(events.c.position, events.c.body)
                .where(events.c.position > position)
                .where(events.c.type.in_(list(KINDS)))
                .where(events.c.occurred_at >= start_of(since))
                .order_by(events.c.position)
                .limit(PAGE)
            )
        ).all()
        if not page:
            return
        position = page[-1][0]
        envelopes = [Envelope.model_validate_json(body) for _, body in page]
        ids = list({e.aggregate_id for e in envelopes})
        pii = {
            r.household_id: dict(r._mapping)
            for r in await session.execute(
                select(household_pii).where(household_pii.c.household_id.in_(ids))
            )
        }
        current = {
            r.household_id: dict(r._mapping)
            for r in await session.execute(
                select(
                    households.c.household_id, households.c.rt, households.c.rw, households.c.desil
                ).where(households.c.household_id.in_(ids))
            )
        }
        for e in envelopes:
            yield line(e, pii.get(e.aggregate_id, {}), current.get(e.aggregate_id, {}))


def text(lines: Iterable[tuple[str, ...]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue()


async def csv_chunks(session: AsyncSession, since: date) -> AsyncIterator[str]:
    yield text([COLUMNS])
    chunk: list[tuple[str, ...]] = []
    async for usulan in rows(session, since):
        chunk.append(astuple(usulan))
        if len(chunk) >= PAGE:
            yield text(chunk)
            chunk = []
    if chunk:
        yield text(chunk)


def parse(lines: Iterable[str]) -> Iterator[Usulan]:
    """The documented format read back (what the Dinas Sosial's side does)."""
    reader = csv.reader(lines)
    if tuple(next(reader, ())) != COLUMNS:
        raise ValueError(f"the header is not {','.join(COLUMNS)}")
    for cells in reader:
        yield Usulan(*cells)
