"""Audit events: the ledger records its own erasures (docs/architecture.md#the-ledger, UU 27/2022
right to deletion)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload

LegalBasis = Literal[
    "data_subject_request",  # the person asked (UU 27/2022 art. 8)
    "court_order",
    "retention_expired",
    "unlawfully_processed",
]


class LeavesErased(EventPayload):
    """The salts and envelopes of some leaves were deleted: the leaves, the tree and every
    proof stay; those commitments can no longer be opened. Which leaves is sealed (they
    would link one household's events); the public sees that an erasure happened, on which
    basis and how many leaves it touched."""

    event_type = "audit.leaves_erased"
    aggregate_type = "erasure"

    legal_basis: LegalBasis
    reference_commitment: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="salted HMAC of the request's reference"
    )
    target: Literal["household", "aggregate"]
    indices: tuple[int, ...] = Field(max_length=1_000_000)

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"legal_basis": self.legal_basis, "leaves": len(self.indices)}
