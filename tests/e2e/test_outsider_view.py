"""What an outsider learns (docs/architecture.md#the-ledger–§7): the demo, read only through the
public API.

The stack runs `bansos demo` (500 households, both aid rounds, three courses, complaints,
feedback, meetings); then, with no token, everything public is read: every ledger entry,
every search and checkpoint, and every GET route of every service that answers without a
token. (a) None of it holds a ticket or receipt code, NIK, KK, name, phone, address, GPS
or staff note. (b) With the auditor's openings as ground truth of which household each
leaf is about, every household's public facts are shared with at least 10 others: the
facts of each leaf about a household (its public view but for type, day and role) also
hold of at least 11 households, counting every published id a join could use.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.community import demo as community_demo
from services.distribution import demo as distribution_demo
from services.training import demo as training_demo
from shared.auth import Role
from shared.cli import run_demo
from shared.demo import DEMO_SUBJECTS
from shared.events import PAYLOAD_TYPES
from shared.settings import CommonSettings
from tests.helpers import UpProcess, bearer

pytestmark = pytest.mark.e2e
K = 11  # a household and at least 10 others
COMMON = {"type", "day", "actor_role"}


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UpProcess, Any]]:
    up = UpProcess(tmp_path_factory.mktemp("outsider") / "var")
    up.start(wait_for=(1, 2, 3, 4, 5), within=90)
    try:
        names = ("registry", "distribution", "training", "community", "audit")
        made = run_demo({name: up.url(n) for n, name in enumerate(names, 1)}, 500, seed=2026)
        yield up, made
    finally:
        up.stop()


def audit(up: UpProcess) -> httpx.Client:
    return httpx.Client(base_url=up.url(5), timeout=30)


def caught_up(up: UpProcess) -> int:
    """The ledger's size once it holds every event of the demo (the stack is idle now)."""
    deadline, last = time.monotonic() + 60, -1
    with audit(up) as client:
        while time.monotonic() < deadline:
            stats = client.get("/ledger/stats").json()
            if stats["tree_size"] == last and stats["checkpoint_size"] == last:
                return last
            last = stats["tree_size"]
            time.sleep(1.0)
    raise AssertionError("the ledger did not settle")


def public_pages(up: UpProcess) -> list[str]:
    """Everything a visitor without a token can read."""
    size = caught_up(up)
    pages: list[str] = []
    with audit(up) as ledger:
        for start in range(0, size, 1000):
            pages.append(ledger.get("/ledger/entries", params={"start": start, "limit": 1000}).text)
        for event_type, _ in PAYLOAD_TYPES:
            pages.append(ledger.get("/ledger/search", params={"type": event_type}).text)
        for path in ("/ledger/checkpoint", "/ledger/checkpoint.json", "/ledger/stats"):
            pages.append(ledger.get(path).text)
    for offset in range(1, 6):
        with httpx.Client(base_url=up.url(offset), timeout=30) as service:
            spec = service.get("/openapi.json").json()
            for path, operations in spec["paths"].items():
                # Every public read but the API documents (schemas, not data).
                if "get" in operations and "{" not in path and path != "/asyncapi.json":
                    reply = service.get(path)
                    if reply.status_code == 200:
                        pages.append(reply.text)
    return pages


def secrets_of(up: UpProcess, made: dict[str, Any]) -> dict[str, set[str]]:
    """The personal data and bearer codes the demo made, as staff can read them."""
    people: set[str] = set()
    operator = bearer(Role.registry_operator, "operator.outsider-test")
    with httpx.Client(base_url=up.url(1), headers=operator, timeout=30) as registry:
        cursor = None
        while True:
            page = registry.get("/households", params={"limit": 200, "cursor": cursor}).json()
            for item in page["items"]:
                hh = registry.get(f"/households/{item['household_id']}").json()
                people |= {hh["kk_number"], hh["address"]} | ({hh["phone"]} - {None})
                for m in hh["members"]:
                    people |= {m["nik"], m["full_name"]}
            if not (cursor := page["next_cursor"]):
                break
    notes = {
        "kunjungan petugas",
        "field visit",
        "jadwal disepakati dalam rembuk warga",
        "Diterima, sedang dicek.",
        "Perlu tindak lanjut",
        "Sudah ditindaklanjuti bersama RT/RW",
        *training_demo.WITHDRAWAL_NOTES.values(),
        *training_demo.OUTCOME_NOTES.values(),
        *(c.trainer for c in training_demo.COURSES),
        *(text for _, text in community_demo.COMPLAINTS),
        *community_demo.CASE_NOTES.values(),
        community_demo.APPEAL_WORDS,
        # staff are shown by role, never by name
        *(sub for role, sub in DEMO_SUBJECTS.items() if sub != role.value),
        *(distribution_demo.officer_of(rw) for rw in CommonSettings().rw_list),
    }
    return {
        "personal data": people,
        "receipt codes": {c for r in made["rounds"] for c in r["receipt_codes"]},
        "ticket codes": set(made["community"]["tickets"]) | ({made.get("appeal")} - {None}),
        "staff text": notes,
    }


def test_public_outputs_hold_no_personal_data_codes_gps_or_staff_text(
    demo_stack: tuple[UpProcess, Any],
) -> None:
    up, made = demo_stack
    everything = "\n".join(public_pages(up))
    secrets = secrets_of(up, made)
    assert len(secrets["personal data"]) > 2000 and secrets["receipt codes"]
    assert secrets["ticket codes"]
    for kind, values in secrets.items():
        leaked = sorted(v for v in values if v and v in everything)
        assert leaked == [], f"{kind} in public outputs: {leaked[:5]}"
    # The demo's hand-over GPS lies around -6.31, 106.836: no coordinate may show.
    assert not re.search(r"106\.8\d", everything) and not re.search(r"-6\.3\d", everything)


def household_of_each_leaf(up: UpProcess) -> tuple[dict[int, str], dict[int, dict[str, Any]]]:
    """Opened as an auditor: which household each leaf is about, and every public view."""
    auditor = bearer(Role.auditor, "auditor.outsider-test")
    allocation: dict[str, str] = {}
    enrolment: dict[str, str] = {}
    about: dict[int, str] = {}
    views: dict[int, dict[str, Any]] = {}
    size = caught_up(up)
    with audit(up) as ledger:
        for start in range(0, size, 1000):
            page = ledger.get("/ledger/entries", params={"start": start, "limit": 1000}).json()
            views |= {e["index"]: e["public"] for e in page["entries"]}
            sealed = ledger.get(
                "/ledger/sealed", params={"start": start, "limit": 1000}, headers=auditor
            ).json()
            for entry in sealed["entries"]:
                envelope = entry.get("envelope")
                if envelope is None:
                    continue
                payload = envelope["payload"]
                household = (
                    envelope["aggregate_id"]
                    if envelope["aggregate_type"] == "household"
                    else payload.get("household_id")
                    or (payload.get("references") or {}).get("household_id")
                    or allocation.get(envelope["aggregate_id"])
                    or enrolment.get(payload.get("enrolment_id", ""))
                )
                if envelope["type"] == "distribution.aid_allocated":
                    allocation[envelope["aggregate_id"]] = household
                if envelope["type"] == "training.trainee_enrolled":
                    enrolment[payload["enrolment_id"]] = household
                if household:
                    about[entry["index"]] = household
    return about, views


def facts(view: dict[str, Any]) -> frozenset[tuple[str, str]]:
    return frozenset((k, json.dumps(v, sort_keys=True)) for k, v in view.items() if k not in COMMON)


def test_every_household_shares_its_public_facts_with_at_least_ten_others(
    demo_stack: tuple[UpProcess, Any],
) -> None:
    up, _ = demo_stack
    about, views = household_of_each_leaf(up)
    records: dict[str, set[frozenset[tuple[str, str]]]] = defaultdict(set)
    for index, household in about.items():
        records[household].add(facts(views[index]))
    assert len(records) >= 450  # the demo's households, seen through their leaves
    singled_out = {}
    for wanted in {f for fs in records.values() for f in fs}:
        sharing = sum(1 for fs in records.values() if any(wanted <= f for f in fs))
        if sharing < K:
            singled_out[tuple(sorted(wanted))] = sharing
    assert singled_out == {}, f"public facts shared by fewer than {K} households: {singled_out}"
