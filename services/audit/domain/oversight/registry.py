"""The registry's part of the oversight fold: households, their members, eligibility and
deactivation, and the rule judged on them as a whole (a NIK in two active households)."""

from __future__ import annotations

from collections import Counter, defaultdict
from uuid import UUID

from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.records import HouseholdRecord
from services.audit.domain.oversight.state import Leaf, State
from shared.events import EventPayload
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
    SurveyRecorded,
)


def fold(s: State, leaf: Leaf, payload: EventPayload) -> None:
    i, at = leaf.index, leaf.at
    match payload:
        case HouseholdRegistered():
            h = _household(s, leaf)
            h.rw, h.registered_at = payload.rw, at
            for m in payload.members:
                h.members.setdefault(bytes.fromhex(m.nik_commitment), i)
        case MemberAdded():
            h = _household(s, leaf)
            h.members.setdefault(bytes.fromhex(payload.member.nik_commitment), i)
        case HouseholdUpdated():
            h = _household(s, leaf)
            h.rw = payload.rw or h.rw
        case SurveyRecorded():
            h = _household(s, leaf)
            h.first_survey_at = h.first_survey_at or at
        case EligibilityDecided():
            h = _household(s, leaf)
            h.rw, h.eligible, h.decision_idx = payload.rw, payload.eligible, i
            if payload.eligible and h.first_eligible_at is None:
                h.first_eligible_at = at
        case HouseholdDeactivated():
            h = _household(s, leaf)
            h.active, h.deactivated_idx = False, i
        case _:
            return
    s.on_timeline(leaf.aggregate, leaf)


def _household(s: State, leaf: Leaf) -> HouseholdRecord:
    return s.households.setdefault(leaf.aggregate, HouseholdRecord())


def eligible_by_rw(s: State) -> Counter[str]:
    """Active, eligible households by RW: a round's budgeted households."""
    return Counter(
        h.rw for h in s.households.values() if h.active and h.eligible and h.rw is not None
    )


def nik_twice(s: State) -> list[Finding]:
    holders: dict[bytes, list[tuple[int, UUID, HouseholdRecord]]] = defaultdict(list)
    for hid, h in s.households.items():
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
                _day_of_index(s, held[-1][1], held[-1][0]),
                f"One member's NIK in {len(held)} active households: "
                + ", ".join(str(h) for h in ids),
                tuple(sorted(idx for idx, _, _ in held)),
                ids,
            )
        )
    return found


def _day_of_index(s: State, household: UUID, idx: int) -> str:
    for i, _, day in s.about.get(household, ()):
        if i == idx:
            return day
    return ""
