"""The fold's allocations, the recipients and evidence of their hand-overs, and every
officer's hand-overs, in the fold's private SQLite database beside its households
(households.py, which says where the file goes and why).

Why: a city's round allocates to hundreds of thousands of households. As Python objects an
allocation with its hand-over took about 800 bytes, a few rounds past the audit's memory
budget. What the rules need at once stays in memory and small: the (round, recipient)
pairs that collected for more than one household.

Allocations are read and written whole (`get`, `put`) through a write buffer, as
households are; a hand-over's officer and evidence are written at once, since the next
hand-over's rules read them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from services.audit.domain.oversight.households import (
    EPOCH,
    MICROSECOND,
    SQL_VARIABLES,
    micros,
    moment,
)
from services.audit.domain.oversight.records import AllocationRecord, HandOver

FLUSH_ROWS = 5_000  # rows buffered before they go to SQLite together

SCHEMA = """
CREATE TABLE allocations (
    id BLOB PRIMARY KEY, household BLOB NOT NULL, round BLOB NOT NULL,
    programme TEXT NOT NULL, rw TEXT NOT NULL, amount_idr INTEGER NOT NULL,
    idx INTEGER NOT NULL, at INTEGER NOT NULL, status TEXT NOT NULL,
    received_idx INTEGER, received_at INTEGER
) WITHOUT ROWID;
CREATE INDEX allocations_by_round ON allocations (round, idx);
CREATE INDEX allocations_by_receipt ON allocations (received_idx);
CREATE TABLE recipients (
    round BLOB NOT NULL, commitment TEXT NOT NULL, household BLOB NOT NULL,
    idx INTEGER NOT NULL, PRIMARY KEY (round, commitment, household)
) WITHOUT ROWID;
CREATE TABLE evidence (hash TEXT PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE hand_overs (
    officer BLOB NOT NULL, at INTEGER NOT NULL, idx INTEGER NOT NULL, place TEXT NOT NULL,
    PRIMARY KEY (officer, at, idx)
) WITHOUT ROWID;
"""
COLUMNS = (
    "id, household, round, programme, rw, amount_idr, idx, at, status, received_idx, received_at"
)


class Allocations:
    """Allocations by id, with what their hand-overs left; owned by one fold."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        # One statement at a time: executescript would first commit the fold's one open
        # transaction (households.py), and every later statement would commit on its own.
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._written: dict[UUID, AllocationRecord] = {}
        self._recipients: list[tuple[bytes, str, bytes, int]] = []
        self._shared: set[tuple[bytes, str]] = set()  # (round, recipient): 2+ households

    def flush(self) -> None:
        if self._written:
            self._db.executemany(
                f"INSERT OR REPLACE INTO allocations ({COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(a) for a in self._written.values()],
            )
            self._written.clear()
        if self._recipients:
            self._db.executemany(
                "INSERT OR IGNORE INTO recipients (round, commitment, household, idx)"
                " VALUES (?, ?, ?, ?)",
                self._recipients,
            )
            pairs = list({(r, c) for r, c, _, _ in self._recipients} - self._shared)
            self._recipients.clear()
            for start in range(0, len(pairs), SQL_VARIABLES // 2):
                chunk = pairs[start : start + SQL_VARIABLES // 2]
                wanted = " OR ".join("(round = ? AND commitment = ?)" for _ in chunk)
                self._shared.update(
                    (r, c)
                    for r, c in self._db.execute(
                        f"SELECT round, commitment FROM recipients WHERE {wanted}"
                        " GROUP BY round, commitment HAVING count(*) > 1",
                        [v for pair in chunk for v in pair],
                    )
                )

    def _buffered(self) -> None:
        if len(self._written) + len(self._recipients) >= FLUSH_ROWS:
            self.flush()

    # --- allocations ----------------------------------------------------------------------
    def get(self, allocation: UUID | None) -> AllocationRecord | None:
        if allocation is None:
            return None
        written = self._written.get(allocation)
        if written is not None:
            return written
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM allocations WHERE id = ?", (allocation.bytes,)
        ).fetchone()
        return None if row is None else _record(row)

    def __contains__(self, allocation: UUID | None) -> bool:
        return self.get(allocation) is not None

    def put(self, a: AllocationRecord) -> None:
        """The allocation as it is now (the record `get` gave, changed, or a new one)."""
        self._written[a.allocation_id] = a
        self._buffered()

    def by_receipt(self, idx: int) -> AllocationRecord | None:
        """The allocation whose first hand-over is the leaf `idx`."""
        self.flush()
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM allocations WHERE received_idx = ?", (idx,)
        ).fetchone()
        return None if row is None else _record(row)

    def not_received(self, round_id: UUID) -> Iterator[AllocationRecord]:
        """The round's allocations not (yet) handed over, by leaf."""
        self.flush()
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM allocations WHERE round = ? AND status <> 'received'"
            " ORDER BY idx",
            (round_id.bytes,),
        )
        return (_record(row) for row in rows)

    def received_times(self) -> Iterator[tuple[str, str, datetime, datetime]]:
        """(RW, programme, allocated, received) of every allocation handed over."""
        self.flush()
        rows = self._db.execute(
            "SELECT rw, programme, at, received_at FROM allocations WHERE received_at IS NOT NULL"
        )
        for rw, programme, at, received in rows:
            allocated, handed = moment(at), moment(received)
            assert allocated is not None and handed is not None
            yield rw, programme, allocated, handed

    # --- recipients -----------------------------------------------------------------------
    def collected(self, round_id: UUID, recipient: str, household: UUID, idx: int) -> None:
        """The recipient collected the household's aid in the round (first leaf kept)."""
        self._recipients.append((round_id.bytes, recipient, household.bytes, idx))
        self._buffered()

    def shared_recipients(self) -> Iterator[tuple[UUID, dict[UUID, int]]]:
        """(round, household -> first hand-over) of every recipient who collected for two
        households or more in a round, by round and recipient."""
        self.flush()
        for round_bytes, recipient in sorted(self._shared):
            rows = self._db.execute(
                "SELECT household, idx FROM recipients WHERE round = ? AND commitment = ?"
                " ORDER BY idx, household",
                (round_bytes, recipient),
            )
            yield UUID(bytes=round_bytes), {UUID(bytes=h): idx for h, idx in rows}

    # --- evidence and officers: read by the next hand-over, so written at once ----------
    def first_use(self, evidence: str, idx: int) -> int:
        """The first hand-over that gave this evidence hash (this one, if none did)."""
        self._db.execute(
            "INSERT OR IGNORE INTO evidence (hash, idx) VALUES (?, ?)", (evidence, idx)
        )
        row = self._db.execute("SELECT idx FROM evidence WHERE hash = ?", (evidence,)).fetchone()
        return int(row[0])

    def neighbours(self, officer: UUID, at: datetime) -> list[HandOver]:
        """The officer's hand-overs just before (or at) and just after `at`, in time order
        (among equal times, in the order they were folded)."""
        t = micros(at)
        before = self._db.execute(
            "SELECT at, place, idx FROM hand_overs WHERE officer = ? AND at <= ?"
            " ORDER BY at DESC, idx DESC LIMIT 1",
            (officer.bytes, t),
        ).fetchall()
        after = self._db.execute(
            "SELECT at, place, idx FROM hand_overs WHERE officer = ? AND at > ?"
            " ORDER BY at, idx LIMIT 1",
            (officer.bytes, t),
        ).fetchall()
        found = []
        for when, place, idx in (*before, *after):
            moment_ = moment(when)
            assert moment_ is not None
            found.append(HandOver(moment_, place, idx))
        return found

    def handed_over(self, officer: UUID, h: HandOver) -> None:
        self._db.execute(
            "INSERT INTO hand_overs (officer, at, idx, place) VALUES (?, ?, ?, ?)",
            (officer.bytes, micros(h.received_at), h.idx, h.place),
        )


def _row(a: AllocationRecord) -> tuple[object, ...]:
    return (
        a.allocation_id.bytes,
        a.household_id.bytes,
        a.round_id.bytes,
        a.programme,
        a.rw,
        a.amount_idr,
        a.idx,
        micros(a.at),
        a.status,
        a.received_idx,
        micros(a.received_at),
    )


def _record(row: Any) -> AllocationRecord:
    aid, household, round_id, programme, rw, amount, idx, at, status, received_idx, received = row
    return AllocationRecord(
        allocation_id=UUID(bytes=aid),
        household_id=UUID(bytes=household),
        round_id=UUID(bytes=round_id),
        programme=programme,
        rw=rw,
        amount_idr=amount,
        idx=idx,
        at=EPOCH + at * MICROSECOND,
        status=status,
        received_idx=received_idx,
        received_at=moment(received),
    )
