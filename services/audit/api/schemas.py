"""What the ledger's API takes and answers: a model for every JSON reply, with the field
names and shapes that verifiers and witnesses (`bansos verify`, `bansos witness`) read.
Hashes, salts and contents are standard base64; the plain-text checkpoint has no model.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.audit.domain.erasure import Target
from services.audit.domain.leaf import Kind
from services.audit.errors import ONE_TARGET_REQUIRED
from shared.domain import DomainError
from shared.events.audit import LegalBasis


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- requests ------------------------------------------------------------------------------
class CosignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tree_size: int = Field(ge=0, le=2**53 - 1, description="the checkpoint's tree size")
    cosignature: str = Field(
        min_length=1, max_length=400, description="one signature line: '— <name> <base64>'"
    )


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    legal_basis: LegalBasis
    reference: str = Field(
        min_length=1, max_length=200, description="the request's reference, e.g. a letter number"
    )
    household_id: UUID | None = None
    aggregate_id: UUID | None = None

    def target(self) -> tuple[Target, UUID]:
        """Exactly one of household_id and aggregate_id, or 422 `one_target_required`."""
        if (self.household_id is None) == (self.aggregate_id is None):
            raise DomainError(
                ONE_TARGET_REQUIRED,
                "give exactly one of household_id and aggregate_id",
                field="household_id",
            )
        if self.household_id is not None:
            return "household", self.household_id
        assert self.aggregate_id is not None
        return "aggregate", self.aggregate_id


# --- entries, proofs, search ---------------------------------------------------------------
class LeafOut(BaseModel):
    """A leaf as the public sees it. `public` and `sealed` are read from the stored leaf
    bytes (null if those no longer parse: the verifier judges `leaf_data`)."""

    index: int
    stream_seq: int
    subject: str
    public: Any = Field(description="the event's public view (a JSON object)")
    sealed: Any = Field(description="hex SHA-256(salt || content)")
    leaf_hash: str


class EntryOut(LeafOut):
    leaf_data: str = Field(description="exactly the stored leaf bytes")


class EntriesOut(BaseModel):
    entries: list[EntryOut]
    tree_size: int
    next: int | None = Field(description="`start` of the next page; null on the last")


class SearchOut(BaseModel):
    entries: list[LeafOut]
    next_cursor: str | None


class InclusionProofOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str] = Field(description="RFC 9162 inclusion proof, leaf to root")


class ConsistencyOut(BaseModel):
    first: int
    second: int
    hashes: list[str] = Field(description="RFC 9162 consistency proof")


class StatsOut(BaseModel):
    tree_size: int
    last_stream_seq: int
    checkpoint_size: int | None
    checkpoint_signed_at: datetime | None
    unparseable_leaves: int


# --- checkpoints and witnesses -------------------------------------------------------------
class CosignatureSeen(BaseModel):
    witness: str
    timestamp: int


class CheckpointOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str
    note: str = Field(description="the signed note with the cosignature lines held")
    signed_at: datetime
    cosignatures: list[CosignatureSeen]


class PublicKeyOut(BaseModel):
    key_name: str
    algorithm: Literal["ed25519"]
    public_key: str
    vkey: str
    origin: str


class WitnessOut(BaseModel):
    name: str
    vkey: str


class WitnessesOut(BaseModel):
    witnesses: list[WitnessOut]


class CosignatureOut(BaseModel):
    tree_size: int
    witness: str
    timestamp: int


# --- sealed openings (auditors) ------------------------------------------------------------
class OpeningOut(BaseModel):
    index: int
    kind: Kind
    salt: str
    content: str = Field(description="exactly the bytes the commitment covers")
    envelope: dict[str, Any] | None = Field(description="the content parsed; null if raw")


class OpenedOut(BaseModel):
    erased: Literal[False]
    index: int
    kind: Kind
    salt: str
    content: str
    envelope: dict[str, Any] | None


class ErasedOut(BaseModel):
    index: int
    erased: Literal[True]
    erasure_id: UUID | None


class OpeningsOut(BaseModel):
    entries: list[OpenedOut | ErasedOut]
    tree_size: int
    next: int | None


# --- erasures ------------------------------------------------------------------------------
class ErasureOut(BaseModel):
    erasure_id: UUID
    leaves: int
    indices: list[int]
