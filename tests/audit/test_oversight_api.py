"""Oversight through the real audit service: events on a real nats-server become leaves,
the running fold turns them into findings, reconciliation, timelines and times; each
finding's evidence is proved with inclusion proofs against the signed checkpoint, and a
replay from leaf 0 gives the same findings, before and after an erasure."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.audit.oversight import OversightRunner, replay
from shared.events import Envelope
from shared.merkle import leaf_hash, verify_inclusion
from tests.audit.oversight_scenes import BENEFIT, MORNING, Household, Round, Scene, hexes
from tests.audit.service import ADMIN, AUDITOR, OPERATOR, Audit, running
from tests.helpers import NatsServer, eventually


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@pytest.fixture
async def audit(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Audit]:
    async with running(database_url, nats_server.url, tmp_path / "audit") as service:
        yield service


class Planted:
    """A BLT round in RW 03 with two irregularities: one allocation handed over twice and
    one NIK in two active households; and a clean neighbour."""

    def __init__(self) -> None:
        self.scene = Scene()
        self.round = Round(self.scene).set_up()
        self.twice = Household(self.scene, nik=hexes(50)).register()
        self.twice.allocate(self.round)
        self.first = self.twice.receive(self.round)
        self.second = self.twice.receive(self.round, received_at=MORNING + timedelta(hours=1))
        self.clean = Household(self.scene, nik=hexes(51)).register()
        self.clean.allocate(self.round)
        self.copy = Household(self.scene, nik=hexes(51)).register()  # the same NIK

    @property
    def envelopes(self) -> list[Envelope]:
        return [e for e, _ in self.scene.leaves if e is not None]


async def folded(audit: Audit, size: int) -> OversightRunner:
    await audit.caught_up(size)
    runner: OversightRunner = audit.app.state.oversight
    await eventually(lambda: runner.size >= size, within=30)
    return runner


async def get(audit: Audit, path: str, **params: Any) -> Any:
    reply = await audit.client.get(path, params=params, headers=AUDITOR)
    assert reply.status_code == 200, reply.text
    return reply


async def test_findings_rest_on_provable_entries_and_replay_equally(audit: Audit) -> None:
    planted = Planted()
    await audit.publish(*planted.envelopes)
    runner = await folded(audit, len(planted.envelopes))

    found = (await get(audit, "/oversight/findings")).json()
    rules = sorted(f["rule"] for f in found["findings"])
    assert rules == ["handover_twice", "nik_in_two_households"]
    assert found["total"] == 2 and found["next"] is None
    twice = next(f for f in found["findings"] if f["rule"] == "handover_twice")
    assert twice["evidence"] == [planted.first, planted.second]
    assert (twice["rw"], twice["programme"], twice["period"]) == ("03", "BLT", "2026-11")
    assert twice["round_id"] == str(planted.round.round_id)

    # Each evidence index: the leaf holds the event we planted, and is in the signed tree.
    checkpoint = (await audit.client.get("/ledger/checkpoint.json")).json()
    root = b64(checkpoint["root_hash"])
    for f in found["findings"]:
        for index in f["evidence"]:
            entry = (await audit.client.get("/ledger/entries", params={"start": index})).json()
            leaf = entry["entries"][0]
            proof = (
                await audit.client.get(
                    f"/ledger/entries/{index}/proof",
                    params={"tree_size": checkpoint["tree_size"]},
                )
            ).json()
            hashed = leaf_hash(b64(leaf["leaf_data"]))
            verify_inclusion(
                index, checkpoint["tree_size"], hashed, [b64(h) for h in proof["hashes"]], root
            )
            opened = (await get(audit, f"/ledger/entries/{index}/sealed")).json()
            assert opened["envelope"]["event_id"] == str(planted.envelopes[index].event_id)

    # Filters, and a page of one.
    assert (await get(audit, "/oversight/findings", rule="handover_twice")).json()["total"] == 1
    assert (await get(audit, "/oversight/findings", rw="04")).json()["total"] == 0
    assert (await get(audit, "/oversight/findings", since="2026-12-01")).json()["total"] == 0
    page = (await get(audit, "/oversight/findings", limit="1")).json()
    assert len(page["findings"]) == 1 and page["next"] == 1

    # Exports: the same findings as CSV and as JSON lines.
    exported = await get(audit, "/oversight/findings", format="csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["rule"] for r in rows] == [f["rule"] for f in found["findings"]]
    assert rows[[r["rule"] for r in rows].index("handover_twice")]["evidence"] == (
        f"{planted.first} {planted.second}"
    )
    lines = (await get(audit, "/oversight/findings", format="jsonl")).text.splitlines()
    assert [json.loads(line) for line in lines] == found["findings"]
    assert exported.headers["x-total"] == "2"

    # The public page's interface.
    assert runner.finding_counts() == {"handover_twice": 1, "nik_in_two_households": 1}

    # A replay from leaf 0 gives exactly what the running fold holds.
    fresh = await replay(runner.engine, runner.size)
    assert fresh.findings() == runner.findings()
    assert fresh.times() == runner.times()

    # Erasing the household handed over twice: its leaves count by their public view only,
    # so its findings go, and the running fold still equals a replay.
    erased = await audit.client.post(
        "/ledger/erasures",
        headers=ADMIN,
        json={
            "legal_basis": "data_subject_request",
            "reference": "surat 1/2026",
            "household_id": str(planted.twice.household_id),
            "aggregate_id": None,
        },
    )
    assert erased.status_code == 201, erased.text
    await folded(audit, len(planted.envelopes) + 1)

    def rules_now() -> list[str]:
        return sorted(runner.finding_counts())

    assert await eventually(lambda: rules_now() == ["nik_in_two_households"])
    fresh = await replay(runner.engine, runner.size)
    assert fresh.findings() == runner.findings()
    reconciled = (
        await get(audit, f"/oversight/rounds/{planted.round.round_id}/reconciliation")
    ).json()
    assert reconciled["total"]["allocated"] == {"households": 2, "idr": 2 * BENEFIT}
    assert reconciled["total"]["received"]["households"] == 2  # two erased receipts, by view


async def test_reconciliation_timeline_and_times(audit: Audit) -> None:
    planted = Planted()
    await audit.publish(*planted.envelopes)
    await folded(audit, len(planted.envelopes))

    r = (await get(audit, f"/oversight/rounds/{planted.round.round_id}/reconciliation")).json()
    (rw03,) = r["rws"]
    assert rw03["rw"] == "03" and r["endorsed"] is True
    # Three eligible households in RW 03 (the copy too), two allocated, one received.
    assert rw03["budgeted"] == {"households": 3, "idr": 3 * BENEFIT}
    assert rw03["allocated"] == {"households": 2, "idr": 2 * BENEFIT}
    assert rw03["received"] == {"households": 1, "idr": BENEFIT}
    assert rw03["outstanding"] == {"households": 1, "idr": BENEFIT}
    assert [p["household_id"] for p in r["not_received"]] == [str(planted.clean.household_id)]
    assert r["closure"] is None

    timeline = (
        await get(audit, f"/oversight/households/{planted.twice.household_id}/timeline")
    ).json()
    expected = {*planted.twice.indices.values(), planted.first}
    assert [e["index"] for e in timeline["entries"]] == sorted(expected)
    checkpoint = timeline["checkpoint"]
    for e in timeline["entries"]:
        proof = e["proof"]
        assert proof is not None and proof["tree_size"] == checkpoint["tree_size"]
        verify_inclusion(
            e["index"],
            proof["tree_size"],
            b64(proof["leaf_hash"]),
            [b64(h) for h in proof["hashes"]],
            b64(checkpoint["root_hash"]),
        )
    assert {e["type"] for e in timeline["entries"]} >= {
        "registry.household_registered",
        "distribution.aid_allocated",
        "distribution.aid_received",
    }

    times = (await get(audit, "/oversight/times", rw="03", programme="BLT")).json()
    assert {t["step"] for t in times["times"]} == {"eligible_to_allocated", "allocated_to_received"}
    everyone = await get(audit, "/oversight/times", rw="all", step="registered_to_eligible")
    (row,) = everyone.json()["times"]
    assert row["rw"] is None and row["count"] == 3


async def test_auditors_only_and_bad_parameters(audit: Audit) -> None:
    await audit.caught_up(0)
    paths = [
        "/oversight/findings",
        "/oversight/times",
        "/oversight/rounds/00000000-0000-4000-8000-000000000000/reconciliation",
        "/oversight/households/00000000-0000-4000-8000-000000000000/timeline",
    ]
    for path in paths:
        assert (await audit.client.get(path)).status_code == 401
        assert (await audit.client.get(path, headers=OPERATOR)).status_code == 403
    bad = {
        "/oversight/findings?rule=made_up": (400, "not_a_choice", "rule"),
        "/oversight/findings?rw=3": (400, "malformed_parameter", "rw"),
        "/oversight/findings?since=2026-13-01": (400, "not_a_day", "since"),
        "/oversight/findings?format=xml": (400, "not_a_choice", "format"),
        "/oversight/findings?limit=abc": (400, "not_a_number", "limit"),
        "/oversight/times?month=2026-1": (400, "malformed_parameter", "month"),
        "/oversight/rounds/not-a-uuid/reconciliation": (400, "malformed_parameter", "round_id"),
        paths[2]: (404, "round_not_in_ledger", "round_id"),
        paths[3]: (404, "household_not_in_ledger", "household_id"),
    }
    for path, (status, code, field) in bad.items():
        reply = await audit.client.get(path, headers=AUDITOR)
        body = reply.json()
        assert (reply.status_code, body["error"], body["details"][0]["field"]) == (
            status,
            code,
            field,
        ), path
