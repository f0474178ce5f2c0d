"""The residents' side of the audit service against a real nats-server and database: the
transparency page, the posko schedule and cek bansos (a receipt code finds its hand-over,
whose proof verifies, and nothing in the reply names the household)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.merkle import leaf_hash, verify_inclusion
from shared.pii import commitments
from tests.audit.public_scenario import BENEFIT, Scenario
from tests.audit.service import ADMIN, Audit, running
from tests.helpers import NatsServer

CODE = "BT-7K3M-9QXP-4D2A"


@dataclass(frozen=True)
class StepTime:  # the contract's shape (services/audit/domain/oversight/times.py)
    step: str
    rw: str | None
    programme: str | None
    month: str
    count: int
    median_days: float
    p90_days: float


class FakeOversight:
    def finding_counts(self) -> dict[str, int]:
        return {"handover_twice": 7, "evidence_reused": 2, "a_new_rule": 5}

    def times(self) -> list[StepTime]:
        return [
            StepTime("allocated_to_received", None, None, "2026-11", 40, 2.0, 6.5),
            StepTime("complaint_filed_to_resolved", None, None, "2026-11", 9, 8.0, 21.0),
            StepTime("complaint_filed_to_resolved", "03", None, "2026-11", 8, 9.0, 22.0),
            StepTime("complaint_filed_to_resolved", "04", None, "2026-11", 1, 3.0, 3.0),
        ]


@pytest.fixture
async def seeded(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[Audit, Scenario]]:
    async with running(database_url, nats_server.url, tmp_path / "audit") as audit:
        scenario = Scenario(CODE, commitments(audit.app.state.settings))
        await audit.publish(*scenario.events())
        await audit.caught_up(len(audit.published))
        yield audit, scenario


# A hash, root or signature in base64 or hex (the shortest, a 32-byte hash, is 44 or 64).
DIGEST = re.compile(r"[a-z0-9+/]{40,}={0,2}")


def text_of(reply: Any) -> str:
    """A reply's text with the leaf bytes decoded too: what a reader could see."""
    body = reply.json()
    return reply.text + base64.b64decode(body["leaf_data"]).decode()


async def test_the_page_shows_the_ledgers_figures_in_indonesian_and_english(
    seeded: tuple[Audit, Scenario],
) -> None:
    audit, _ = seeded
    page = await audit.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="id">' in html and "Per RW" in html
    assert "Rp 2.400.000" in html  # 8 allocations of Rp 300.000
    assert "Rp 1.800.000" in html  # RW 03's 6 hand-overs… allocated; received Rp 1.500.000
    assert "Rp 1.500.000" in html
    assert f'<span id="ledger-size">{len(audit.published)}</span>' in html
    assert "&lt;5" in html  # RW 04's small cells
    assert "bansos verify --url" in html and "cdn" not in DIGEST.sub(" ", html.lower())
    # The oversight's counts per rule, as it holds them now (no ids).
    assert '<section id="findings"><h2>Temuan pengawasan per aturan</h2>' in html
    for rule in audit.app.state.oversight.finding_counts():
        assert f'data-rule="{rule}"' in html
    english = await audit.client.get("/", params={"lang": "en"})
    assert '<html lang="en">' in english.text and "IDR 2,400,000" in english.text
    assert "Oversight findings per rule" in english.text
    # The choice is remembered.
    assert english.cookies.get("bansos_lang") == "en"
    again = await audit.client.get("/")
    assert '<html lang="en">' in again.text
    audit.client.cookies.clear()


async def test_the_page_shows_the_oversights_counts_and_times(
    seeded: tuple[Audit, Scenario],
) -> None:
    audit, _ = seeded
    real = audit.app.state.oversight
    audit.app.state.oversight = FakeOversight()
    try:
        html = (await audit.client.get("/", params={"lang": "en"})).text
    finally:
        audit.app.state.oversight = real
    assert '<span data-rule="handover_twice">7</span>' in html
    assert '<span data-rule="evidence_reused">&lt;5</span>' in html
    assert "a_new_rule" in html  # unknown codes as they are
    assert "Allocated → received" in html and "6.5" in html
    assert 'class="bar late"' in html  # RW 03: 90% within 22 days, past 14


async def test_the_schedule_shows_coming_poskos_only(seeded: tuple[Audit, Scenario]) -> None:
    audit, scenario = seeded
    html = (await audit.client.get("/jadwal")).text
    assert "Balai warga RW 03" in html and scenario.today.isoformat() in html
    assert "Pos RW 05" in html
    assert "Musala RW 04" not in html  # yesterday's


async def test_a_receipt_code_finds_its_hand_over_and_its_proof_verifies(
    seeded: tuple[Audit, Scenario],
) -> None:
    audit, scenario = seeded
    reply = await audit.client.post("/cek/receipts", json={"code": CODE.lower()})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["handed_over"] == {
        "programme": "SEMBAKO",
        "period": "2026-11",
        "rw": "03",
        "amount_idr": BENEFIT,
        "day": "2026-11-30",
        "place": "Balai warga RW 03",
        "package": [{"name": "beras", "quantity": 10, "unit": "kg"}],
        "round_id": str(scenario.round_id),
    }
    data = base64.b64decode(body["leaf_data"])
    public = json.loads(data)["public"]
    assert public["type"] == "distribution.aid_received" and public["rw"] == "03"
    proof, checkpoint = body["proof"], body["checkpoint"]
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(data)
    assert proof["tree_size"] == checkpoint["tree_size"] and body["index"] < proof["tree_size"]
    verify_inclusion(
        body["index"],
        proof["tree_size"],
        leaf_hash(data),
        [base64.b64decode(h) for h in proof["hashes"]],
        base64.b64decode(checkpoint["root_hash"]),
    )
    entry = (await audit.client.get("/ledger/entries", params={"start": body["index"]})).json()
    assert entry["entries"][0]["leaf_data"] == body["leaf_data"]


async def test_a_receipts_reply_names_no_household(seeded: tuple[Audit, Scenario]) -> None:
    audit, scenario = seeded
    reply = await audit.client.post("/cek/receipts", json={"code": CODE})
    seen = text_of(reply).lower()
    for secret in [
        *scenario.secrets,
        *map(str, scenario.households),
        *map(str, scenario.allocations),
    ]:
        assert secret.lower() not in seen
    # Hashes and signatures are random letters: "nik" turns up in one run of fifty or so.
    words = DIGEST.sub(" ", seen)
    for word in ("household", "nik", "commitment", "gps", "-6.31", "106.84", "mawar", CODE.lower()):
        assert word not in words, word
    assert "t03:00" not in seen  # no time finer than a day


async def test_a_wrong_code_is_404_and_a_malformed_one_422_naming_the_field(
    seeded: tuple[Audit, Scenario],
) -> None:
    audit, _ = seeded
    wrong = await audit.client.post("/cek/receipts", json={"code": "BT-2222-3333-4444"})
    assert wrong.status_code == 404 and wrong.json()["error"] == "receipt_not_found"
    bad = await audit.client.post("/cek/receipts", json={"code": "TB-1234"})
    assert bad.status_code == 422
    assert [d["field"] for d in bad.json()["details"]] == ["code"]


async def test_an_erased_hand_over_is_no_longer_found_by_its_code(
    seeded: tuple[Audit, Scenario],
) -> None:
    audit, scenario = seeded
    erased = await audit.client.post(
        "/ledger/erasures",
        json={
            "legal_basis": "data_subject_request",
            "reference": "SURAT-1",
            "household_id": str(scenario.households[0]),
        },
        headers=ADMIN,
    )
    assert erased.status_code == 201, erased.text
    reply = await audit.client.post("/cek/receipts", json={"code": CODE})
    assert reply.status_code == 404
    other = await audit.client.post("/cek/receipts", json={"code": "BT-2222-2222-2223"})
    assert other.status_code == 200  # a neighbour's receipt stays


async def test_cek_bansos_is_rate_limited(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    async with running(
        database_url, nats_server.url, tmp_path / "audit", receipt_check_rate="2/minute"
    ) as audit:
        codes = [
            (await audit.client.post("/cek/receipts", json={"code": CODE})).status_code
            for _ in range(3)
        ]
    assert codes[:2] == [404, 404] and codes[2] == 429
