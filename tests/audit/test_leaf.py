"""Leaves (DESIGN §6): the canonical bytes of {event, stream_seq, subject}, whatever the
bytes on the bus looked like; anything else becomes a flagged leaf, never an error."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
import rfc8785

from services.audit.domain import make_leaf
from shared.events import Envelope
from shared.events.registry import HouseholdDeactivated
from shared.merkle import leaf_hash

SUBJECT = "bansos.registry.household_deactivated"


def envelope(note: str = "pindah ke Depok — RT 003") -> Envelope:
    return Envelope.wrap(
        HouseholdDeactivated(reason="moved", note=note),
        aggregate_id=uuid4(),
        aggregate_version=2,
        actor="operator-1",
    )


def reference_leaf(seq: int, raw: bytes) -> bytes:
    """Straight from the definition, with the reference RFC 8785 encoder."""
    return rfc8785.dumps({"event": json.loads(raw), "stream_seq": seq, "subject": SUBJECT})


def test_a_canonical_envelope_becomes_its_reference_leaf() -> None:
    e = envelope()
    leaf = make_leaf(41, SUBJECT, e.canonical())
    assert leaf.data == reference_leaf(41, e.canonical())
    assert leaf.hash == leaf_hash(leaf.data)
    assert not leaf.unparseable
    assert leaf.search == (e.event_id, e.type, e.aggregate_id, e.actor, e.occurred_at)


def test_a_non_canonical_envelope_is_canonicalised() -> None:
    e = envelope()
    reordered = dict(reversed(list(e.to_json().items())))
    spaced = json.dumps(reordered, indent=2, ensure_ascii=True).encode()
    assert spaced != e.canonical()
    assert make_leaf(7, SUBJECT, spaced).data == make_leaf(7, SUBJECT, e.canonical()).data


@pytest.mark.parametrize(
    "raw",
    [
        b"\xffnot json",
        b"[1, 2]",
        b'{"type": "registry.household_deactivated"}',
        b"NaN",
    ],
)
def test_what_is_not_an_envelope_becomes_a_flagged_leaf(raw: bytes) -> None:
    leaf = make_leaf(3, SUBJECT, raw)
    assert leaf.unparseable and leaf.reason
    assert json.loads(leaf.data)["unparseable"] is True
    assert leaf.search == (None,) * 5


def test_an_integer_beyond_rfc8785_flags_the_leaf() -> None:
    event = envelope().to_json()
    event["aggregate_version"] = 2**60  # valid JSON and a valid int, not I-JSON
    leaf = make_leaf(5, SUBJECT, json.dumps(event).encode())
    assert leaf.unparseable
