"""Community over HTTP on SQLite and PostgreSQL with a real nats-server: public filing and
tracking (rate-limited, fuzzed), facilitators' handling, feedback, meetings; and no
ticket code, reporter's words, name or contact on the bus, only commitments salted per
record, which the service's store opens."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.community import handlers, private
from services.community.api.schemas import TICKET
from services.community.service import SERVICE
from services.community.settings import CommunitySettings
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events import Envelope
from shared.events.distribution import Posko, RoundScheduled
from shared.pii import commitments
from tests.helpers import NatsServer, bearer, eventually, serve_app, stream_holds

FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")
AUDITOR = bearer(Role.auditor, "inspektorat.hasan")
SECRET_WORDS = "Pak Darto dari RT 04 minta uang Rp 50.000 sebelum beras dibagikan"


def app_for(database_url: str, nats_url: str, **overrides: Any) -> Any:
    return SERVICE.app(CommunitySettings(database_url=database_url, nats_url=nats_url, **overrides))


@pytest.fixture
async def client(database_url: str, nats_server: NatsServer) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(app_for(database_url, nats_server.url)) as client:
        yield client


def complaint(**changes: Any) -> dict[str, Any]:
    return {"category": "officer_conduct", "description": SECRET_WORDS, "rw": "04", **changes}


async def test_an_anonymous_complaint_is_filed_tracked_and_resolved(
    client: httpx.AsyncClient,
) -> None:
    filed = await client.post("/complaints", json=complaint())
    assert filed.status_code == 201, filed.text
    ticket = filed.json()["ticket_code"]
    assert filed.json()["sla"]["state"] == "on_track"
    assert "complaint_id" not in filed.json()

    tracked = (await client.get(f"/complaints/track/{ticket}")).json()
    assert (tracked["status"], tracked["category"], tracked["rw"]) == (
        "filed",
        "officer_conduct",
        "04",
    )
    assert SECRET_WORDS not in str(tracked)

    listed = (await client.get("/complaints?status=filed", headers=FACILITATOR)).json()
    [item] = listed["items"]
    cid = item["complaint_id"]
    assert "ticket_code" not in item and "ticket_commitment" not in item  # not kept
    by_ticket = await client.get(f"/complaints?ticket_code={ticket}", headers=FACILITATOR)
    assert [i["complaint_id"] for i in by_ticket.json()["items"]] == [cid]
    other = await client.get("/complaints?ticket_code=TB-2222-2222", headers=FACILITATOR)
    assert other.json()["items"] == []
    full = (await client.get(f"/complaints/{cid}", headers=FACILITATOR)).json()
    assert full["history"][0]["description"] == SECRET_WORDS
    assert full["contact_given"] is False

    ack = await client.post(
        f"/complaints/{cid}/acknowledgement",
        json={"note": "Terima kasih, kami akan cek ke RT 04 minggu ini."},
        headers=FACILITATOR,
    )
    assert ack.json()["status"] == "acknowledged"
    # What has not happened yet is null; the steps and a missing contact show no key.
    assert (ack.json()["outcome"], ack.json()["resolved_at"]) == (None, None)
    assert "contact" not in ack.json() and ack.json()["contact_given"] is False
    assert ack.json()["history"][1] == {
        "step": "acknowledged",
        "at": ack.json()["history"][1]["at"],
        "note": "Terima kasih, kami akan cek ke RT 04 minggu ini.",
    }
    again = await client.post(f"/complaints/{cid}/acknowledgement", json={}, headers=FACILITATOR)
    assert again.status_code == 409 and again.json()["error"] == "already_acknowledged"
    up = await client.post(
        f"/complaints/{cid}/escalation",
        json={"to": "inspectorate", "reason": "dugaan pungli oleh pengurus"},
        headers=FACILITATOR,
    )
    assert up.json()["status"] == "escalated"
    done = await client.post(
        f"/complaints/{cid}/resolution",
        json={"outcome": "upheld", "resolution": "Pungutan dihentikan; dana dikembalikan."},
        headers=FACILITATOR,
    )
    assert done.json()["status"] == "resolved" and done.json()["sla"]["state"] == "met"
    late = await client.post(f"/complaints/{cid}/acknowledgement", json={}, headers=FACILITATOR)
    assert late.json()["error"] == "complaint_resolved"

    history = (await client.get(f"/complaints/track/{ticket}")).json()["history"]
    assert [h["step"] for h in history] == ["filed", "acknowledged", "escalated", "resolved"]
    assert history[1]["note"].startswith("Terima kasih")
    assert history[2] == {"step": "escalated", "at": history[2]["at"], "to": "inspectorate"}
    assert history[3]["resolution"].startswith("Pungutan dihentikan")
    stats = (await client.get("/complaints/stats", headers=AUDITOR)).json()
    assert stats == {"by_category": {"officer_conduct": {"resolved": 1}}, "by_sla": {"met": 1}}


async def test_a_named_reporter_is_reachable_only_by_the_facilitator(
    client: httpx.AsyncClient,
) -> None:
    named = complaint(
        category="exclusion_error",
        anonymous=False,
        contact={"name": "Ibu Sumiati", "phone": "081298765432"},
    )
    filed = await client.post("/complaints", json=named)
    assert filed.status_code == 201, filed.text
    [item] = (await client.get("/complaints", headers=FACILITATOR)).json()["items"]
    for_facilitator = await client.get(f"/complaints/{item['complaint_id']}", headers=FACILITATOR)
    assert for_facilitator.json()["contact"]["phone"] == "081298765432"
    for_auditor = (await client.get(f"/complaints/{item['complaint_id']}", headers=AUDITOR)).json()
    assert "contact" not in for_auditor and for_auditor["contact_given"] is True

    both = await client.post("/complaints", json=complaint(contact={"phone": "081298765432"}))
    assert both.status_code == 422 and both.json()["error"] == "anonymous_with_contact"
    neither = await client.post("/complaints", json=complaint(anonymous=False))
    assert neither.json()["error"] == "contact_required"


async def test_no_ticket_code_words_or_contact_reach_the_bus(
    database_url: str, nats_server: NatsServer
) -> None:
    app = app_for(database_url, nats_server.url)
    runtime = app.state.runtime
    phone, note, reason = "081298765432", "Kami temui Pak RT besok pagi", "dugaan pungli RT 04"
    resolution = "Ibu Sumiati sudah ditemui di rumahnya."
    async with serve_app(app) as client:
        named = complaint(anonymous=False, contact={"name": "Ibu Sumiati", "phone": phone})
        tickets = [(await client.post("/complaints", json=named)).json()["ticket_code"]]
        tickets.append((await client.post("/complaints", json=named)).json()["ticket_code"])
        anonymous = await client.post("/complaints", json=complaint(category="distribution"))
        tickets.append(anonymous.json()["ticket_code"])
        items = (await client.get("/complaints", headers=FACILITATOR)).json()["items"]
        first = items[0]["complaint_id"]
        for step, body in (
            ("acknowledgement", {"note": note}),
            ("escalation", {"to": "inspectorate", "reason": reason}),
            ("resolution", {"outcome": "not_upheld", "resolution": resolution}),
        ):
            reply = await client.post(f"/complaints/{first}/{step}", json=body, headers=FACILITATOR)
            assert reply.status_code == 200, reply.text
        for ticket in tickets:  # tracking finds each by its code's commitment
            assert (await client.get(f"/complaints/track/{ticket}")).status_code == 200
        # While the service runs: its outbox relay publishes them.
        messages = await eventually(lambda: stream_holds(nats_server.url, 3 + 3))
    everything = b"\n".join(m.data for m in messages).decode()
    for secret in (*tickets, SECRET_WORDS, "Sumiati", phone, "Pak Darto", note, reason, "ditemui"):
        assert secret not in everything
    envelopes = [Envelope.model_validate_json(m.data) for m in messages]
    filed = [e.payload for e in envelopes if e.type == "community.complaint_filed"]
    # The same phone and the same words in two complaints: unrelated commitments.
    contacts = [f["contact_commitment"] for f in filed if f["contact_commitment"]]
    assert len(contacts) == 2 and contacts[0] != contacts[1]
    assert len({f["description_commitment"] for f in filed}) == 3
    assert len({f["ticket_commitment"] for f in filed}) == 3

    # Each commitment opens with the words and the salt kept beside them, and no other.
    cm = commitments(runtime.settings)
    async with runtime.reads() as session:
        texts = {r.event_id: r for r in await session.execute(select(private.texts))}
        reporters = {r.complaint_id: r for r in await session.execute(select(private.contacts))}
    committed = 0
    for envelope in envelopes:
        for key, commitment in envelope.payload.items():
            if not key.endswith("_commitment") or key == "ticket_commitment" or not commitment:
                continue
            if key == "contact_commitment":
                row, value, purpose = reporters[envelope.aggregate_id], phone, "contact"
            else:
                row = texts[envelope.event_id]
                value, purpose = row.body, "text"
            assert cm.opens(purpose, value, row.salt, commitment)
            assert not cm.opens(purpose, value + " ", row.salt, commitment)
            committed += 1
    assert committed == 3 + 2 + 3  # descriptions, contacts, note + reason + resolution
    assert {t.body for t in texts.values()} >= {SECRET_WORDS, note, reason, resolution}


async def test_a_ticket_code_drawn_twice_is_drawn_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter(["TB-AAAA-2222", "TB-AAAA-2222", "TB-BBBB-3333"])
    monkeypatch.setattr(handlers, "new_ticket", lambda: next(draws))
    first = await client.post("/complaints", json=complaint())
    second = await client.post("/complaints", json=complaint())
    assert (first.json()["ticket_code"], second.json()["ticket_code"]) == (
        "TB-AAAA-2222",
        "TB-BBBB-3333",
    )
    monkeypatch.setattr(handlers, "new_ticket", lambda: "TB-AAAA-2222")
    stuck = await client.post("/complaints", json=complaint())
    assert stuck.status_code == 409 and stuck.json()["error"] == "ticket_collision"
    listed = (await client.get("/complaints", headers=FACILITATOR)).json()["items"]
    assert len(listed) == 2


def test_ticket_codes_keep_their_format() -> None:
    codes = {handlers.new_ticket() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(TICKET, c) and len(c) == 12 for c in codes)
    assert not re.fullmatch(TICKET, "TB-0O1I-2222")  # no 0/O or 1/I to misread


async def test_public_filing_is_limited_per_source(
    database_url: str, nats_server: NatsServer
) -> None:
    app = app_for(database_url, nats_server.url, complaint_rate="3/minute")
    async with serve_app(app) as client:
        codes = [(await client.post("/complaints", json=complaint())).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        refused = await client.post("/complaints", json=complaint())
        assert refused.json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_feedback_on_an_announced_round_is_averaged(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    round_id = uuid4()
    scheduled = Envelope.wrap(
        RoundScheduled(
            programme="SEMBAKO",
            period=f"{wib_today():%Y-%m}",
            budget_id=uuid4(),
            poskos=(Posko(rw="06", place="Posko RW 06", on=wib_today()),),
        ),
        aggregate_id=round_id,
        aggregate_version=1,
        actor="manager.dewi",
    )
    nc = await nats.connect(nats_server.url)
    await nc.jetstream().publish(scheduled.subject, scheduled.canonical())
    await nc.close()
    body = {"subject_type": "round", "subject_id": str(round_id), "rating": 4, "rw": "06"}

    async def accepted() -> bool:
        return (await client.post("/feedback", json=body)).status_code == 201

    await eventually(accepted)
    more = {**body, "rating": 2, "comment": "Antrean terlalu panjang", "name": "Pak Joko"}
    assert (await client.post("/feedback", json=more)).status_code == 201
    unknown = await client.post("/feedback", json={**body, "subject_id": str(uuid4())})
    assert unknown.status_code == 422 and unknown.json()["error"] == "subject_unknown"
    summary = (await client.get(f"/feedback/summary?subject_id={round_id}")).json()
    # Two ratings: too few to publish an average (small-cell suppression).
    assert summary["per_subject"][0]["ratings"] == "<5"
    assert summary["per_subject"][0]["average"] is None
    assert summary["per_subject"][0]["title"].startswith("SEMBAKO")
    assert summary["per_rw"] == [{"rw": "06", "ratings": "<5", "average": None}]
    for rating in (5, 5, 4):
        more = {**body, "rating": rating}
        assert (await client.post("/feedback", json=more)).status_code == 201
    summary = (await client.get(f"/feedback/summary?subject_id={round_id}")).json()
    assert summary["per_subject"][0]["ratings"] == 5 and summary["per_subject"][0]["average"] == 4
    assert summary["per_rw"] == [{"rw": "06", "ratings": 5, "average": 4.0}]


async def test_a_meeting_and_its_follow_ups(client: httpx.AsyncClient) -> None:
    held = await client.post(
        "/meetings",
        json={
            "kind": "focus_group",
            "held_on": str(wib_today() - timedelta(days=1)),
            "rw": "05",
            "attendance": {"female": 18, "male": 9, "elderly": 4, "disabled": 1, "youth": 3},
            "topics": ["Jadwal pembagian sembako", "Kualitas beras"],
            "aspirations": ["Posko lebih dekat untuk lansia"],
            "follow_ups": [{"action": "Antar sembako ke rumah lansia RW 05"}],
        },
        headers=FACILITATOR,
    )
    assert held.status_code == 201, held.text
    mid = held.json()["meeting_id"]
    moved = await client.post(
        f"/meetings/{mid}/follow-ups/0", json={"status": "done"}, headers=FACILITATOR
    )
    assert moved.json()["follow_ups"][0]["status"] == "done"
    missing = await client.post(
        f"/meetings/{mid}/follow-ups/3", json={"status": "done"}, headers=FACILITATOR
    )
    assert missing.status_code == 404 and missing.json()["error"] == "follow_up_not_found"
    future = await client.post(
        "/meetings",
        json={
            "kind": "outreach",
            "held_on": str(wib_today() + timedelta(days=2)),
            "rw": "05",
            "attendance": {"female": 1, "male": 1},
            "topics": ["Sosialisasi"],
        },
        headers=FACILITATOR,
    )
    assert future.status_code == 422 and future.json()["error"] == "held_on_future"


async def test_nothing_happens_to_a_complaint_or_meeting_never_recorded(
    client: httpx.AsyncClient,
) -> None:
    """The unit of work answers `<aggregate>_not_found` for a command on an aggregate
    without history (the deciders never see one)."""
    unknown = uuid4()
    for step, body in (
        ("acknowledgement", {}),
        ("escalation", {"to": "inspectorate", "reason": "dugaan pungli"}),
        ("resolution", {"outcome": "upheld", "resolution": "Sudah ditindaklanjuti."}),
    ):
        reply = await client.post(f"/complaints/{unknown}/{step}", json=body, headers=FACILITATOR)
        assert (reply.status_code, reply.json()["error"]) == (404, "complaint_not_found"), step
    follow_up = await client.post(
        f"/meetings/{unknown}/follow-ups/0", json={"status": "done"}, headers=FACILITATOR
    )
    assert (follow_up.status_code, follow_up.json()["error"]) == (404, "meeting_not_found")
    for path in (f"/complaints/{unknown}", f"/meetings/{unknown}"):
        reply = await client.get(path, headers=FACILITATOR)
        assert reply.status_code == 404, path
    listed = (await client.get("/complaints", headers=FACILITATOR)).json()
    assert listed == {"items": [], "next_cursor": None}  # nothing was written


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)


@pytest.fixture
async def unlimited(database_url: str, nats_server: NatsServer) -> AsyncIterator[httpx.AsyncClient]:
    """Limits high enough that fuzzed bodies reach validation."""
    app = app_for(
        database_url, nats_server.url, complaint_rate="10000/minute", feedback_rate="10000/minute"
    )
    async with serve_app(app) as client:
        yield client


# Valid fields, each kept or replaced by any JSON value, or any JSON document at all.
FIELDS = {**complaint(), "anonymous": True, "contact": None, "references": None}
BODIES = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {}, optional={k: st.one_of(st.just(v), JSONISH) for k, v in FIELDS.items()}
    ),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES)
async def test_fuzzed_public_bodies_never_get_a_5xx(
    unlimited: httpx.AsyncClient, body: Any
) -> None:
    for path in ("/complaints", "/feedback"):
        reply = await unlimited.post(path, json=body)
        assert reply.status_code < 500, reply.text


async def test_huge_bodies_and_unknown_tickets_are_4xx(client: httpx.AsyncClient) -> None:
    huge = await client.post(
        "/complaints",
        content=b'{"description": "' + b"x" * 2_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    long_text = await client.post("/complaints", json=complaint(description="y" * 5000))
    assert long_text.status_code == 422
    assert long_text.json()["details"][0]["field"] == "description"
    unknown = await client.get("/complaints/track/TB-2222-2222")
    assert unknown.status_code == 404 and unknown.json()["error"] == "ticket_not_found"
    malformed = await client.get("/complaints/track/nonsense")
    assert malformed.status_code == 422
    wrong_type = await client.post("/complaints", json=complaint(rw=4))
    assert wrong_type.status_code == 422
    rng = random.Random(1)
    garbage = bytes(rng.randrange(256) for _ in range(300))
    assert (await client.post("/complaints", content=garbage)).status_code == 422
