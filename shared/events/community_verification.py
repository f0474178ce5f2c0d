"""Community events of the verification with recipients (issue 15): a sample of a closed
round's hand-overs drawn from a signed ledger checkpoint, and what each sampled recipient
told a facilitator.

The sample's allocation ids stay sealed (a public list of them would name households);
the public sees the round, the checkpoint it was drawn from and its size, so anyone who
may open the sealed event recomputes it from the checkpoint's root. A verification's
public view shows the round, the RW and its outcome classes, never which household; the
facilitator's note is kept in the community's private store, the event carries its
commitment.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload

# What a verification found wrong, in the order a report lists them.
Discrepancy = Literal["not_received", "not_full", "asked_to_pay", "disrespect"]
# How much a recipient was asked to pay (pungli), in rupiah bands: never an exact amount.
PayBand = Literal["under_10k", "10k_50k", "50k_100k", "over_100k"]


class VerificationSampleDrawn(EventPayload):
    """The sample of a round: its aggregate is the round (one sample per round)."""

    event_type = "community.verification_sample_drawn"
    aggregate_type = "verification_sample"

    round_id: UUID
    origin: str = Field(max_length=200, description="the ledger's origin line")
    tree_size: int = Field(ge=1, description="of the signed checkpoint the sample is drawn from")
    root_hash: str = Field(
        pattern=r"^[A-Za-z0-9+/]{43}=$", description="the checkpoint's root, base64 as in the note"
    )
    population: int = Field(ge=1, description="the round's received hand-overs")
    k: int = Field(ge=1)
    allocation_ids: tuple[UUID, ...] = Field(description="the sample, in draw order (sealed)")

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {
            "round_id": self.round_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "k": self.k,
        }


class VerificationRecorded(EventPayload):
    """One sampled hand-over verified with its recipient: its aggregate is the allocation
    (one verification per hand-over)."""

    event_type = "community.verification_recorded"
    aggregate_type = "verification"

    round_id: UUID
    rw: str = Field(pattern=r"^\d{2}$")
    received: bool
    full: bool | None = Field(description="the full amount or package; none if not received")
    asked_to_pay: bool
    pay_band: PayBand | None = None
    respectful: bool
    discrepancies: tuple[Discrepancy, ...] = ()
    complaint_id: UUID | None = Field(default=None, description="the complaint a discrepancy filed")
    note_commitment: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # The round only: a verification is about one recipient, and "the one in RW 07 who
        # was asked to pay" singles her out among the ten sampled (every public fact of a
        # household must hold of ten others: tests/e2e/test_outsider_view.py). The answers
        # are public as counts per round and RW, small cells suppressed, at
        # GET /rounds/{id}/verification; auditors open the leaf.
        return {"round_id": self.round_id}
