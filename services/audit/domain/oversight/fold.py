"""The oversight fold: ledger leaves, in index order, into the state that reconciliation,
findings, bureaucracy times and household timelines are read from. Pure: no I/O and no
clock (a deadline is judged against the latest leaf's time, the ledger's own clock), so
folding the same leaves from index 0 always gives the same answers.

`apply(index, envelope, public)` takes each leaf: its sealed envelope, or None for a leaf
whose content was erased or is not a valid event; then only its public view counts (an
erased allocation or hand-over still counts in its round's figures, by RW and amount).
Rules about "at that time" are judged as the leaf is folded; rules about the state as a
whole (a NIK in two active households, a complaint past its SLA, one recipient for many
households) when findings are asked for.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.records import (
    AllocationRecord,
    BudgetRecord,
    Certificate,
    ComplaintRecord,
    CourseRecord,
    EnrolmentRecord,
    HandOver,
    HouseholdRecord,
    RoundRecord,
)
from services.audit.domain.oversight.times import Step, StepTime, step_times
from shared.clock import JAKARTA
from shared.events import Envelope, EventPayload
from shared.events.community import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
)
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidReceivedV1,
    AidUndelivered,
    AidUndeliveredV1,
    OfficerCertified,
    Posko,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
)
from shared.events.public import day_of
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
    SurveyRecorded,
)
from shared.events.training import (
    AttendanceRecorded,
    CourseOpened,
    OutcomeRecorded,
    TraineeEnrolled,
    TraineeWithdrawn,
    TrainingCompleted,
    WaitlistPromoted,
)

# --- the thresholds the rules use ---------------------------------------------------------
BACKDATING = timedelta(days=2)  # received_at this much before it was recorded
TWO_PLACES = timedelta(hours=1)  # one officer, two places, within this
POSKO_HOURS = (6, 20)  # WIB: a hand-over outside [06:00, 20:00) is at night
MANY_HOUSEHOLDS = 3  # one recipient collecting for this many households in a round
# The community's SLA (services/community: BANSOS_SLA_ACKNOWLEDGE_DAYS / _RESOLVE_DAYS),
# the same for every category today; a category listed here gets its own.
SLA_DAYS: dict[str, tuple[int, int]] = {
    category: (3, 14)
    for category in (
        "exclusion_error",
        "inclusion_error",
        "distribution",
        "officer_conduct",
        "training",
        "other",
    )
}
DEFAULT_SLA_DAYS = (3, 14)
# Fields of a round's closure, and the ledger's figure each is checked against.
CLOSURE_FIELDS = (
    "allocated",
    "received",
    "undelivered",
    "amount_allocated_idr",
    "amount_received_idr",
)


def _jakarta(moment: datetime) -> datetime:
    return moment.astimezone(JAKARTA)


def _place(text: str) -> str:
    """Places typed by officers compare without case and spacing."""
    return " ".join(text.casefold().split())


def _day_start(day: str) -> datetime:
    """A public view's day as the moment it began in Jakarta."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), JAKARTA).astimezone(UTC)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


class Oversight:
    """The fold's state. Feed it every leaf, in index order, from index 0."""

    def __init__(self) -> None:
        self.size = 0  # leaves folded
        self.now: datetime | None = None  # the latest leaf's time
        self.households: dict[UUID, HouseholdRecord] = {}
        self.allocations: dict[UUID, AllocationRecord] = {}
        self.rounds: dict[UUID, RoundRecord] = {}
        self.budgets: dict[UUID, BudgetRecord] = {}
        self.certificates: dict[UUID, list[Certificate]] = defaultdict(list)
        self.hand_overs: dict[UUID, list[HandOver]] = defaultdict(list)  # officer, by time
        self.by_receipt: dict[int, AllocationRecord] = {}  # first hand-over -> allocation
        self.evidence: dict[str, int] = {}  # evidence hash -> first hand-over
        # (round, recipient commitment) -> household -> its first hand-over to them
        self.recipients: dict[tuple[UUID, str], dict[UUID, int]] = defaultdict(dict)
        self.complaints: dict[UUID, ComplaintRecord] = {}
        self.courses: dict[UUID, CourseRecord] = {}
        self.enrolments: dict[UUID, EnrolmentRecord] = {}
        self.about: dict[UUID, list[tuple[int, str, str]]] = defaultdict(list)  # timelines
        self.raised: list[Finding] = []  # findings judged as their leaf was folded
        self.erasures = 0  # audit.leaves_erased leaves seen
        self.unjudged: list[int] = []  # leaves whose event the fold could not take in
        self._cache: tuple[int, list[Finding]] | None = None
        self._times: tuple[int, list[StepTime]] | None = None

    # --- the fold ----------------------------------------------------------------------------
    def apply(self, index: int, envelope: Envelope | None, public: dict[str, Any]) -> None:
        if index != self.size:
            raise ValueError(f"leaf {index} folded out of order (expected {self.size})")
        self.size += 1
        payload: EventPayload | None = None
        if envelope is not None:
            try:
                payload = envelope.typed()
            except ValueError:  # stored before its type was known: its public view counts
                payload = None
        if envelope is None or payload is None:
            self._public(index, public)
            return
        at = envelope.occurred_at
        if self.now is None or at > self.now:
            self.now = at
        try:
            self._event(index, envelope, payload, at)
        except (ArithmeticError, LookupError, TypeError, ValueError):
            # A leaf the rules cannot read (a shape no rule expects) must not stop
            # oversight of every leaf after it; it is counted, the same on every replay.
            self.unjudged.append(index)

    def _tick_day(self, day: Any) -> None:
        if isinstance(day, str):
            try:
                moment = _day_start(day)
            except ValueError:
                return
            if self.now is None or moment > self.now:
                self.now = moment

    def _event(self, i: int, envelope: Envelope, payload: EventPayload, at: datetime) -> None:
        aggregate = envelope.aggregate_id
        day = day_of(at)
        match payload:
            # --- registry ---
            case HouseholdRegistered():
                h = self.households.setdefault(aggregate, HouseholdRecord())
                h.rw, h.registered_at = payload.rw, at
                for m in payload.members:
                    h.members.setdefault(m.nik_commitment, i)
                self._about(aggregate, i, envelope.type, day)
            case MemberAdded():
                h = self.households.setdefault(aggregate, HouseholdRecord())
                h.members.setdefault(payload.member.nik_commitment, i)
                self._about(aggregate, i, envelope.type, day)
            case HouseholdUpdated():
                h = self.households.setdefault(aggregate, HouseholdRecord())
                h.rw = payload.rw or h.rw
                self._about(aggregate, i, envelope.type, day)
            case SurveyRecorded():
                h = self.households.setdefault(aggregate, HouseholdRecord())
                h.first_survey_at = h.first_survey_at or at
                self._about(aggregate, i, envelope.type, day)
            case EligibilityDecided():
                h = self.households.setdefault(aggregate, HouseholdRecord())
                h.rw, h.eligible, h.decision_idx = payload.rw, payload.eligible, i
                if payload.eligible and h.first_eligible_at is None:
                    h.first_eligible_at = at
                self._about(aggregate, i, envelope.type, day)
            case HouseholdDeactivated():
                h = self.households.setdefault(aggregate, HouseholdRecord())
                h.active, h.deactivated_idx = False, i
                self._about(aggregate, i, envelope.type, day)
            # --- distribution ---
            case ProgrammeBudgeted():
                self._budgeted(
                    i,
                    aggregate,
                    payload.programme,
                    payload.period,
                    payload.amount_idr,
                    payload.benefit_idr,
                )
            case OfficerCertified():
                self.certificates[aggregate].append(
                    Certificate(payload.certified_on, payload.expires_on, i)
                )
            case RoundScheduled():
                self._scheduled(
                    i,
                    aggregate,
                    payload.programme,
                    payload.period,
                    payload.budget_id,
                    payload.poskos,
                )
            case RoundEndorsed():
                r = self.rounds.get(aggregate)
                if r is not None and r.endorsed_idx is None:
                    r.endorsed_idx = i
            case RoundClosed():
                self._closed(i, aggregate, payload.model_dump(), day)
            case AidAllocated():
                self._allocated(i, aggregate, payload, at, day, envelope.type)
            case AidReceived() | AidReceivedV1():
                self._received(i, aggregate, payload, at, day, envelope.type)
            case AidUndelivered() | AidUndeliveredV1():
                self._undelivered(i, aggregate, payload, day, envelope.type)
            # --- community ---
            case ComplaintFiled():
                refs = payload.references
                household = refs.household_id
                if household is None and refs.allocation_id in self.allocations:
                    household = self.allocations[refs.allocation_id].household_id
                self.complaints[aggregate] = ComplaintRecord(
                    payload.rw, payload.category, i, at, household
                )
                if household is not None:
                    self._about(household, i, envelope.type, day)
            case ComplaintAcknowledged():
                c = self.complaints.get(aggregate)
                if c is not None and c.acknowledged_idx is None:
                    c.acknowledged_idx, c.acknowledged_at = i, at
                self._about_complaint(aggregate, i, envelope.type, day)
            case ComplaintResolved():
                c = self.complaints.get(aggregate)
                if c is not None and c.resolved_idx is None:
                    c.resolved_idx, c.resolved_at = i, at
                self._about_complaint(aggregate, i, envelope.type, day)
            # --- training ---
            case CourseOpened():
                self.courses[aggregate] = CourseRecord(
                    frozenset(s.session_id for s in payload.sessions),
                    payload.completion_threshold_pct,
                    i,
                )
            case TraineeEnrolled():
                self.enrolments[payload.enrolment_id] = EnrolmentRecord(
                    aggregate, payload.household_id, payload.rw
                )
                self._about(payload.household_id, i, envelope.type, day)
            case AttendanceRecorded():
                e = self.enrolments.get(payload.enrolment_id)
                if e is not None:
                    if payload.present:
                        e.attended[payload.session_id] = i
                    else:
                        e.attended.pop(payload.session_id, None)
                    self._about(e.household_id, i, envelope.type, day)
            case TrainingCompleted():
                self._completed(i, aggregate, payload, day, envelope.type)
            case WaitlistPromoted() | TraineeWithdrawn() | OutcomeRecorded():
                e = self.enrolments.get(payload.enrolment_id)
                if e is not None:
                    self._about(e.household_id, i, envelope.type, day)
            case _:
                if envelope.type == "audit.leaves_erased":
                    self.erasures += 1

    def _public(self, i: int, view: dict[str, Any]) -> None:
        """An erased or unreadable leaf: only what its public view shows."""
        self._tick_day(view.get("day"))
        kind = view.get("type")
        round_id = _uuid(view.get("round_id"))
        amount = view.get("amount_idr")
        rw = view.get("rw")
        if kind == "distribution.programme_budgeted":
            budget = _uuid(view.get("budget_id"))
            if budget is not None and isinstance(view.get("amount_idr"), int):
                self._budgeted(
                    i,
                    budget,
                    str(view.get("programme")),
                    str(view.get("period")),
                    int(view["amount_idr"]),
                    view.get("benefit_idr"),
                )
        elif kind == "distribution.round_scheduled" and round_id is not None:
            budget = _uuid(view.get("budget_id"))
            try:
                poskos = tuple(Posko.model_validate(p) for p in view.get("poskos") or ())
            except ValueError:
                poskos = ()
            if budget is not None:
                self._scheduled(
                    i, round_id, str(view.get("programme")), str(view.get("period")), budget, poskos
                )
        elif kind == "distribution.round_endorsed" and round_id in self.rounds:
            r = self.rounds[round_id]
            r.endorsed_idx = r.endorsed_idx if r.endorsed_idx is not None else i
        elif kind == "distribution.round_closed" and round_id is not None:
            self._closed(i, round_id, view, str(view.get("day")))
        elif round_id in self.rounds and isinstance(rw, str) and isinstance(amount, int):
            counts = self.rounds[round_id].rw(rw)
            if kind == "distribution.aid_allocated":
                counts.allocated += 1
                counts.allocated_idr += amount
                self._charge(i, self.rounds[round_id], amount, str(view.get("day")), None)
            elif kind == "distribution.aid_received":
                counts.received += 1
                counts.received_idr += amount
        elif kind == "distribution.aid_undelivered" and round_id in self.rounds:
            self.rounds[round_id].unattributed_undelivered += 1

    # --- registry and timelines --------------------------------------------------------------
    def _about(self, household: UUID, i: int, kind: str, day: str) -> None:
        self.about[household].append((i, kind, day))

    def _about_complaint(self, complaint: UUID, i: int, kind: str, day: str) -> None:
        c = self.complaints.get(complaint)
        if c is not None and c.household_id is not None:
            self._about(c.household_id, i, kind, day)

    # --- budgets and rounds ------------------------------------------------------------------
    def _budgeted(
        self,
        i: int,
        budget_id: UUID,
        programme: str,
        period: str,
        amount: int,
        benefit: Any,
    ) -> None:
        b = self.budgets.setdefault(budget_id, BudgetRecord(budget_id, programme, period))
        b.total_idr += amount
        b.indices.append(i)
        if isinstance(benefit, int) and b.benefit_idr is None:
            b.benefit_idr = benefit

    def _scheduled(
        self,
        i: int,
        round_id: UUID,
        programme: str,
        period: str,
        budget_id: UUID,
        poskos: tuple[Posko, ...],
    ) -> None:
        if round_id in self.rounds:
            return
        days: dict[str, list[tuple[str, date]]] = defaultdict(list)
        for p in poskos:
            days[p.rw].append((p.place, p.on))
        self.rounds[round_id] = RoundRecord(round_id, programme, period, budget_id, dict(days), i)

    def _closed(self, i: int, round_id: UUID, declared: dict[str, Any], day: str) -> None:
        r = self.rounds.get(round_id)
        if r is None or r.closed_idx is not None:
            return
        r.closed_idx, r.closed_day = i, day
        r.declared = {f: declared.get(f, "?") for f in CLOSURE_FIELDS}
        r.ledger_at_close = self.round_totals(r)
        r.eligible_at_close = {rw: n for rw, n in self.eligible_by_rw().items() if rw in r.poskos}
        wrong = [
            f
            for f in CLOSURE_FIELDS
            if isinstance(r.declared[f], int) and r.declared[f] != r.ledger_at_close[f]
        ]
        if wrong:
            said = ", ".join(f"{f} {r.declared[f]} vs ledger {r.ledger_at_close[f]}" for f in wrong)
            self._raise(
                "closure_mismatch",
                r,
                None,
                day,
                f"Round {r.round_id} closed with totals that differ from its entries: {said}",
                (r.scheduled_idx, i),
                (r.round_id,),
            )

    def round_totals(self, r: RoundRecord) -> dict[str, int]:
        c = r.counts.values()
        return {
            "allocated": sum(x.allocated for x in c),
            "received": sum(x.received for x in c),
            "undelivered": sum(x.undelivered for x in c) + r.unattributed_undelivered,
            "amount_allocated_idr": sum(x.allocated_idr for x in c),
            "amount_received_idr": sum(x.received_idr for x in c),
        }

    def eligible_by_rw(self) -> Counter[str]:
        return Counter(
            h.rw for h in self.households.values() if h.active and h.eligible and h.rw is not None
        )

    def _charge(
        self, i: int, r: RoundRecord, amount: int, day: str, allocation: UUID | None
    ) -> None:
        """A round's allocation charges its budget; going beyond is a finding, once."""
        b = self.budgets.get(r.budget_id)
        if b is None:
            b = self.budgets[r.budget_id] = BudgetRecord(r.budget_id, r.programme, r.period)
        b.allocated_idr += amount
        if b.allocated_idr > b.total_idr and not b.exceeded:
            b.exceeded = True
            self._raise(
                "budget_exceeded",
                r,
                None,
                day,
                f"Budget {b.budget_id} ({b.programme} {b.period}): {b.allocated_idr} IDR "
                f"allocated of {b.total_idr} IDR budgeted",
                (*b.indices, r.scheduled_idx, i),
                (b.budget_id,) + ((allocation,) if allocation else ()),
            )

    # --- allocations and hand-overs ----------------------------------------------------------
    def _allocated(
        self, i: int, aid: UUID, e: AidAllocated, at: datetime, day: str, kind: str
    ) -> None:
        self._about(e.household_id, i, kind, day)
        if aid in self.allocations:
            return  # the same allocation again: counted once
        a = AllocationRecord(
            aid, e.household_id, e.round_id, e.programme, e.rw, e.amount_idr, i, at
        )
        self.allocations[aid] = a
        h = self.households.get(e.household_id)
        r = self.rounds.get(e.round_id)
        if h is not None:
            h.first_allocated_at.setdefault(e.programme, at)
        if h is None or not h.eligible:
            said = "no eligibility decision" if h is None or h.eligible is None else "not eligible"
            basis = (h.decision_idx,) if h is not None and h.decision_idx is not None else ()
            self._raise(
                "allocation_not_eligible",
                r,
                a,
                day,
                f"Allocation {aid} to household {e.household_id}: {said} at that time",
                (*basis, i),
                (aid, e.household_id),
            )
        if h is not None and not h.active and h.deactivated_idx is not None:
            self._raise(
                "allocation_inactive_household",
                r,
                a,
                day,
                f"Allocation {aid} to household {e.household_id}, deactivated before",
                (h.deactivated_idx, i),
                (aid, e.household_id),
            )
        if r is None:
            return
        counts = r.rw(e.rw)
        counts.allocated += 1
        counts.allocated_idr += e.amount_idr
        if e.rw not in r.poskos:
            self._raise(
                "allocation_outside_round",
                r,
                a,
                day,
                f"Allocation {aid} in RW {e.rw}: round {r.round_id} has no posko there",
                (r.scheduled_idx, i),
                (aid, r.round_id),
            )
        b = self.budgets.get(r.budget_id)
        if b is not None and b.benefit_idr is not None and e.amount_idr != b.benefit_idr:
            self._raise(
                "amount_not_benefit",
                r,
                a,
                day,
                f"Allocation {aid}: {e.amount_idr} IDR, the budget's benefit is "
                f"{b.benefit_idr} IDR",
                (b.indices[0], i),
                (aid,),
            )
        self._charge(i, r, e.amount_idr, day, aid)

    def _received(
        self,
        i: int,
        aid: UUID,
        e: AidReceived | AidReceivedV1,
        at: datetime,
        day: str,
        kind: str,
    ) -> None:
        a = self.allocations.get(aid)
        round_id = e.round_id if isinstance(e, AidReceived) else a.round_id if a else None
        r = self.rounds.get(round_id) if round_id is not None else None
        rw = e.rw if isinstance(e, AidReceived) else a.rw if a else None
        amount = e.amount_idr if isinstance(e, AidReceived) else a.amount_idr if a else 0
        programme = e.programme if isinstance(e, AidReceived) else a.programme if a else None
        place = dict(rw=rw, programme=programme, round_id=round_id)
        if a is None:
            self._raise_at(
                "handover_without_allocation",
                place,
                r,
                day,
                f"Hand-over on allocation {aid}, which the ledger never allocated",
                (i,),
                (aid,),
            )
            if r is not None and rw is not None:
                r.rw(rw).received += 1
                r.rw(rw).received_idr += amount
        else:
            self._about(a.household_id, i, kind, day)
            if a.received_idx is not None:
                self._raise_at(
                    "handover_twice",
                    place,
                    r,
                    day,
                    f"Allocation {aid} handed over a second time",
                    (a.received_idx, i),
                    (aid, a.household_id),
                )
            else:
                if r is not None:
                    counts = r.rw(a.rw)
                    if a.status == "undelivered":  # not at home, visited again
                        counts.undelivered -= 1
                        counts.undelivered_idr -= a.amount_idr
                    counts.received += 1
                    counts.received_idr += a.amount_idr
                a.status, a.received_idx, a.received_at = "received", i, at
                self.by_receipt[i] = a
            h = self.households.get(a.household_id)
            if h is not None and not h.active and h.deactivated_idx is not None:
                self._raise_at(
                    "handover_after_deactivation",
                    place,
                    r,
                    day,
                    f"Allocation {aid} handed over after household {a.household_id} "
                    "was deactivated",
                    (a.idx, h.deactivated_idx, i),
                    (aid, a.household_id),
                )
            if isinstance(e, AidReceived):
                self.recipients[(a.round_id, e.recipient_commitment)].setdefault(a.household_id, i)
        self._hand_over_rules(i, aid, e, at, day, place, r)

    def _hand_over_rules(
        self,
        i: int,
        aid: UUID,
        e: AidReceived | AidReceivedV1,
        at: datetime,
        day: str,
        place: dict[str, Any],
        r: RoundRecord | None,
    ) -> None:
        received = _jakarta(e.received_at)
        received_day = received.date()
        if r is None:
            self._raise_at(
                "round_not_endorsed",
                place,
                r,
                day,
                f"Allocation {aid} handed over in a round the ledger never scheduled",
                (i,),
                (aid,),
            )
        else:
            if r.endorsed_idx is None:
                self._raise_at(
                    "round_not_endorsed",
                    place,
                    r,
                    day,
                    f"Allocation {aid} handed over before round {r.round_id} was endorsed",
                    (r.scheduled_idx, i),
                    (aid, r.round_id),
                )
            if r.closed_idx is not None:
                self._raise_at(
                    "handover_after_close",
                    place,
                    r,
                    day,
                    f"Allocation {aid} handed over after round {r.round_id} was closed",
                    (r.closed_idx, i),
                    (aid, r.round_id),
                )
            rw = place["rw"]
            days = {on for _, on in r.poskos.get(rw, ())} if rw else set()
            if received_day not in days:
                self._raise_at(
                    "outside_posko_day",
                    place,
                    r,
                    day,
                    f"Allocation {aid} handed over on {received_day}, not a posko day of "
                    f"RW {rw} in round {r.round_id}",
                    (r.scheduled_idx, i),
                    (aid, r.round_id),
                )
        certificates = self.certificates.get(e.officer_id, [])
        if not any(c.certified_on <= received_day <= c.expires_on for c in certificates):
            self._raise_at(
                "officer_not_certified",
                place,
                r,
                day,
                f"Officer {e.officer_id} held no certificate valid on {received_day} "
                f"(hand-over of allocation {aid})",
                (*(c.idx for c in certificates), i),
                (e.officer_id, aid),
            )
        if e.received_at < at - BACKDATING:
            self._raise_at(
                "backdated_receipt",
                place,
                r,
                day,
                f"Allocation {aid}: received on {received_day}, recorded on {day}",
                (i,),
                (aid,),
            )
        if not POSKO_HOURS[0] <= received.hour < POSKO_HOURS[1]:
            self._raise_at(
                "handover_at_night",
                place,
                r,
                day,
                f"Allocation {aid} handed over at {received:%H:%M} WIB",
                (i,),
                (aid,),
            )
        first = self.evidence.setdefault(e.evidence_sha256, i)
        if first != i:
            self._raise_at(
                "evidence_reused",
                place,
                r,
                day,
                f"Allocation {aid}: its evidence hash was used for an earlier hand-over",
                (first, i),
                (aid,),
            )
        self._two_places(i, aid, e, day, place, r)

    def _two_places(
        self,
        i: int,
        aid: UUID,
        e: AidReceived | AidReceivedV1,
        day: str,
        place: dict[str, Any],
        r: RoundRecord | None,
    ) -> None:
        """The officer's hand-overs just before and just after this one (by time), within
        an hour, at another place: a move between poskos. Only neighbours count, so an
        officer who stepped out to another posko once is one finding each way, not one per
        hand-over of the rest of the hour."""
        seen = self.hand_overs[e.officer_id]
        here = HandOver(e.received_at, _place(e.place), i)
        at = bisect.bisect_right(seen, e.received_at, key=lambda h: h.received_at)
        neighbours = seen[max(at - 1, 0) : at + 1]
        clashes = [
            h
            for h in neighbours
            if h.place != here.place and abs(h.received_at - e.received_at) <= TWO_PLACES
        ]
        if clashes:
            other = min(clashes, key=lambda h: (abs(h.received_at - e.received_at), h.idx))
            minutes = int(abs(other.received_at - e.received_at).total_seconds() // 60)
            self._raise_at(
                "officer_two_places",
                place,
                r,
                day,
                f"Officer {e.officer_id} handed over at two places {minutes} minutes apart",
                (other.idx, i),
                (e.officer_id, aid),
            )
        bisect.insort(seen, here, key=lambda h: h.received_at)

    def _undelivered(
        self, i: int, aid: UUID, e: AidUndelivered | AidUndeliveredV1, day: str, kind: str
    ) -> None:
        a = self.allocations.get(aid)
        if a is None:
            return
        self._about(a.household_id, i, kind, day)
        r = self.rounds.get(a.round_id)
        if a.status == "allocated":
            a.status = "undelivered"
            if r is not None:
                r.rw(a.rw).undelivered += 1
                r.rw(a.rw).undelivered_idr += a.amount_idr

    # --- training ----------------------------------------------------------------------------
    def _completed(
        self, i: int, course_id: UUID, e: TrainingCompleted, day: str, kind: str
    ) -> None:
        enrolment = self.enrolments.get(e.enrolment_id)
        course = self.courses.get(course_id)
        if enrolment is not None:
            self._about(enrolment.household_id, i, kind, day)
        if course is None or enrolment is None:
            return
        attended = {s: j for s, j in enrolment.attended.items() if s in course.sessions}
        held = len(course.sessions)
        pct = round(100 * len(attended) / held) if held else 0
        if pct < course.threshold_pct:
            self.raised.append(
                Finding(
                    "completion_without_attendance",
                    enrolment.rw,
                    None,
                    None,
                    None,
                    day,
                    f"Enrolment {e.enrolment_id} in course {course_id} completed with "
                    f"{pct} % attendance recorded; the course needs {course.threshold_pct} %",
                    tuple(sorted({course.opened_idx, *attended.values(), i})),
                    (e.enrolment_id, course_id),
                )
            )

    # --- findings ----------------------------------------------------------------------------
    def _raise(
        self,
        rule: str,
        r: RoundRecord | None,
        a: AllocationRecord | None,
        day: str,
        description: str,
        evidence: tuple[int, ...],
        subjects: tuple[UUID, ...],
    ) -> None:
        place = {
            "rw": a.rw if a else None,
            "programme": a.programme if a else r.programme if r else None,
            "round_id": a.round_id if a else r.round_id if r else None,
        }
        self._raise_at(rule, place, r, day, description, evidence, subjects)

    def _raise_at(
        self,
        rule: str,
        place: dict[str, Any],
        r: RoundRecord | None,
        day: str,
        description: str,
        evidence: tuple[int, ...],
        subjects: tuple[UUID, ...],
    ) -> None:
        self.raised.append(
            Finding(
                rule=rule,
                rw=place["rw"],
                programme=place["programme"],
                period=r.period if r else None,
                round_id=place["round_id"],
                day=day,
                description=description,
                evidence=tuple(sorted(set(evidence))),
                subjects=subjects,
            )
        )

    def findings(self) -> list[Finding]:
        """Every finding, in the order of the leaf that raised it (then by rule)."""
        if self._cache is None or self._cache[0] != self.size:
            found = [*self.raised, *self._nik_twice(), *self._late(), *self._collectors()]
            found.sort(key=lambda f: (f.evidence[-1], f.rule, f.evidence))
            self._cache = (self.size, found)
        return self._cache[1]

    def finding_counts(self) -> dict[str, int]:
        return dict(Counter(f.rule for f in self.findings()))

    def _nik_twice(self) -> list[Finding]:
        holders: dict[str, list[tuple[int, UUID, HouseholdRecord]]] = defaultdict(list)
        for hid, h in self.households.items():
            if h.active:
                for nik, idx in h.members.items():
                    holders[nik].append((idx, hid, h))
        found = []
        for held in holders.values():
            if len(held) < 2:
                continue
            held.sort(key=lambda x: x[0])
            ids = tuple(hid for _, hid, _ in held)
            found.append(
                Finding(
                    "nik_in_two_households",
                    held[-1][2].rw,
                    None,
                    None,
                    None,
                    self._day_of_index(held[-1][1], held[-1][0]),
                    f"One member's NIK in {len(held)} active households: "
                    + ", ".join(str(h) for h in ids),
                    tuple(sorted(idx for idx, _, _ in held)),
                    ids,
                )
            )
        return found

    def _day_of_index(self, household: UUID, idx: int) -> str:
        for i, _, day in self.about.get(household, ()):
            if i == idx:
                return day
        return ""

    def _late(self) -> list[Finding]:
        """Complaints acknowledged or resolved late, or open past a deadline by the latest
        leaf's time."""
        found = []
        now = self.now
        for cid, c in self.complaints.items():
            ack_days, resolve_days = SLA_DAYS.get(c.category, DEFAULT_SLA_DAYS)
            ack_by = c.filed_at + timedelta(days=ack_days)
            resolve_by = c.filed_at + timedelta(days=resolve_days)
            acknowledged = c.acknowledged_at or c.resolved_at  # resolving acknowledges too
            missed: list[str] = []
            when: datetime | None = None
            if acknowledged is not None and acknowledged > ack_by:
                missed.append(f"acknowledged after {ack_days} days")
                when = acknowledged
            elif acknowledged is None and now is not None and now > ack_by:
                missed.append(f"not acknowledged within {ack_days} days")
                when = ack_by
            if c.resolved_at is not None and c.resolved_at > resolve_by:
                missed.append(f"resolved after {resolve_days} days")
                when = c.resolved_at
            elif c.resolved_at is None and now is not None and now > resolve_by:
                missed.append(f"not resolved within {resolve_days} days")
                when = resolve_by
            if not missed or when is None:
                continue
            evidence = (c.filed_idx, c.acknowledged_idx, c.resolved_idx)
            found.append(
                Finding(
                    "complaint_past_sla",
                    c.rw,
                    None,
                    None,
                    None,
                    day_of(when.astimezone(UTC)),
                    f"Complaint {cid} ({c.category}): " + "; ".join(missed),
                    tuple(sorted(i for i in evidence if i is not None)),
                    (cid,),
                )
            )
        return found

    def _collectors(self) -> list[Finding]:
        found = []
        for (round_id, _), households in self.recipients.items():
            if len(households) < MANY_HOUSEHOLDS:
                continue
            r = self.rounds.get(round_id)
            indices = tuple(sorted(households.values()))
            last = self.by_receipt.get(indices[-1])
            found.append(
                Finding(
                    "recipient_many_households",
                    last.rw if last else None,
                    r.programme if r else None,
                    r.period if r else None,
                    round_id,
                    self._receipt_day(last),
                    f"One recipient collected for {len(households)} households in round "
                    f"{round_id}: " + ", ".join(str(h) for h in households),
                    indices,
                    tuple(households),
                )
            )
        return found

    @staticmethod
    def _receipt_day(a: AllocationRecord | None) -> str:
        return day_of(a.received_at) if a and a.received_at else ""

    # --- bureaucracy times -------------------------------------------------------------------
    def times(self) -> list[StepTime]:
        if self._times is None or self._times[0] != self.size:
            self._times = (self.size, step_times(self._steps()))
        return self._times[1]

    def _steps(self) -> list[Step]:
        steps = []

        def step(name: str, rw: str, programme: str | None, start: Any, end: Any) -> None:
            if start is not None and end is not None and end >= start:
                steps.append(Step(name, rw, programme, start, end))

        for h in self.households.values():
            if h.rw is None:
                continue
            survey = h.first_survey_at
            step("registered_to_surveyed", h.rw, None, h.registered_at, survey)
            step("surveyed_to_eligible", h.rw, None, survey, h.first_eligible_at)
            step("registered_to_eligible", h.rw, None, h.registered_at, h.first_eligible_at)
            for programme, at in h.first_allocated_at.items():
                step("eligible_to_allocated", h.rw, programme, h.first_eligible_at, at)
        for a in self.allocations.values():
            step("allocated_to_received", a.rw, a.programme, a.at, a.received_at)
        for c in self.complaints.values():
            acknowledged = c.acknowledged_at or c.resolved_at  # resolving acknowledges too
            step("complaint_filed_to_acknowledged", c.rw, None, c.filed_at, acknowledged)
            step("complaint_filed_to_resolved", c.rw, None, c.filed_at, c.resolved_at)
        return steps
