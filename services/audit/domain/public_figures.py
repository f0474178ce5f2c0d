"""What the public page shows (issue 12), as the transparency fold (transparency.py) gives
it: counts as the public sees them (`suppressed()`: "<5" below five; an amount whose
count is below five is suppressed with it), the posko schedule, and a hand-over as
`cek bansos` shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.events.public import SMALL_CELL, suppressed

Shown = int | str  # a count as the public sees it: exact from five, else "<5"


def amount(count: int, idr: int) -> Shown:
    """An amount behind `count` households: suppressed with a count below five."""
    return idr if count >= SMALL_CELL else suppressed(count)


def share(part: int, whole: int) -> int | None:
    """A whole percentage, only where neither count is suppressed."""
    if whole < SMALL_CELL or part < SMALL_CELL:
        return None
    return round(100 * part / whole)


@dataclass(frozen=True)
class Posko:
    round_id: str
    programme: str
    period: str
    rw: str
    place: str
    on: str  # YYYY-MM-DD


@dataclass(frozen=True)
class RwRound:
    round_id: str
    programme: str
    period: str
    allocated: Shown
    received: Shown
    received_pct: int | None


@dataclass(frozen=True)
class RwFigures:
    rw: str
    households: Shown  # allocated in the latest round that reached the RW
    allocated: Shown
    received: Shown
    outstanding: Shown
    allocated_idr: Shown
    received_idr: Shown
    received_pct: int | None
    complaints_filed: Shown
    appeals_filed: Shown
    appeals_upheld: Shown  # the re-survey found the household wrongly left out
    residents_reached: Shown  # by outreach sessions (at least: small groups are "<5")
    cases_opened: Shown  # mentoring cases (pendampingan)
    rounds: tuple[RwRound, ...]


@dataclass(frozen=True)
class RoundFigures:
    round_id: str
    programme: str
    period: str
    rws: tuple[str, ...]
    first_day: str | None
    last_day: str | None
    endorsed: bool
    closed: bool
    allocated: Shown
    received: Shown
    undelivered: Shown
    allocated_idr: Shown
    received_idr: Shown
    received_pct: int | None


@dataclass(frozen=True)
class TrainingFigures:
    category: str
    courses: int  # courses are not people: exact
    capacity: int
    enrolled: Shown
    completed: Shown
    withdrawn: Shown


@dataclass(frozen=True)
class ComplaintFigures:
    filed: Shown
    acknowledged: Shown
    resolved: Shown
    escalated: Shown
    open: Shown
    # Certainly open past the SLA: filed more than `resolve_days` ago minus every
    # resolution so far (a lower bound: resolutions are not linked to filings in public).
    past_sla_at_least: Shown
    resolve_days: int


@dataclass(frozen=True)
class Figures:
    leaves: int  # how many leaves were folded
    rws: tuple[RwFigures, ...]
    rounds: tuple[RoundFigures, ...]
    training: tuple[TrainingFigures, ...]
    complaints: ComplaintFigures
    allocated_idr: Shown
    received_idr: Shown


@dataclass(frozen=True)
class Handover:
    """What a receipt's leaf says was handed over, with its posko and package from the
    round's and the budget's public views."""

    round_id: str
    programme: str
    period: str | None
    rw: str
    amount_idr: int
    day: str
    place: str | None
    posko_day: str | None
    package: tuple[dict[str, Any], ...]
