"""What a ledger leaf is (DESIGN §6). Pure: bytes in, leaf bytes and index fields out.

Leaf data is the RFC 8785 canonical JSON of `{"event", "stream_seq", "subject"}`, so a
leaf also proves where it sat in the stream. A message that is not a valid envelope still
becomes a leaf, flagged, with its raw bytes, so the ledger mirrors the stream exactly.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from shared.events import Envelope, UnknownEventType, canonical_json
from shared.merkle import leaf_hash

SEARCH_FIELDS = ("event_id", "type", "aggregate_id", "actor", "occurred_at")
NO_SEARCH_FIELDS: tuple[Any, ...] = (None,) * len(SEARCH_FIELDS)


@dataclass(frozen=True, slots=True)
class Leaf:
    """Only what is stored: the parsed envelope is dropped at once (a batch of leaves
    waiting to be written would otherwise keep thousands of objects alive for the GC)."""

    stream_seq: int
    subject: str
    data: bytes
    hash: bytes
    search: tuple[Any, ...] = NO_SEARCH_FIELDS  # SEARCH_FIELDS values
    reason: str | None = None  # why it could not be parsed; None for an envelope

    @property
    def unparseable(self) -> bool:
        return self.reason is not None


def make_leaf(stream_seq: int, subject: str, raw: bytes) -> Leaf:
    try:
        event = orjson.loads(raw)  # strict RFC 8259: no NaN, no 65-bit integers
        if not isinstance(event, dict):
            raise ValueError("an envelope is a JSON object")
        e = Envelope.model_validate(event)
        e.typed()
        canonical = canonical_json(event)  # refuses what JCS cannot represent
    except (ValueError, ValidationError, UnknownEventType) as exc:
        data = canonical_json(
            {
                "stream_seq": stream_seq,
                "subject": subject,
                "unparseable": True,
                "raw_base64": base64.b64encode(raw).decode(),
            }
        )
        reason = str(exc)[:500] or type(exc).__name__
        return Leaf(stream_seq, subject, data, leaf_hash(data), reason=reason)
    # Keys sort as event < stream_seq < subject, so the canonical leaf is a splice.
    data = b"".join(
        (
            b'{"event":',
            canonical,
            b',"stream_seq":',
            str(stream_seq).encode(),
            b',"subject":',
            canonical_json(subject),
            b"}",
        )
    )
    search = (e.event_id, e.type, e.aggregate_id, e.actor, e.occurred_at)
    return Leaf(stream_seq, subject, data, leaf_hash(data), search)
