"""What a ledger leaf is (docs/architecture.md#the-ledger). Pure: message bytes and a salt in, leaf
bytes and
the private store's row out.

A leaf shows the public an event's public view and commits to the whole event:

    leaf_data = JCS({"public": P, "sealed": hex(SHA-256(salt || C)), "stream_seq", "subject"})

C, the content, is the RFC 8785 form of the envelope received (or, for a message that is
not a valid event, its raw bytes, with the public view `{"unparseable": true, "size"}`).
The salt (32 random bytes per leaf) and C go to the private store; without them the
commitment cannot be opened, so erasing them erases the event and leaves the tree intact.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import orjson

from shared.events import Envelope, canonical_json, public_view, unparseable_view
from shared.merkle import leaf_hash

SALT_BYTES = 32
Kind = Literal["envelope", "raw"]
# The private store's search columns: event_id, type, aggregate_id, actor, occurred_at.
NO_SEARCH_FIELDS: tuple[Any, ...] = (None,) * 5


@dataclass(slots=True)
class Leaf:
    """Only what is stored: the parsed envelope is dropped at once (a batch of leaves
    waiting to be written would otherwise keep thousands of objects alive for the GC).
    Not frozen: a frozen dataclass's __init__ costs 2 µs more per leaf, on the hot path;
    nothing changes a leaf once made."""

    stream_seq: int
    subject: str
    data: bytes  # leaf_data: public from here on …
    hash: bytes
    day: str | None  # the public view's day (Jakarta); None for a flagged leaf
    salt: bytes  # … private from here on
    content: bytes
    search: tuple[Any, ...] = NO_SEARCH_FIELDS
    reason: str | None = None  # why it could not be parsed; None for an envelope
    receipt: str | None = None  # an aid_received's receipt commitment, for cek bansos

    @property
    def unparseable(self) -> bool:
        return self.reason is not None

    @property
    def kind(self) -> Kind:
        return "raw" if self.reason is not None else "envelope"

    @property
    def type(self) -> str | None:
        kind: str | None = self.search[1]
        return kind


def sealed(salt: bytes, content: bytes) -> str:
    """The commitment a leaf shows: hex SHA-256(salt || content)."""
    return hashlib.sha256(salt + content).hexdigest()


def leaf_data(public: dict[str, Any], seal: str, stream_seq: int, subject: str) -> bytes:
    return _splice(canonical_json(public), seal, stream_seq, subject)


def _splice(public: bytes, seal: str, stream_seq: int, subject: str) -> bytes:
    # Keys sort as public < sealed < stream_seq < subject, so the canonical leaf is a
    # splice of canonical parts (RFC 8785 §3.2.3 sorts the keys of the outer object only).
    return b"".join(
        (
            b'{"public":',
            public,
            b',"sealed":"',
            seal.encode(),
            b'","stream_seq":',
            str(stream_seq).encode(),
            b',"subject":',
            _subject_json(subject),
            b"}",
        )
    )


@lru_cache(maxsize=4096)
def _subject_json(subject: str) -> bytes:
    return canonical_json(subject)  # a few dozen subjects, each encoded once


def make_leaf(stream_seq: int, subject: str, raw: bytes, salt: bytes) -> Leaf:
    """One message, one leaf: never an error, so one bad message cannot stall the ledger."""
    try:
        received = orjson.loads(raw)  # strict RFC 8259: no NaN, no 65-bit integers
        if type(received) is not dict:
            raise ValueError("an envelope is a JSON object")
        envelope = Envelope.model_validate(received)
        public = public_view(envelope)  # validates the payload too (typed()), once
        content = canonical_json(received)  # refuses what RFC 8785 cannot represent
        shown = canonical_json(public)  # and so is a view it cannot write
    except Exception as exc:  # anything at all: the message still becomes a leaf, flagged
        data = leaf_data(unparseable_view(raw), sealed(salt, raw), stream_seq, subject)
        reason = str(exc)[:500] or type(exc).__name__
        return Leaf(stream_seq, subject, data, leaf_hash(data), None, salt, raw, reason=reason)
    data = _splice(shown, sealed(salt, content), stream_seq, subject)
    e = envelope
    search = (e.event_id, e.type, e.aggregate_id, e.actor, e.occurred_at)
    return Leaf(
        stream_seq,
        subject,
        data,
        leaf_hash(data),
        public["day"],
        salt,
        content,
        search,
        receipt=receipt_commitment(e.type, received),
    )


RECEIPTS_IN = "distribution.aid_received"


def receipt_commitment(type_: str, envelope: dict[str, Any]) -> str | None:
    """The receipt commitment a valid hand-over carries (version 1 carried none): the
    key by which a resident's receipt code finds its leaf (cek bansos)."""
    if type_ != RECEIPTS_IN:
        return None
    found = envelope.get("payload", {}).get("receipt_commitment")
    return found if isinstance(found, str) else None


def make_leaves(messages: Sequence[tuple[int, str, bytes]]) -> list[Leaf]:
    """Leaves of (stream_seq, subject, raw) messages, with fresh salts drawn in one go."""
    salts = os.urandom(SALT_BYTES * len(messages))
    return [
        make_leaf(seq, subject, raw, salts[i * SALT_BYTES : (i + 1) * SALT_BYTES])
        for i, (seq, subject, raw) in enumerate(messages)
    ]
