"""The envelope and the catalogue: one schema set for every service and the ledger."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from shared.events import (
    PAYLOAD_TYPES,
    Envelope,
    UndecodableEvent,
    canonical_json,
    decode,
    subject_for,
)
from shared.events.registry import HouseholdDeactivated
from shared.pii import commitment, mask_nik

CATALOGUE = {
    "registry": [
        "household_registered",
        "member_added",
        "household_updated",
        "survey_recorded",
        "eligibility_decided",
        "household_deactivated",
    ],
    "distribution": [
        "programme_budgeted",
        "officer_certified",
        "round_scheduled",
        "round_endorsed",
        "aid_allocated",
        "aid_received",
        "aid_undelivered",
        "round_closed",
    ],
    "training": ["course_opened", "trainee_enrolled", "attendance_recorded", "training_completed"],
    "community": [
        "complaint_filed",
        "complaint_acknowledged",
        "complaint_escalated",
        "complaint_resolved",
        "feedback_submitted",
        "meeting_held",
    ],
}


def test_every_event_of_the_design_catalogue_has_a_typed_payload() -> None:
    registered = {event_type for event_type, _ in PAYLOAD_TYPES}
    for service, names in CATALOGUE.items():
        for name in names:
            assert f"{service}.{name}" in registered


def test_subjects_are_bansos_service_event() -> None:
    assert subject_for("distribution.aid_received") == "bansos.distribution.aid_received"


def envelope() -> Envelope:
    return Envelope.wrap(
        HouseholdDeactivated(reason="moved", note="pindah ke Depok"),
        aggregate_id=uuid4(),
        aggregate_version=3,
        actor="operator.siti",
    )


def test_an_envelope_round_trips_through_its_canonical_bytes() -> None:
    original = envelope()
    again, payload = decode(original.canonical())
    assert again == original
    assert payload == HouseholdDeactivated(reason="moved", note="pindah ke Depok")
    assert original.subject == "bansos.registry.household_deactivated"


def test_canonical_json_is_rfc8785_sorted_compact_utc() -> None:
    raw = envelope().canonical()
    parsed = json.loads(raw)
    assert list(parsed) == sorted(parsed)
    assert b" " not in raw.replace(b"pindah ke Depok", b"")
    assert parsed["occurred_at"].endswith("Z")


def test_an_uncorrelated_event_correlates_with_itself() -> None:
    e = envelope()
    assert e.correlation_id == e.event_id and e.causation_id is None


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"{}",
        json.dumps({**json.loads(envelope().canonical()), "type": "registry.unheard_of"}).encode(),
        json.dumps(
            {**json.loads(envelope().canonical()), "payload": {"reason": "abducted"}}
        ).encode(),
        json.dumps({**json.loads(envelope().canonical()), "aggregate_version": 0}).encode(),
    ],
)
def test_undecodable_messages_are_rejected_with_a_reason(raw: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        decode(raw)


def test_personal_data_is_masked_and_committed_under_a_key() -> None:
    assert mask_nik("3174091203650001") == "3174••••••••0001"
    a = commitment(b"key-one", "3174091203650001")
    assert a == commitment(b"key-one", "3174091203650001")
    assert a != commitment(b"key-two", "3174091203650001")  # no key, no dictionary attack
    assert a != commitment(b"key-one", "3174091203650001", domain="kk")
    assert "3174091203650001" not in a


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_is_byte_for_byte_the_reference_encoder(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [2**53, {"n": -(2**60)}, [float("nan")]])
def test_canonical_json_refuses_what_rfc8785_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        rfc8785.dumps(value)
    with pytest.raises(ValueError):
        canonical_json(value)
