"""Erasure: an admin deletes what a household's or an aggregate's leaves seal; the tree,
every proof and the public views stay; openings answer 410; the erasure is an event."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from sqlalchemy import select

from services.audit import private
from services.audit.domain.erasure import Erase, Erasure, Household, decide, might_hold
from services.audit.tables import erasures, sealed
from shared.db import events, outbox
from shared.domain import DomainError
from shared.events import Envelope
from shared.merkle import leaf_hash, verify_consistency, verify_inclusion
from shared.pii import commitments
from tests.audit.service import ADMIN, AUDITOR, OPERATOR, Audit, running
from tests.audit.service import Household as Trail
from tests.helpers import NatsServer

REFERENCE = "Surat 12/PDP/XI/2026"


@pytest.fixture
async def audit(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Audit]:
    async with running(database_url, nats_server.url, tmp_path / "audit") as service:
        yield service


@pytest.fixture
async def trails(audit: Audit) -> tuple[Trail, Trail]:
    """A household and a neighbour in the same round and the same course."""
    household = Trail()
    neighbour = Trail(round_id=household.round_id, course_id=household.course_id)
    await audit.publish(*household.events(), *neighbour.events())
    await audit.caught_up(len(audit.published))
    return household, neighbour


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def erase(audit: Audit, **body: Any) -> Any:
    body = {"legal_basis": "data_subject_request", "reference": REFERENCE, **body}
    return await audit.client.post("/ledger/erasures", json=body, headers=ADMIN)


async def test_erasing_a_household_keeps_the_tree_and_opens_nothing_of_it(
    audit: Audit, trails: tuple[Trail, Trail]
) -> None:
    household, _ = trails
    before = await audit.entries()
    old = await audit.caught_up(len(before))
    reply = await erase(audit, household_id=str(household.household_id))
    assert reply.status_code == 201, reply.text
    result = reply.json()
    mine = list(range(len(household.events())))  # published first, in order
    assert (result["indices"], result["leaves"]) == (mine, len(mine))

    for entry in before:
        opening = await audit.client.get(
            f"/ledger/entries/{entry['index']}/sealed", headers=AUDITOR
        )
        if entry["index"] in mine:
            assert opening.status_code == 410 and opening.json()["error"] == "leaf_erased"
        else:
            assert opening.status_code == 200
    page = (await audit.client.get("/ledger/sealed", headers=AUDITOR)).json()["entries"]
    assert [p["index"] for p in page if p["erased"]] == mine
    assert {p["erasure_id"] for p in page if p["erased"]} == {result["erasure_id"]}

    # The erasure is itself an event, and a leaf.
    new = await audit.caught_up(len(before) + 1)
    after = await audit.entries()
    assert after[: len(before)] == before  # every leaf as it was
    erasure = after[-1]
    assert erasure["public"] == {
        "type": "audit.leaves_erased",
        "day": erasure["public"]["day"],
        "actor_role": "admin",
        "legal_basis": "data_subject_request",
        "leaves": len(mine),
    }
    opened = await audit.client.get(f"/ledger/entries/{erasure['index']}/sealed", headers=AUDITOR)
    event = Envelope.model_validate(opened.json()["envelope"])
    assert event.aggregate_id == UUID(result["erasure_id"]) and event.actor == "admin.dewi"
    assert event.payload["indices"] == mine and event.payload["target"] == "household"
    assert REFERENCE not in opened.text

    # Proofs still hold: old leaves in the new tree, the old tree within the new one.
    root = b64decode(new["root_hash"])
    for index in mine:
        proof = (await audit.client.get(f"/ledger/entries/{index}/proof")).json()
        leaf = leaf_hash(b64decode(before[index]["leaf_data"]))
        verify_inclusion(
            index, new["tree_size"], leaf, [b64decode(h) for h in proof["hashes"]], root
        )
    consistency = await audit.client.get(
        "/ledger/consistency", params={"first": old["tree_size"], "second": new["tree_size"]}
    )
    hashes = [b64decode(h) for h in consistency.json()["hashes"]]
    verify_consistency(
        old["tree_size"], new["tree_size"], b64decode(old["root_hash"]), root, hashes
    )

    # The private store lost the contents and the personal search columns.
    async with audit.app.state.runtime.engine.connect() as conn:
        rows = await private.openings(conn, 0, len(mine))
        record = (await conn.execute(select(erasures))).one()
    for row in rows:
        assert (row.salt, row.content, row.event_id, row.aggregate_id, row.actor) == (None,) * 5
    salted = commitments(audit.app.state.settings)
    assert record.reference == REFERENCE and record.leaves == len(mine)
    assert salted.opens(
        "text", REFERENCE, record.reference_salt, event.payload["reference_commitment"]
    )
    search = await audit.client.get(
        "/ledger/search", params={"aggregate_id": str(household.household_id)}, headers=AUDITOR
    )
    assert search.json()["entries"] == []

    again = await erase(audit, household_id=str(household.household_id))
    assert again.status_code == 404 and again.json()["error"] == "no_matching_leaves"


async def test_erasing_an_aggregate(audit: Audit, trails: tuple[Trail, Trail]) -> None:
    household, _ = trails
    reply = await erase(audit, aggregate_id=str(household.allocation_id), legal_basis="court_order")
    assert reply.status_code == 201, reply.text
    assert reply.json()["indices"] == [2, 3]  # allocated, received
    opening = await audit.client.get("/ledger/entries/1/sealed", headers=AUDITOR)
    assert opening.status_code == 200


async def test_erasure_needs_an_admin_and_one_target(
    audit: Audit, trails: tuple[Trail, Trail]
) -> None:
    household, _ = trails
    body = {"legal_basis": "court_order", "reference": "PN 1", "household_id": str(uuid4())}
    assert (await audit.client.post("/ledger/erasures", json=body)).status_code == 401
    for token in (AUDITOR, OPERATOR):
        reply = await audit.client.post("/ledger/erasures", json=body, headers=token)
        assert reply.status_code == 403
    both = await erase(audit, household_id=str(uuid4()), aggregate_id=str(uuid4()))
    neither = await erase(audit)
    for reply in (both, neither):
        assert reply.status_code == 422 and reply.json()["error"] == "one_target_required"
    for bad in ({"legal_basis": "because"}, {"reference": ""}, {"reference": "x" * 201}):
        reply = await erase(audit, household_id=str(household.household_id), **bad)
        assert reply.status_code == 422 and reply.json()["error"] == "validation_failed"
    unknown = await erase(audit, household_id=str(uuid4()))
    assert unknown.status_code == 404 and unknown.json()["error"] == "no_matching_leaves"
    opening = await audit.client.get("/ledger/entries/0/sealed", headers=AUDITOR)
    assert opening.status_code == 200  # nothing was erased


async def test_a_failed_erasure_deletes_nothing_and_records_nothing(
    audit: Audit, trails: tuple[Trail, Trail], monkeypatch: pytest.MonkeyPatch
) -> None:
    household, _ = trails
    real = private.erase

    async def erase_then_fail(*args: Any) -> None:
        await real(*args)
        raise ConnectionError("the database went away mid-erasure")

    monkeypatch.setattr(private, "erase", erase_then_fail)
    reply = await erase(audit, household_id=str(household.household_id))
    # The database went away: the admin is told to retry (nothing was applied).
    assert reply.status_code == 503 and reply.json()["error"] == "unavailable", reply.text
    assert reply.headers["Retry-After"]
    runtime = audit.app.state.runtime
    async with runtime.engine.connect() as conn:
        contents = [c for (c,) in await conn.execute(select(sealed.c.content))]
        assert await conn.scalar(select(erasures.c.erasure_id)) is None
        assert (
            await conn.execute(select(sealed.c.idx).where(sealed.c.erased_at.is_not(None)))
        ).all() == []
    assert all(contents) and len(contents) == len(audit.published)
    async with runtime.engine.connect() as conn:  # no event, so nothing for the relay
        assert (await conn.execute(select(events))).all() == []
        assert (await conn.execute(select(outbox))).all() == []


# --- matching, pure ---------------------------------------------------------------------------
def as_json(envelope: Envelope) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(envelope.canonical())
    return parsed


def test_a_household_owns_its_events_and_those_of_its_allocations_and_enrolments() -> None:
    trail, neighbour = Trail(), Trail()
    mine = [as_json(e) for e in trail.events()]
    theirs = [as_json(e) for e in neighbour.events()]
    household = Household(trail.household_id).linked_by(mine + theirs)
    assert household.allocations == {trail.allocation_id}
    assert household.enrolments == {trail.enrolment_id}
    assert all(household.owns(e) for e in mine)
    assert not any(household.owns(e) for e in theirs)
    assert all(might_hold(orjson.dumps(e), household.needles) for e in mine)


def test_an_id_spelled_otherwise_still_matches() -> None:
    trail = Trail()
    registered = as_json(trail.events()[0])
    registered["aggregate_id"] = str(trail.household_id).upper()
    complaint = as_json(trail.events()[-1])
    complaint["payload"]["references"]["household_id"] = trail.household_id.hex
    household = Household(trail.household_id)
    for envelope in (registered, complaint):
        assert household.owns(envelope)
        assert might_hold(orjson.dumps(envelope), household.needles)


def test_the_erasure_decider() -> None:
    def erase(*indices: int) -> Erase:
        return Erase(
            legal_basis="retention_expired",
            reference_commitment="ab" * 32,
            target="aggregate",
            indices=indices,
        )

    [event] = decide(Erasure(), erase(4, 9))
    assert event.public(uuid4()) == {"legal_basis": "retention_expired", "leaves": 2}
    with pytest.raises(DomainError, match="no leaf") as nothing:
        decide(Erasure(), erase())
    assert (nothing.value.code, nothing.value.status) == ("no_matching_leaves", 404)
    with pytest.raises(DomainError) as twice:
        decide(Erasure(done=True), erase(4, 9))
    assert (twice.value.code, twice.value.status) == ("erasure_done", 409)
