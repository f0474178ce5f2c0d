"""Hand-overs in the oversight fold: an allocation received (counted once, in its round's
figures) and the rules a hand-over is judged by as it is folded: its allocation, its round
(endorsed, open, a posko day), the officer's certificate, backdating, night hours, reused
evidence, and one officer at two places within the hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.audit.domain.oversight.records import HandOver, RoundRecord
from services.audit.domain.oversight.state import Leaf, State
from shared.clock import JAKARTA
from shared.events.distribution import AidReceived, AidReceivedV1

BACKDATING = timedelta(days=2)  # received_at this much before it was recorded
TWO_PLACES = timedelta(hours=1)  # one officer, two places, within this
POSKO_HOURS = (6, 20)  # WIB: a hand-over outside [06:00, 20:00) is at night


def _jakarta(moment: datetime) -> datetime:
    return moment.astimezone(JAKARTA)


def _place(text: str) -> str:
    """Places typed by officers compare without case and spacing."""
    return " ".join(text.casefold().split())


def received(s: State, leaf: Leaf, e: AidReceived | AidReceivedV1) -> None:
    i, aid, day = leaf.index, leaf.aggregate, leaf.day
    a = s.allocations.get(aid)
    round_id = e.round_id if isinstance(e, AidReceived) else a.round_id if a else None
    r = s.rounds.get(round_id) if round_id is not None else None
    rw = e.rw if isinstance(e, AidReceived) else a.rw if a else None
    amount = e.amount_idr if isinstance(e, AidReceived) else a.amount_idr if a else 0
    programme = e.programme if isinstance(e, AidReceived) else a.programme if a else None
    place = dict(rw=rw, programme=programme, round_id=round_id)
    if a is None:
        s.raise_at(
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
        s.on_timeline(a.household_id, leaf)
        if a.received_idx is not None:
            s.raise_at(
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
            a.status, a.received_idx, a.received_at = "received", i, leaf.at
            s.allocations.put(a)
        h = s.households.get(a.household_id)
        if h is not None and not h.active and h.deactivated_idx is not None:
            s.raise_at(
                "handover_after_deactivation",
                place,
                r,
                day,
                f"Allocation {aid} handed over after household {a.household_id} was deactivated",
                (a.idx, h.deactivated_idx, i),
                (aid, a.household_id),
            )
        if isinstance(e, AidReceived):
            s.allocations.collected(a.round_id, e.recipient_commitment, a.household_id, i)
    _rules(s, leaf, e, place, r)


def _rules(
    s: State,
    leaf: Leaf,
    e: AidReceived | AidReceivedV1,
    place: dict[str, Any],
    r: RoundRecord | None,
) -> None:
    i, aid, day = leaf.index, leaf.aggregate, leaf.day
    wib = _jakarta(e.received_at)
    received_day = wib.date()
    if r is None:
        s.raise_at(
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
            s.raise_at(
                "round_not_endorsed",
                place,
                r,
                day,
                f"Allocation {aid} handed over before round {r.round_id} was endorsed",
                (r.scheduled_idx, i),
                (aid, r.round_id),
            )
        if r.closed_idx is not None:
            s.raise_at(
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
            s.raise_at(
                "outside_posko_day",
                place,
                r,
                day,
                f"Allocation {aid} handed over on {received_day}, not a posko day of "
                f"RW {rw} in round {r.round_id}",
                (r.scheduled_idx, i),
                (aid, r.round_id),
            )
    certificates = s.certificates.get(e.officer_id, [])
    if not any(c.certified_on <= received_day <= c.expires_on for c in certificates):
        s.raise_at(
            "officer_not_certified",
            place,
            r,
            day,
            f"Officer {e.officer_id} held no certificate valid on {received_day} "
            f"(hand-over of allocation {aid})",
            (*(c.idx for c in certificates), i),
            (e.officer_id, aid),
        )
    if e.received_at < leaf.at - BACKDATING:
        s.raise_at(
            "backdated_receipt",
            place,
            r,
            day,
            f"Allocation {aid}: received on {received_day}, recorded on {day}",
            (i,),
            (aid,),
        )
    if not POSKO_HOURS[0] <= wib.hour < POSKO_HOURS[1]:
        s.raise_at(
            "handover_at_night",
            place,
            r,
            day,
            f"Allocation {aid} handed over at {wib:%H:%M} WIB",
            (i,),
            (aid,),
        )
    first = s.allocations.first_use(e.evidence_sha256, i)
    if first != i:
        s.raise_at(
            "evidence_reused",
            place,
            r,
            day,
            f"Allocation {aid}: its evidence hash was used for an earlier hand-over",
            (first, i),
            (aid,),
        )
    _two_places(s, leaf, e, place, r)


def _two_places(
    s: State,
    leaf: Leaf,
    e: AidReceived | AidReceivedV1,
    place: dict[str, Any],
    r: RoundRecord | None,
) -> None:
    """The officer's hand-overs just before and just after this one (by time), within
    an hour, at another place: a move between poskos. Only neighbours count, so an
    officer who stepped out to another posko once is one finding each way, not one per
    hand-over of the rest of the hour."""
    here = HandOver(e.received_at, _place(e.place), leaf.index)
    neighbours = s.allocations.neighbours(e.officer_id, e.received_at)
    clashes = [
        h
        for h in neighbours
        if h.place != here.place and abs(h.received_at - e.received_at) <= TWO_PLACES
    ]
    if clashes:
        other = min(clashes, key=lambda h: (abs(h.received_at - e.received_at), h.idx))
        minutes = int(abs(other.received_at - e.received_at).total_seconds() // 60)
        s.raise_at(
            "officer_two_places",
            place,
            r,
            leaf.day,
            f"Officer {e.officer_id} handed over at two places {minutes} minutes apart",
            (other.idx, leaf.index),
            (e.officer_id, leaf.aggregate),
        )
    s.allocations.handed_over(e.officer_id, here)
