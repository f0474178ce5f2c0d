"""What cek bansos takes and answers (the public page's only JSON route).

The reply shows what was handed over and the proof that it is in the ledger, and nothing
that names the household: no household or allocation id, no NIK or its commitment, no
receipt commitment, no GPS, no time finer than a day.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.audit.api.schemas import CheckpointOut
from shared.pii import code_pattern

# The code distribution prints at hand-over (services/distribution/handlers.py).
RECEIPT_CODE = code_pattern("BT", 3)


class ReceiptCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        max_length=40,
        pattern=RECEIPT_CODE,
        description="the receipt code printed at hand-over, BT-XXXX-XXXX-XXXX",
        examples=["BT-7K3M-9QXP-4D2A"],
    )

    @field_validator("code", mode="before")
    @classmethod
    def _as_typed(cls, value: Any) -> Any:
        # Read out over the phone or typed on one: spaces and small letters are fine.
        return value.strip().upper() if isinstance(value, str) and len(value) <= 40 else value


class PackageItemOut(BaseModel):
    name: str
    quantity: int
    unit: str


class HandedOverOut(BaseModel):
    programme: str
    period: str | None
    rw: str
    amount_idr: int
    day: str = Field(description="the hand-over's day (Jakarta), YYYY-MM-DD")
    place: str | None = Field(description="the round's posko in the RW, where known")
    package: list[PackageItemOut] = Field(description="the sembako package, if any")
    round_id: str


class ProofOut(BaseModel):
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str] = Field(description="RFC 9162 inclusion proof, leaf to root")


class ReceiptOut(BaseModel):
    handed_over: HandedOverOut
    index: int = Field(description="the leaf's index in the ledger")
    leaf_data: str = Field(description="the leaf's bytes, base64: its public view inside")
    proof: ProofOut = Field(description="from the leaf to the checkpoint's root")
    checkpoint: CheckpointOut = Field(description="the latest witness-cosigned one, if any")
