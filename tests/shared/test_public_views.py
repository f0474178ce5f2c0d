"""Public views (docs/architecture.md#the-ledger): every event type declares one, and none shows a
person.

The catalogue walk builds a sample of every payload type (free text marked `secret-…`,
every optional field filled), wraps it as staff would, and reads its public view."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from shared.events import PAYLOAD_TYPES, Envelope, EventPayload, public_view, unparseable_view
from shared.events.community import Attendance, MeetingHeld
from shared.events.distribution import RoundClosed
from shared.events.public import day_of
from tests.shared.samples import sample

# Every key a public view may hold. A new key is a decision about what the public learns:
# add it here only after asking what a neighbour reading it learns.
ALLOWED_KEYS = {
    *("type", "day", "actor_role"),
    *("rw", "programme", "period", "amount_idr", "kind", "benefit_idr", "package"),
    *("name", "quantity", "unit", "expires_on", "poskos", "place", "on"),
    *("round_id", "budget_id", "course_id", "meeting_id", "subject_id", "subject_type"),
    *("allocated", "received", "undelivered", "amount_allocated_idr", "amount_received_idr"),
    *("category", "capacity", "session_days", "completion_threshold_pct"),
    *("to", "outcome", "rating", "held_on", "attendance", "index", "status"),
    *("female", "male", "elderly", "disabled", "youth"),
    *("formula_version", "policy_version", "legal_basis", "leaves"),
    # What an outreach session covered: codes from a fixed list, never the words said.
    "topic_codes",
    # Verification with recipients: the checkpoint a sample was drawn from, and its size.
    *("tree_size", "root_hash", "k"),
}
# Payload fields holding ids of programme objects, shared by many households.
ID_KEYS = {"round_id", "budget_id", "course_id", "meeting_id", "subject_id"}
# Text typed by staff that is published on purpose: the posko schedule and the contents
# of a sembako package (what residents should receive), and the system's version labels.
PUBLIC_TEXT = {"place", "name", "unit", "formula_version", "policy_version"}  # source fields
TYPES = sorted(PAYLOAD_TYPES.items())


def view_of(model: type[EventPayload]) -> tuple[dict[str, Any], Envelope]:
    envelope = Envelope.wrap(
        sample(model),
        aggregate_id=uuid4(),
        aggregate_version=1,
        actor="operator.secret-staff-name",
        actor_role="registry_operator",
    )
    return public_view(envelope), envelope


def walk(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in walk(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in walk(v, path)]
    return [(path, value)]


def ids_in(value: Any) -> set[str]:
    found: set[str] = set()
    for _, leaf in walk(value):
        if isinstance(leaf, str):
            found |= set(
                re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", leaf)
            )
    return found


@pytest.mark.parametrize(("key", "model"), TYPES, ids=[f"{t}.v{v}" for (t, v), _ in TYPES])
def test_every_event_type_declares_a_public_view_that_shows_no_person(
    key: tuple[str, int], model: type[EventPayload]
) -> None:
    view, envelope = view_of(model)
    assert view["type"] == key[0] and view["actor_role"] == "registry_operator"
    leaves = walk(view)
    assert {k for path, _ in leaves for k in path} <= ALLOWED_KEYS
    text = json.dumps(view)
    assert "secret-staff-name" not in text  # the person behind the role
    # Free text is marked with the field it came from: only the published kinds may show.
    for source in re.findall(r"secret-([a-z_]+)", text):
        assert source in PUBLIC_TEXT, f"free text from the payload's {source!r}"
    assert not re.search(r"[0-9a-f]{64}", text), "a commitment or hash in a public view"
    assert not re.search(r"T\d\d:\d\d", text), "a time finer than the day"
    # Ids: programme objects' only; never a household, member, officer, enrolment or
    # survey id, the event's own ids, or the aggregate of a person's event.
    personal = {
        str(v)
        for path, v in walk(envelope.payload)
        if path and path[-1] not in ID_KEYS and isinstance(v, str) and ids_in(v)
    }
    personal |= {str(envelope.event_id), str(envelope.correlation_id)}
    if envelope.aggregate_type not in ("round", "budget", "course", "meeting"):
        personal.add(str(envelope.aggregate_id))
    assert not ids_in(view) & personal


def test_a_new_event_type_without_a_public_view_is_refused() -> None:
    class Unannounced(EventPayload):
        event_type = "registry.unannounced_test_event"
        aggregate_type = "household"
        note: str

    try:
        envelope = Envelope.wrap(
            Unannounced(note="x"), aggregate_id=uuid4(), aggregate_version=1, actor="a"
        )
        with pytest.raises(NotImplementedError, match="declares no public view"):
            public_view(envelope)
    finally:
        del PAYLOAD_TYPES[("registry.unannounced_test_event", 1)]


def test_the_day_is_the_day_in_jakarta_never_finer() -> None:
    # 23:30 UTC on the 19th is 06:30 WIB on the 20th: the day a resident would name.
    assert day_of(datetime(2026, 11, 19, 23, 30, tzinfo=UTC)) == "2026-11-20"
    assert day_of(datetime(2026, 11, 19, 16, 59, tzinfo=UTC)) == "2026-11-19"


def test_small_counts_are_suppressed_and_so_is_the_amount_that_would_give_them() -> None:
    closed = RoundClosed(
        allocated=12,
        received=4,
        undelivered=8,
        amount_allocated_idr=7_200_000,
        amount_received_idr=2_400_000,
    )
    view = closed.public(uuid4())
    assert view["allocated"] == 12 and view["amount_allocated_idr"] == 7_200_000
    assert view["received"] == "<5" and view["amount_received_idr"] == "<5"
    assert view["undelivered"] == 8


def test_meeting_attendance_by_group_is_suppressed_below_five() -> None:
    held = MeetingHeld(
        kind="outreach",
        held_on=datetime(2026, 11, 20).date(),
        rw="03",
        attendance=Attendance(female=14, male=9, elderly=3, disabled=1, youth=5),
        aspirations=("Bu Sri di RT 005 butuh kursi roda",),
    )
    view = held.public(uuid4())
    assert view["attendance"] == {
        "female": 14,
        "male": 9,
        "elderly": "<5",
        "disabled": "<5",
        "youth": 5,
    }
    assert "Sri" not in json.dumps(view, default=str)


def test_a_message_that_is_not_an_event_shows_its_size_only() -> None:
    assert unparseable_view(b'{"nik": "3174091203650001"}') == {"unparseable": True, "size": 27}
