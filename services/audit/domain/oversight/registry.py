"""The registry's part of the oversight fold: households, their members, eligibility and
deactivation, and the rule judged on them as a whole (a NIK in two active households)."""

from __future__ import annotations

from collections import Counter

from services.audit.domain.oversight.findings import Finding
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
    i, at, hid = leaf.index, leaf.at, leaf.aggregate
    match payload:
        case HouseholdRegistered():
            h = s.households.get_or_new(hid)
            h.rw, h.registered_at = payload.rw, at
            niks = [bytes.fromhex(m.nik_commitment) for m in payload.members]
            s.households.add_members(hid, niks, i)
        case MemberAdded():
            h = s.households.get_or_new(hid)
            s.households.add_members(hid, [bytes.fromhex(payload.member.nik_commitment)], i)
        case HouseholdUpdated():
            h = s.households.get_or_new(hid)
            h.rw = payload.rw or h.rw
        case SurveyRecorded():
            h = s.households.get_or_new(hid)
            h.first_survey_at = h.first_survey_at or at
        case EligibilityDecided():
            h = s.households.get_or_new(hid)
            h.rw, h.eligible, h.decision_idx = payload.rw, payload.eligible, i
            if payload.eligible and h.first_eligible_at is None:
                h.first_eligible_at = at
        case HouseholdDeactivated():
            h = s.households.get_or_new(hid)
            h.active, h.deactivated_idx = False, i
        case _:
            return
    s.households.put(hid, h)
    s.on_timeline(hid, leaf)


def eligible_by_rw(s: State) -> Counter[str]:
    """Active, eligible households by RW: a round's budgeted households."""
    return Counter(s.households.eligible_by_rw)


def nik_twice(s: State) -> list[Finding]:
    found = []
    for nik in s.households.shared_niks():
        held = s.households.active_holders(nik)
        if len(held) < 2:
            continue
        last_idx, last_hid, last_rw = held[-1]
        ids = tuple(hid for _, hid, _ in held)
        found.append(
            Finding(
                "nik_in_two_households",
                last_rw,
                None,
                None,
                None,
                s.households.day_of(last_hid, last_idx),
                f"One member's NIK in {len(held)} active households: "
                + ", ".join(str(h) for h in ids),
                tuple(sorted(idx for idx, _, _ in held)),
                ids,
            )
        )
    return found
