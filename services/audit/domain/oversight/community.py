"""The community's part of the oversight fold: complaints (on the timeline of the household
they are about) and the rule judged on them as a whole, the SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.records import ComplaintRecord
from services.audit.domain.oversight.state import Leaf, State
from shared.events import EventPayload
from shared.events.community import ComplaintAcknowledged, ComplaintFiled, ComplaintResolved
from shared.events.public import day_of

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


def fold(s: State, leaf: Leaf, payload: EventPayload) -> None:
    i, at = leaf.index, leaf.at
    match payload:
        case ComplaintFiled():
            refs = payload.references
            household = refs.household_id
            allocation = s.allocations.get(refs.allocation_id) if household is None else None
            if allocation is not None:
                household = allocation.household_id
            s.complaints[leaf.aggregate] = ComplaintRecord(
                payload.rw, payload.category, i, at, household
            )
            if household is not None:
                s.on_timeline(household, leaf)
        case ComplaintAcknowledged():
            c = s.complaints.get(leaf.aggregate)
            if c is not None and c.acknowledged_idx is None:
                c.acknowledged_idx, c.acknowledged_at = i, at
            _on_timeline(s, leaf)
        case ComplaintResolved():
            c = s.complaints.get(leaf.aggregate)
            if c is not None and c.resolved_idx is None:
                c.resolved_idx, c.resolved_at = i, at
            _on_timeline(s, leaf)


def _on_timeline(s: State, leaf: Leaf) -> None:
    """A leaf about a complaint, on the timeline of the household it is about (if any)."""
    c = s.complaints.get(leaf.aggregate)
    if c is not None and c.household_id is not None:
        s.on_timeline(c.household_id, leaf)


def late(s: State) -> list[Finding]:
    """Complaints acknowledged or resolved late, or open past a deadline by the latest
    leaf's time."""
    found = []
    now = s.now
    for cid, c in s.complaints.items():
        missed, when = _missed(c, now)
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


def _missed(c: ComplaintRecord, now: datetime | None) -> tuple[list[str], datetime | None]:
    """The deadlines a complaint missed, and when it last missed one."""
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
    return missed, when
