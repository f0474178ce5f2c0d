"""What a ledger leaf is (DESIGN §6). Pure: bytes in, leaf bytes and index fields out.

Leaf data is the RFC 8785 canonical JSON of `{"event", "stream_seq", "subject"}`, so a
leaf also proves where it sat in the stream. A message that is not a valid envelope still
becomes a leaf, flagged, with its raw bytes, so the ledger mirrors the stream exactly.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.events import Envelope, UnknownEventType, canonical_json
from shared.merkle import leaf_hash


@dataclass(frozen=True)
class Leaf:
    stream_seq: int
    subject: str
    data: bytes
    hash: bytes
    event: dict[str, Any] | None  # the envelope as JSON, None when unparseable
    envelope: Envelope | None
    reason: str | None = None  # why it could not be parsed

    @property
    def unparseable(self) -> bool:
        return self.envelope is None


def make_leaf(stream_seq: int, subject: str, raw: bytes) -> Leaf:
    floats: list[str] = []
    try:
        # One parse serves validation, the index fields and the canonical-bytes check.
        event = json.loads(raw, parse_float=lambda text: _note(floats, text))
        if not isinstance(event, dict):
            raise ValueError("an envelope is a JSON object")
        envelope = Envelope.model_validate(event)
        envelope.typed()
    except (ValueError, ValidationError, UnknownEventType) as exc:
        data = canonical_json(
            {
                "stream_seq": stream_seq,
                "subject": subject,
                "unparseable": True,
                "raw_base64": base64.b64encode(raw).decode(),
            }
        )
        return Leaf(stream_seq, subject, data, leaf_hash(data), None, None, str(exc)[:500])
    if not floats and _is_canonical(raw, event):
        # Keys sort as event < stream_seq < subject: splice the canonical bytes in.
        data = b"".join(
            (
                b'{"event":',
                raw,
                b',"stream_seq":',
                str(stream_seq).encode(),
                b',"subject":',
                json.dumps(subject, ensure_ascii=False).encode(),
                b"}",
            )
        )
    else:
        data = canonical_json({"stream_seq": stream_seq, "subject": subject, "event": event})
    return Leaf(stream_seq, subject, data, leaf_hash(data), event, envelope)


def _note(floats: list[str], text: str) -> float:
    floats.append(text)
    return float(text)


def _is_canonical(raw: bytes, event: dict[str, Any]) -> bool:
    """Without floats, and with keys that sort alike in UTF-16 and in code points, compact
    sorted json.dumps is exactly RFC 8785; then equal bytes mean `raw` is canonical."""
    if not (raw.isascii() or _ascii_keys(event)):
        return False
    compact = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return compact.encode() == raw


def _ascii_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(k.isascii() and _ascii_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_ascii_keys(v) for v in value)
    return True


def search_fields(leaf: Leaf) -> dict[str, Any]:
    """What oversight bodies search by; empty for unparseable leaves."""
    e = leaf.envelope
    if e is None:
        return {
            "event_id": None,
            "type": None,
            "aggregate_id": None,
            "actor": None,
            "occurred_at": None,
        }
    occurred: datetime = e.occurred_at
    return {
        "event_id": e.event_id,
        "type": e.type,
        "aggregate_id": e.aggregate_id,
        "actor": e.actor,
        "occurred_at": occurred,
    }
