"""Leaves (docs/architecture.md#the-ledger): JCS of {public, sealed, stream_seq, subject}, the
public view shown
and the envelope sealed under a fresh salt, whatever the bytes on the bus looked like;
anything else becomes a flagged leaf, never an error."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import orjson
import pytest
import rfc8785

from services.audit.domain.leaf import SALT_BYTES, make_leaf, make_leaves
from shared.events import Envelope, public_view, unparseable_view
from shared.events.distribution import AidReceived
from shared.events.registry import HouseholdDeactivated
from shared.merkle import leaf_hash

SUBJECT = "bansos.registry.household_deactivated"
SALT = bytes(range(SALT_BYTES))
COMMITMENT = "ab" * 32


def envelope() -> Envelope:
    return Envelope.wrap(
        HouseholdDeactivated(reason="moved", note_commitment=COMMITMENT),
        aggregate_id=uuid4(),
        aggregate_version=2,
        actor="operator-1",
        actor_role="registry_operator",
    )


def reference_leaf(seq: int, raw: bytes, salt: bytes, subject: str = SUBJECT) -> bytes:
    """Straight from the definition, with the reference RFC 8785 encoder."""
    content = rfc8785.dumps(json.loads(raw))
    view = public_view(Envelope.model_validate_json(raw))
    return rfc8785.dumps(
        {
            "public": view,
            "sealed": hashlib.sha256(salt + content).hexdigest(),
            "stream_seq": seq,
            "subject": subject,
        }
    )


def test_a_canonical_envelope_becomes_its_reference_leaf() -> None:
    e = envelope()
    leaf = make_leaf(41, SUBJECT, e.canonical(), SALT)
    assert leaf.data == reference_leaf(41, e.canonical(), SALT)
    assert leaf.hash == leaf_hash(leaf.data)
    assert (leaf.content, leaf.salt, leaf.kind) == (e.canonical(), SALT, "envelope")
    assert not leaf.unparseable
    assert leaf.search == (e.event_id, e.type, e.aggregate_id, e.actor, e.occurred_at)
    shown = json.loads(leaf.data)
    assert list(shown) == ["public", "sealed", "stream_seq", "subject"]
    assert shown["public"] == public_view(e) and leaf.day == shown["public"]["day"]


def test_the_leaf_shows_no_sealed_field() -> None:
    e = envelope()
    leaf = make_leaf(1, SUBJECT, e.canonical(), SALT)
    for secret in (COMMITMENT, str(e.aggregate_id), str(e.event_id), e.actor):
        assert secret.encode() not in leaf.data
    assert json.loads(leaf.data)["public"]["actor_role"] == "registry_operator"


def test_a_non_canonical_envelope_is_sealed_in_its_canonical_form() -> None:
    e = envelope()
    reordered = dict(reversed(list(e.to_json().items())))
    spaced = json.dumps(reordered, indent=2, ensure_ascii=True).encode()
    assert spaced != e.canonical()
    leaf = make_leaf(7, SUBJECT, spaced, SALT)
    assert leaf.content == e.canonical()
    assert leaf.data == make_leaf(7, SUBJECT, e.canonical(), SALT).data


def test_floats_are_sealed_in_their_rfc8785_form() -> None:
    e = Envelope.wrap(
        AidReceived(
            round_id=uuid4(),
            programme="BLT",
            rw="03",
            amount_idr=600_000,
            officer_id=uuid4(),
            recipient_commitment=COMMITMENT,
            receipt_commitment=COMMITMENT,
            received_at=datetime(2026, 11, 30, 3, tzinfo=UTC),
            place="Posko RW 03",
            evidence_sha256=COMMITMENT,
            gps=(-6.3, 106.0),  # 106.0 is "106" in RFC 8785, "106.0" in plain JSON
        ),
        aggregate_id=uuid4(),
        aggregate_version=2,
        actor="officer-1",
    )
    raw = orjson.dumps(e.to_json())
    assert b"106.0" in raw
    leaf = make_leaf(9, "bansos.distribution.aid_received", raw, SALT)
    assert leaf.content == rfc8785.dumps(json.loads(raw))
    assert leaf.data == reference_leaf(9, raw, SALT, "bansos.distribution.aid_received")
    assert b"-6.3" not in leaf.data  # GPS is sealed, not shown


def test_every_leaf_of_a_batch_gets_its_own_salt() -> None:
    raw = envelope().canonical()
    leaves = make_leaves([(seq, SUBJECT, raw) for seq in range(1, 101)])
    salts = {leaf.salt for leaf in leaves}
    assert len(salts) == 100 and {len(s) for s in salts} == {SALT_BYTES}
    assert len({json.loads(leaf.data)["sealed"] for leaf in leaves}) == 100
    for leaf in leaves:
        assert json.loads(leaf.data)["sealed"] == hashlib.sha256(leaf.salt + raw).hexdigest()


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
    leaf = make_leaf(3, SUBJECT, raw, SALT)
    assert leaf.unparseable and leaf.reason and leaf.kind == "raw"
    assert (leaf.content, leaf.day, leaf.type) == (raw, None, None)
    assert leaf.search == (None,) * 5
    assert leaf.data == rfc8785.dumps(
        {
            "public": unparseable_view(raw),
            "sealed": hashlib.sha256(SALT + raw).hexdigest(),
            "stream_seq": 3,
            "subject": SUBJECT,
        }
    )


def test_an_unknown_event_type_or_version_flags_the_leaf() -> None:
    event = envelope().to_json()
    event["schema_version"] = 99
    assert make_leaf(5, SUBJECT, json.dumps(event).encode(), SALT).unparseable


def test_an_integer_beyond_rfc8785_flags_the_leaf() -> None:
    event = envelope().to_json()
    event["aggregate_version"] = 2**60  # valid JSON and a valid int, not I-JSON
    leaf = make_leaf(5, SUBJECT, json.dumps(event).encode(), SALT)
    assert leaf.unparseable


def test_a_public_view_that_raises_flags_the_leaf(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, aggregate_id: Any) -> dict[str, Any]:
        raise RuntimeError("a view that fails")

    monkeypatch.setattr(HouseholdDeactivated, "public", broken)
    leaf = make_leaf(5, SUBJECT, envelope().canonical(), SALT)
    assert leaf.unparseable and "a view that fails" in (leaf.reason or "")


def test_a_public_view_rfc8785_cannot_write_flags_the_leaf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(HouseholdDeactivated, "public", lambda self, _: {"ratio": float("nan")})
    leaf = make_leaf(5, SUBJECT, envelope().canonical(), SALT)
    assert leaf.unparseable and json.loads(leaf.data)["public"]["unparseable"] is True
