"""The envelope and the catalogue: one schema set for every service and the ledger."""

from __future__ import annotations

import json
import re
from uuid import uuid4

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
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
from shared.pii import Commitments, bearer_code, code_pattern
from shared.settings import CommonSettings, InsecureSettings

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
        "case_opened",
        "case_visit_planned",
        "case_visit_recorded",
        "case_referred",
        "referral_answered",
        "case_closed",
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
        HouseholdDeactivated(reason="moved", note_commitment="ab" * 32),
        aggregate_id=uuid4(),
        aggregate_version=3,
        actor="operator.siti",
    )


def test_an_envelope_round_trips_through_its_canonical_bytes() -> None:
    original = envelope()
    again, payload = decode(original.canonical())
    assert again == original
    assert payload == HouseholdDeactivated(reason="moved", note_commitment="ab" * 32)
    assert original.subject == "bansos.registry.household_deactivated"


def test_canonical_json_is_rfc8785_sorted_compact_utc() -> None:
    raw = envelope().canonical()
    parsed = json.loads(raw)
    assert list(parsed) == sorted(parsed)
    assert b" " not in raw
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


def test_matching_commitments_are_keyed_per_purpose() -> None:
    one, two = Commitments(b"programme-secret-one"), Commitments(b"programme-secret-two")
    nik = "3174091203650001"
    assert one.nik(nik) == one.nik(nik)  # deterministic: an officer's typed NIK matches
    assert one.nik(nik) != two.nik(nik)  # no key, no dictionary attack
    assert one.nik(nik) != one.kk(nik)  # a key per purpose: a NIK says nothing as a KK
    assert len({one.nik(nik), one.ticket(nik), one.receipt(nik)}) == 3
    assert nik not in one.nik(nik)


def test_texts_and_contacts_are_salted_per_record() -> None:
    keys = Commitments(b"programme-secret")
    first = keys.salted("contact", "081234567890")
    second = keys.salted("contact", "081234567890")
    assert first.commitment != second.commitment  # one reporter's complaints do not link
    assert keys.opens("contact", "081234567890", first.salt, first.commitment)
    assert not keys.opens("contact", "081234567891", first.salt, first.commitment)
    assert not keys.opens("text", "081234567890", first.salt, first.commitment)


def test_bearer_codes_match_their_pattern_and_do_not_repeat() -> None:
    codes = {bearer_code("TB") for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(code_pattern("TB"), c) for c in codes)
    assert re.fullmatch(code_pattern("RC", 3), bearer_code("RC", 3))


def test_outside_development_mode_the_built_in_secrets_are_refused() -> None:
    with pytest.raises(InsecureSettings, match="BANSOS_PROGRAMME_KEY"):
        CommonSettings(mode="production").check_secrets()
    with pytest.raises(InsecureSettings, match="BANSOS_JWT_SECRET"):
        CommonSettings(mode="production", programme_key="p" * 40).check_secrets()
    with pytest.raises(InsecureSettings, match="BANSOS_PROGRAMME_KEY"):
        CommonSettings(
            mode="production", programme_key="short", jwt_secret="j" * 40
        ).check_secrets()
    CommonSettings(mode="production", programme_key="p" * 40, jwt_secret="j" * 40).check_secrets()
    CommonSettings(mode="development").check_secrets()  # a laptop: accepted


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


wide_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), wide_json, max_size=5))
def test_canonical_json_of_what_ingest_parses_is_the_reference_or_refused_alike(
    value: dict[str, object],
) -> None:
    parsed = orjson.loads(orjson.dumps(value))  # as the ledger's ingest sees a message
    try:
        expected = rfc8785.dumps(parsed)
    except ValueError:
        with pytest.raises(ValueError):
            canonical_json(parsed)
        return
    assert canonical_json(parsed) == expected


@pytest.mark.parametrize("value", [2**53, {"n": -(2**60)}, [float("nan")]])
def test_canonical_json_refuses_what_rfc8785_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        rfc8785.dumps(value)
    with pytest.raises(ValueError):
        canonical_json(value)
