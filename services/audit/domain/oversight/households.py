"""The fold's households, their members' NIK commitments, their first allocations and the
timelines of everything it has seen, kept in a private temporary SQLite database instead
of Python objects.

Why: the fold takes in every household of the ledger. As Python objects that was about a
kilobyte a household, a gigabyte for a city's million: three times the audit's memory
budget. Here SQLite's page cache (`CACHE_KIB`) holds what is hot and the rest spills to a
temporary file (SQLite's empty file name: in SQLITE_TMPDIR, else /var/tmp or /tmp; mode
0600 and unlinked as soon as it is opened, so no other process finds it and it goes when
the fold does). It holds what the ledger's sealed leaves hold of households (keyed NIK
commitments, ids, RWs), never a name or a NIK. The fold stays a pure function of its
leaves: the same leaves give the same rows, whatever was spilled. What every rule needs
at once stays in memory and small: the eligible households by RW (kept up to date as
households change) and the few NIK commitments seen in more than one household.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.audit.domain.oversight.records import HouseholdRecord

CACHE_KIB = 32 * 1024  # SQLite's page cache: the memory the households may take
FLUSH_ROWS = 5_000  # rows buffered before they go to SQLite together
SQL_VARIABLES = 500  # values bound in one statement (SQLite allows 32,766)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

SCHEMA = """
CREATE TABLE households (
    id BLOB PRIMARY KEY, rw TEXT, registered_at INTEGER, active INTEGER NOT NULL,
    deactivated_idx INTEGER, eligible INTEGER, decision_idx INTEGER,
    first_survey_at INTEGER, first_eligible_at INTEGER
) WITHOUT ROWID;
CREATE TABLE members (
    household BLOB NOT NULL, nik BLOB NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (household, nik)
) WITHOUT ROWID;
CREATE INDEX members_by_nik ON members (nik);
CREATE TABLE first_allocations (
    household BLOB NOT NULL, programme TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (household, programme)
) WITHOUT ROWID;
CREATE TABLE timeline (
    subject BLOB NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL, day TEXT NOT NULL,
    PRIMARY KEY (subject, idx, kind)
) WITHOUT ROWID;
"""
COLUMNS = (
    "rw, registered_at, active, deactivated_idx, eligible, decision_idx, "
    "first_survey_at, first_eligible_at"
)


def micros(at: datetime | None) -> int | None:
    """A time as SQLite keeps it: microseconds since the epoch."""
    return None if at is None else (at - EPOCH) // MICROSECOND


def moment(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + micros * MICROSECOND


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _counted(h: HouseholdRecord) -> str | None:
    """The RW a household counts in among the eligible, or None."""
    return h.rw if h.active and h.eligible and h.rw is not None else None


class Households:
    """Households by id, read and written whole (`get`, `put`); members, first allocations
    and timelines appended. Owned by one fold; the SQLite connection is closed with it.

    Writes are buffered and go to SQLite together (`flush`, every `FLUSH_ROWS` rows and
    before anything is read from the tables): one statement per row cost 10-20 µs, several
    a leaf; executemany costs a few. Households written since are read from the buffer."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)
        weakref.finalize(self, self._db.close)
        self._db.execute("PRAGMA journal_mode = OFF")  # it dies with the fold: nothing to recover
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._db.executescript(SCHEMA)
        # One transaction, never committed: a commit per statement wrote its pages to the
        # file each time (80 µs an insert); uncommitted pages stay in the cache until it is
        # full, and only then spill.
        self._db.execute("BEGIN")
        self.eligible_by_rw: Counter[str] = Counter()
        self._shared_niks: set[bytes] = set()  # in the members of two households or more
        self._written: dict[UUID, HouseholdRecord] = {}
        self._members: list[tuple[bytes, bytes, int]] = []
        self._allocated: list[tuple[bytes, str, int | None]] = []
        self._timeline: list[tuple[bytes, int, str, str]] = []

    @property
    def connection(self) -> sqlite3.Connection:
        """The fold's database: the allocations (allocations.py) live in it too."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def flush(self) -> None:
        """Write what is buffered; then find the NIKs the new members share."""
        if self._written:
            self._db.executemany(
                f"INSERT OR REPLACE INTO households (id, {COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(hid, h) for hid, h in self._written.items()],
            )
            self._written.clear()
        if self._members:
            self._db.executemany(
                "INSERT OR IGNORE INTO members (household, nik, idx) VALUES (?, ?, ?)",
                self._members,
            )
            unseen = list({nik for _, nik, _ in self._members} - self._shared_niks)
            self._members.clear()
            for start in range(0, len(unseen), SQL_VARIABLES):
                chunk = unseen[start : start + SQL_VARIABLES]
                self._shared_niks.update(
                    nik
                    for (nik,) in self._db.execute(
                        f"SELECT nik FROM members WHERE nik IN ({', '.join('?' * len(chunk))})"
                        " GROUP BY nik HAVING count(*) > 1",
                        chunk,
                    )
                )
        if self._allocated:
            self._db.executemany(
                "INSERT OR IGNORE INTO first_allocations (household, programme, at)"
                " VALUES (?, ?, ?)",
                self._allocated,
            )
            self._allocated.clear()
        if self._timeline:
            self._db.executemany(
                "INSERT OR IGNORE INTO timeline (subject, idx, kind, day) VALUES (?, ?, ?, ?)",
                self._timeline,
            )
            self._timeline.clear()

    def _buffered(self) -> None:
        rows = len(self._written) + len(self._members) + len(self._allocated)
        if rows + len(self._timeline) >= FLUSH_ROWS:
            self.flush()

    # --- households -----------------------------------------------------------------------
    def get(self, household: UUID) -> HouseholdRecord | None:
        written = self._written.get(household)
        if written is not None:
            return written
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM households WHERE id = ?", (household.bytes,)
        ).fetchone()
        if row is None:
            return None
        rw, registered, active, deactivated, eligible, decision, survey, first_eligible = row
        h = HouseholdRecord(
            rw=rw,
            registered_at=moment(registered),
            active=bool(active),
            deactivated_idx=deactivated,
            eligible=_flag(eligible),
            decision_idx=decision,
            first_survey_at=moment(survey),
            first_eligible_at=moment(first_eligible),
        )
        h.counted = _counted(h)
        return h

    def get_or_new(self, household: UUID) -> HouseholdRecord:
        return self.get(household) or HouseholdRecord()

    def put(self, household: UUID, h: HouseholdRecord) -> None:
        """The household as it is now (the record `get` gave, changed, or a new one)."""
        now = _counted(h)
        if now != h.counted:
            if h.counted is not None:
                self.eligible_by_rw[h.counted] -= 1
                if not self.eligible_by_rw[h.counted]:
                    del self.eligible_by_rw[h.counted]
            if now is not None:
                self.eligible_by_rw[now] += 1
            h.counted = now
        self._written[household] = h
        self._buffered()

    def __len__(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT count(*) FROM households").fetchone()[0])

    # --- members --------------------------------------------------------------------------
    def add_members(self, household: UUID, niks: list[bytes], idx: int) -> None:
        """Members' NIK commitments in the household, from the leaf `idx` (the first kept)."""
        hid = household.bytes
        self._members.extend((hid, nik, idx) for nik in niks)
        self._buffered()

    def shared_niks(self) -> list[bytes]:
        """The NIK commitments among the members of two households or more (active or not)."""
        self.flush()
        return sorted(self._shared_niks)

    def active_holders(self, nik: bytes) -> list[tuple[int, UUID, str | None]]:
        """(leaf, household, RW) of every active household with the NIK among its members,
        by leaf."""
        self.flush()
        rows = self._db.execute(
            "SELECT m.idx, m.household, h.rw FROM members m JOIN households h"
            " ON h.id = m.household WHERE m.nik = ? AND h.active ORDER BY m.idx, m.household",
            (nik,),
        )
        return [(idx, UUID(bytes=hid), rw) for idx, hid, rw in rows]

    # --- first allocations ----------------------------------------------------------------
    def allocated(self, household: UUID, programme: str, at: datetime) -> None:
        """The household's first allocation of the programme (a later one changes nothing)."""
        self._allocated.append((household.bytes, programme, micros(at)))
        self._buffered()

    # --- what the bureaucracy times read --------------------------------------------------
    def times(
        self,
    ) -> Iterator[tuple[str, datetime | None, datetime | None, datetime | None]]:
        """(RW, registered, first surveyed, first eligible) of every household with an RW."""
        self.flush()
        rows = self._db.execute(
            "SELECT rw, registered_at, first_survey_at, first_eligible_at FROM households"
            " WHERE rw IS NOT NULL"
        )
        for rw, registered, survey, eligible in rows:
            yield rw, moment(registered), moment(survey), moment(eligible)

    def allocation_times(self) -> Iterator[tuple[str, str, datetime | None, datetime]]:
        """(RW, programme, first eligible, first allocated) of every allocated household."""
        self.flush()
        rows = self._db.execute(
            "SELECT h.rw, f.programme, h.first_eligible_at, f.at FROM first_allocations f"
            " JOIN households h ON h.id = f.household WHERE h.rw IS NOT NULL"
        )
        for rw, programme, eligible, at in rows:
            allocated = moment(at)
            assert allocated is not None
            yield rw, programme, moment(eligible), allocated

    # --- timelines ------------------------------------------------------------------------
    def on_timeline(self, subject: UUID, idx: int, kind: str, day: str) -> None:
        self._timeline.append((subject.bytes, idx, kind, day))
        self._buffered()

    def timeline(self, subject: UUID) -> list[tuple[int, str, str]]:
        """(leaf, type, day) of every leaf about the subject, by leaf (then type)."""
        self.flush()
        rows = self._db.execute(
            "SELECT idx, kind, day FROM timeline WHERE subject = ? ORDER BY idx, kind",
            (subject.bytes,),
        )
        return [(idx, kind, day) for idx, kind, day in rows]

    def day_of(self, subject: UUID, idx: int) -> str:
        self.flush()
        row = self._db.execute(
            "SELECT day FROM timeline WHERE subject = ? AND idx = ? LIMIT 1",
            (subject.bytes, idx),
        ).fetchone()
        return "" if row is None else str(row[0])


def _row(household: UUID, h: HouseholdRecord) -> tuple[object, ...]:
    return (
        household.bytes,
        h.rw,
        micros(h.registered_at),
        int(h.active),
        h.deactivated_idx,
        None if h.eligible is None else int(h.eligible),
        h.decision_idx,
        micros(h.first_survey_at),
        micros(h.first_eligible_at),
    )
