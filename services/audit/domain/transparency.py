"""The public page's figures (issue 12), folded from the ledger's PUBLIC views only. Pure.

Whatever this module computes, anyone can compute from `GET /ledger/entries`: it reads
nothing sealed. So it also knows only what the public views show (shared/events/*.py
`public()`), and says so where that limits a figure:

- Households per RW: an eligibility decision's view has no verdict and no household (the
  verdict is the household's own business), so the page counts the households allocated
  in the latest round that reached the RW: every eligible, active household of the RW is
  allocated in its programme's round.
- Hand-overs per RW: allocations and receipts show round, programme, RW and amount; an
  undelivered outcome shows no RW ("deceased" in one RW on one day names a neighbour), so
  undelivered counts are per round, and per RW the page shows what is still outstanding.
- Complaints: a filing shows its RW and category; acknowledgements and resolutions show
  neither RW nor which complaint, so they are counted overall, and SLA compliance from
  public views is a lower bound: complaints filed more than the SLA's days ago minus all
  resolutions so far are certainly open past their SLA. The exact times per RW come from
  the oversight (auditor side) as medians and 90th percentiles.
- Training: course events show their course only (not who, nor from which RW), so
  completions are per course category.

Counts are shown as `suppressed()` gives them ("<5" below five); an amount whose count
is below five is suppressed with it (it would give the count away).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.audit.domain.public_figures import (
    ComplaintFigures,
    Figures,
    Handover,
    Posko,
    RoundFigures,
    RwFigures,
    RwRound,
    TrainingFigures,
    amount,
    share,
)
from shared.events.public import suppressed

# The types the fold reads: the page reads only these leaves.
ROUND_SCHEDULED = "distribution.round_scheduled"
ROUND_ENDORSED = "distribution.round_endorsed"
ROUND_CLOSED = "distribution.round_closed"
BUDGETED = "distribution.programme_budgeted"
ALLOCATED = "distribution.aid_allocated"
RECEIVED = "distribution.aid_received"
UNDELIVERED = "distribution.aid_undelivered"
COURSE_OPENED = "training.course_opened"
ENROLLED = "training.trainee_enrolled"
COMPLETED = "training.training_completed"
WITHDRAWN = "training.trainee_withdrawn"
FILED = "community.complaint_filed"
ACKNOWLEDGED = "community.complaint_acknowledged"
ESCALATED = "community.complaint_escalated"
RESOLVED = "community.complaint_resolved"
MEETING_HELD = "community.meeting_held"
APPEAL_FILED = "community.appeal_filed"
APPEAL_DECIDED = "community.appeal_decided"
CASE_OPENED = "community.case_opened"
# Who came to an outreach session: women and men (the other groups overlap them).
REACHED = ("female", "male")
TYPES = (
    ROUND_SCHEDULED,
    ROUND_ENDORSED,
    ROUND_CLOSED,
    BUDGETED,
    ALLOCATED,
    RECEIVED,
    UNDELIVERED,
    COURSE_OPENED,
    ENROLLED,
    COMPLETED,
    WITHDRAWN,
    FILED,
    ACKNOWLEDGED,
    ESCALATED,
    RESOLVED,
)


# --- what the fold keeps (the page: public_figures.py) -------------------------------------
@dataclass
class _Round:
    round_id: str
    programme: str
    period: str
    budget_id: str | None
    poskos: list[Posko]
    seen: int  # the index of the leaf that scheduled it: later rounds come later
    endorsed: bool = False
    closed: bool = False
    allocated: Counter[str] = field(default_factory=Counter)
    allocated_idr: Counter[str] = field(default_factory=Counter)
    received: Counter[str] = field(default_factory=Counter)
    received_idr: Counter[str] = field(default_factory=Counter)
    undelivered: int = 0


@dataclass
class _Course:
    category: str
    capacity: int
    enrolled: int = 0
    completed: int = 0
    withdrawn: int = 0


class Fold:
    """Public views in index order in, the page's figures out. Feed it with `add` (the
    leaf's index and its public view); it keeps only counts and the public schedule."""

    def __init__(self) -> None:
        self.size = 0  # leaves [0, size) are folded
        self.rounds: dict[str, _Round] = {}
        self.packages: dict[str, tuple[dict[str, Any], ...]] = {}
        self.courses: dict[str, _Course] = {}
        self.filed: Counter[str] = Counter()  # per RW
        self.filed_on: Counter[str] = Counter()  # per day
        self.acknowledged = 0
        self.escalated = 0
        self.resolved = 0
        # Per RW: residents reached by outreach (a group shown "<5" counts 0: a floor),
        # appeals filed and upheld (exclusion errors the re-survey corrected).
        self.reached: Counter[str] = Counter()
        self.appeals: Counter[str] = Counter()
        self.upheld: Counter[str] = Counter()
        self.cases: Counter[str] = Counter()  # mentoring cases opened (pendampingan)

    def add(self, index: int, view: dict[str, Any]) -> None:
        self.size = max(self.size, index + 1)
        kind = view.get("type")
        if kind == ROUND_SCHEDULED:
            rid = str(view["round_id"])
            self.rounds[rid] = _Round(
                rid,
                view["programme"],
                view["period"],
                view.get("budget_id"),
                [
                    Posko(rid, view["programme"], view["period"], p["rw"], p["place"], p["on"])
                    for p in view.get("poskos", ())
                ],
                index,
            )
        elif kind == BUDGETED:
            if view.get("package"):
                self.packages[str(view["budget_id"])] = tuple(view["package"])
        elif kind in (ROUND_ENDORSED, ROUND_CLOSED):
            found = self.rounds.get(str(view.get("round_id")))
            if found is not None:
                found.endorsed |= kind == ROUND_ENDORSED
                found.closed |= kind == ROUND_CLOSED
        elif kind in (ALLOCATED, RECEIVED, UNDELIVERED):
            self._handed(kind, view, index)
        elif kind == COURSE_OPENED:
            self.courses[str(view["course_id"])] = _Course(view["category"], view["capacity"])
        elif kind in (ENROLLED, COMPLETED, WITHDRAWN):
            course = self.courses.get(str(view.get("course_id")))
            if course is not None:
                course.enrolled += kind == ENROLLED
                course.completed += kind == COMPLETED
                course.withdrawn += kind == WITHDRAWN
        elif kind == FILED:
            self.filed[view["rw"]] += 1
            self.filed_on[view["day"]] += 1
        elif kind == ACKNOWLEDGED:
            self.acknowledged += 1
        elif kind == ESCALATED:
            self.escalated += 1
        elif kind == RESOLVED:
            self.resolved += 1
        elif kind == MEETING_HELD and view.get("kind") == "outreach":
            came = view.get("attendance", {})
            self.reached[view["rw"]] += sum(n for g in REACHED if isinstance(n := came.get(g), int))
        elif kind == APPEAL_FILED:
            self.appeals[view["rw"]] += 1
        elif kind == APPEAL_DECIDED and view.get("outcome") == "upheld":
            self.upheld[view["rw"]] += 1
        elif kind == CASE_OPENED:
            self.cases[view["rw"]] += 1

    def _handed(self, kind: str, view: dict[str, Any], index: int) -> None:
        rid = str(view.get("round_id"))
        round_ = self.rounds.get(rid)
        if round_ is None:  # a hand-over of a round scheduled before the ledger began
            round_ = self.rounds[rid] = _Round(
                rid, view.get("programme", "?"), "?", None, [], index
            )
        if kind == UNDELIVERED:
            round_.undelivered += 1
            return
        counts, idr = (
            (round_.allocated, round_.allocated_idr)
            if kind == ALLOCATED
            else (round_.received, round_.received_idr)
        )
        counts[view["rw"]] += 1
        idr[view["rw"]] += int(view["amount_idr"])

    # --- reads ----------------------------------------------------------------------------
    def schedule(self, today: date) -> list[Posko]:
        """Poskos from today on, by day, RW and place."""
        day = today.isoformat()
        found = [p for r in self.rounds.values() for p in r.poskos if p.on >= day]
        return sorted(found, key=lambda p: (p.on, p.rw, p.place, p.programme))

    def handover(self, view: dict[str, Any]) -> Handover:
        """A receipt's public view, with its round's posko for the RW and the package."""
        round_ = self.rounds.get(str(view.get("round_id")))
        posko = next((p for p in round_.poskos if p.rw == view["rw"]), None) if round_ else None
        package = self.packages.get(str(round_.budget_id)) if round_ and round_.budget_id else None
        return Handover(
            round_id=str(view["round_id"]),
            programme=view["programme"],
            period=round_.period if round_ and round_.period != "?" else None,
            rw=view["rw"],
            amount_idr=int(view["amount_idr"]),
            day=view["day"],
            place=posko.place if posko else None,
            posko_day=posko.on if posko else None,
            package=package or (),
        )

    def figures(self, today: date, resolve_days: int) -> Figures:
        rounds = sorted(self.rounds.values(), key=lambda r: (r.period, r.seen))
        rws = sorted(
            {rw for r in rounds for rw in (*r.allocated, *(p.rw for p in r.poskos))}
            | set(self.filed)
            | set(self.appeals)
            | set(self.reached)
            | set(self.cases)
        )
        return Figures(
            leaves=self.size,
            rws=tuple(self._rw(rw, rounds) for rw in rws),
            rounds=tuple(_round(r) for r in reversed(rounds)),
            training=self._training(),
            complaints=self._complaints(today, resolve_days),
            allocated_idr=amount(
                sum(sum(r.allocated.values()) for r in rounds),
                sum(sum(r.allocated_idr.values()) for r in rounds),
            ),
            received_idr=amount(
                sum(sum(r.received.values()) for r in rounds),
                sum(sum(r.received_idr.values()) for r in rounds),
            ),
        )

    def _rw(self, rw: str, rounds: list[_Round]) -> RwFigures:
        mine = [r for r in rounds if r.allocated[rw] or any(p.rw == rw for p in r.poskos)]
        allocated = sum(r.allocated[rw] for r in mine)
        received = sum(r.received[rw] for r in mine)
        latest = next((r for r in reversed(mine) if r.allocated[rw]), None)
        return RwFigures(
            rw=rw,
            households=suppressed(latest.allocated[rw] if latest else 0),
            allocated=suppressed(allocated),
            received=suppressed(received),
            outstanding=suppressed(max(0, allocated - received)),
            allocated_idr=amount(allocated, sum(r.allocated_idr[rw] for r in mine)),
            received_idr=amount(received, sum(r.received_idr[rw] for r in mine)),
            received_pct=share(received, allocated),
            complaints_filed=suppressed(self.filed[rw]),
            appeals_filed=suppressed(self.appeals[rw]),
            appeals_upheld=suppressed(self.upheld[rw]),
            residents_reached=suppressed(self.reached[rw]),
            cases_opened=suppressed(self.cases[rw]),
            rounds=tuple(
                RwRound(
                    r.round_id,
                    r.programme,
                    r.period,
                    suppressed(r.allocated[rw]),
                    suppressed(r.received[rw]),
                    share(r.received[rw], r.allocated[rw]),
                )
                for r in reversed(mine)
            ),
        )

    def _training(self) -> tuple[TrainingFigures, ...]:
        out = []
        for category in sorted({c.category for c in self.courses.values()}):
            of = [c for c in self.courses.values() if c.category == category]
            out.append(
                TrainingFigures(
                    category=category,
                    courses=len(of),
                    capacity=sum(c.capacity for c in of),
                    enrolled=suppressed(sum(c.enrolled for c in of)),
                    completed=suppressed(sum(c.completed for c in of)),
                    withdrawn=suppressed(sum(c.withdrawn for c in of)),
                )
            )
        return tuple(out)

    def _complaints(self, today: date, resolve_days: int) -> ComplaintFigures:
        filed = sum(self.filed.values())
        due = (today - timedelta(days=resolve_days)).isoformat()
        filed_before_due = sum(n for day, n in self.filed_on.items() if day < due)
        return ComplaintFigures(
            filed=suppressed(filed),
            acknowledged=suppressed(self.acknowledged),
            resolved=suppressed(self.resolved),
            escalated=suppressed(self.escalated),
            open=suppressed(max(0, filed - self.resolved)),
            past_sla_at_least=suppressed(max(0, filed_before_due - self.resolved)),
            resolve_days=resolve_days,
        )


def _round(r: _Round) -> RoundFigures:
    allocated, received = sum(r.allocated.values()), sum(r.received.values())
    days = sorted(p.on for p in r.poskos)
    return RoundFigures(
        round_id=r.round_id,
        programme=r.programme,
        period=r.period,
        rws=tuple(sorted({p.rw for p in r.poskos} | set(r.allocated))),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        endorsed=r.endorsed,
        closed=r.closed,
        allocated=suppressed(allocated),
        received=suppressed(received),
        undelivered=suppressed(r.undelivered),
        allocated_idr=amount(allocated, sum(r.allocated_idr.values())),
        received_idr=amount(received, sum(r.received_idr.values())),
        received_pct=share(received, allocated),
    )
