"""The verification with recipients' part of the oversight fold (issue 15): a sampled
recipient told a community facilitator that the aid did not arrive, was not in full, cost
them a payment (pungli) or came without respect. Judged as its leaf is folded; the
finding is placed by the allocation the verification is about (its aggregate)."""

from __future__ import annotations

from services.audit.domain.oversight.state import Leaf, State
from shared.events import EventPayload
from shared.events.community_verification import VerificationRecorded

SAID = {
    "not_received": "not received",
    "not_full": "not in full",
    "asked_to_pay": "asked to pay",
    "disrespect": "treated without respect",
}


def fold(s: State, leaf: Leaf, payload: EventPayload) -> None:
    if not isinstance(payload, VerificationRecorded) or not payload.discrepancies:
        return
    allocation = s.allocations.get(leaf.aggregate)
    evidence = [leaf.index]
    if allocation is not None:
        evidence.append(
            allocation.received_idx if allocation.received_idx is not None else allocation.idx
        )
        s.on_timeline(allocation.household_id, leaf)
    said = ", ".join(SAID[d] for d in payload.discrepancies)
    place = {
        "rw": payload.rw,
        "programme": allocation.programme if allocation else None,
        "round_id": payload.round_id,
    }
    s.raise_at(
        "verification_discrepancy",
        place,
        s.rounds.get(payload.round_id),
        leaf.day,
        f"Verification of allocation {leaf.aggregate} with its recipient: {said}",
        tuple(evidence),
        (leaf.aggregate,),
    )
