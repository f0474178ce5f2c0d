"""Appeals over HTTP, the registry beside the community on one real nats-server (each
with its own database, SQLite files or two PostgreSQL databases): a refused household's
appeal is matched by the registry through the bus, re-surveyed by an operator from the
work list, decided again, and the resident sees it upheld; an appeal naming no household
is answered unmatched; statistics per RW suppress small cells; no NIK, KK, description or
tracking code reaches the bus."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.community.api.appeal_schemas import APPEAL_CODE
from services.community.service import SERVICE as COMMUNITY
from services.community.settings import CommunitySettings
from services.registry import demo
from services.registry.service import SERVICE as REGISTRY
from services.registry.settings import RegistrySettings
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events import Envelope
from shared.pii import commitments
from shared.settings import CommonSettings
from tests.helpers import NatsServer, bearer, eventually, serve_app, stream_messages

OPERATOR = bearer(Role.registry_operator, "operator.siti")
FACILITATOR = bearer(Role.community_facilitator, "facilitator.yusuf")
AUDITOR = bearer(Role.auditor, "inspektorat.hasan")
WORDS = "Suami saya sakit stroke sejak Mei, penghasilan kami tinggal Rp 400.000"


@dataclass
class System:
    registry: httpx.AsyncClient
    community: httpx.AsyncClient
    nats_url: str
    rng: random.Random


@pytest.fixture
async def system(two_databases: list[str], nats_server: NatsServer) -> AsyncIterator[System]:
    registry = REGISTRY.app(
        RegistrySettings(database_url=two_databases[0], nats_url=nats_server.url)
    )
    community = COMMUNITY.app(
        CommunitySettings(database_url=two_databases[1], nats_url=nats_server.url)
    )
    async with serve_app(registry) as reg, serve_app(community) as com:
        yield System(reg, com, nats_server.url, random.Random(15))


async def refused(system: System, rw: str = "06") -> dict[str, Any]:
    """A household registered and decided not eligible (well off, by its first form)."""
    body = demo.household(system.rng, rw)
    body.update(monthly_income_idr=90_000_000, desil=None)
    created = await system.registry.post("/households", json=body, headers=OPERATOR)
    assert created.status_code == 201, created.text
    body["household_id"] = hid = created.json()["household_id"]
    decided = await system.registry.post(f"/households/{hid}/eligibility", headers=OPERATOR)
    assert decided.json()["eligible"] is False
    body["head_nik"] = next(m["nik"] for m in body["members"] if m["relationship"] == "head")
    return body


async def tracked(system: System, code: str, status: str) -> dict[str, Any] | None:
    reply = (await system.community.get(f"/appeals/track/{code}")).json()
    return reply if reply["status"] == status else None


async def test_a_refused_household_appeals_is_re_surveyed_and_the_appeal_upheld(
    system: System,
) -> None:
    household = await refused(system)
    hid = household["household_id"]
    filed = await system.community.post(
        "/appeals",
        json={
            "head_nik": household["head_nik"],
            "reason": "wrongly_refused",
            "rw": "06",
            "description": WORDS,
        },
    )
    assert filed.status_code == 201, filed.text
    code = filed.json()["tracking_code"]
    assert re.fullmatch(APPEAL_CODE, code)
    assert (filed.json()["status"], filed.json()["sla"]["state"]) == ("acknowledged", "on_track")

    # The registry matched it by the NIK's commitment and put it on the work list.
    scheduled = await eventually(lambda: tracked(system, code, "resurvey_scheduled"))
    assert [s["step"] for s in scheduled["steps"]] == ["acknowledged", "resurvey_scheduled"]
    assert WORDS not in str(scheduled) and household["head_nik"] not in str(scheduled)
    work = await system.registry.get("/households/resurveys", headers=OPERATOR)
    [item] = work.json()
    assert (item["household_id"], item["reason"], item["surveyed_at"]) == (
        hid,
        "wrongly_refused",
        None,
    )
    head = next(m for m in household["members"] if m["relationship"] == "head")
    assert item["head_name"] == head["full_name"]
    assert (await system.registry.get("/households/resurveys", headers=AUDITOR)).status_code == 403

    # A decision before the new survey leaves the appeal open.
    again = await system.registry.post(f"/households/{hid}/eligibility", headers=OPERATOR)
    assert again.json()["eligible"] is False
    # The operator visits: the income has fallen; survey, then decide again.
    patched = await system.registry.patch(
        f"/households/{hid}", json={"monthly_income_idr": 400_000}, headers=OPERATOR
    )
    assert patched.status_code == 200, patched.text
    survey = demo.survey(system.rng, {**household, "monthly_income_idr": 400_000})
    survey["surveyed_on"] = str(wib_today())
    recorded = await system.registry.post(
        f"/households/{hid}/surveys", json=survey, headers=OPERATOR
    )
    assert recorded.status_code == 201, recorded.text
    [item] = (await system.registry.get("/households/resurveys", headers=OPERATOR)).json()
    assert item["surveyed_at"] is not None and item["completed_at"] is None
    decided = await system.registry.post(f"/households/{hid}/eligibility", headers=OPERATOR)
    assert decided.json()["eligible"] is True, decided.text

    upheld = await eventually(lambda: tracked(system, code, "decided"))
    assert upheld["outcome"] == "upheld" and upheld["sla"]["state"] == "met"
    assert [s["step"] for s in upheld["steps"]] == ["acknowledged", "resurvey_scheduled", "decided"]
    assert upheld["steps"][-1]["outcome"] == "upheld"
    assert not re.search(r"T\d\d:\d\d", str(upheld)), "the public sees days, not times"
    open_ = await system.registry.get("/households/resurveys", headers=OPERATOR)
    assert open_.json() == []
    done = await system.registry.get("/households/resurveys?state=completed", headers=OPERATOR)
    assert [(r["household_id"], r["verdict"]) for r in done.json()] == [(hid, "eligible")]

    listed = (await system.community.get("/appeals", headers=FACILITATOR)).json()["items"]
    assert [(i["status"], i["outcome"]) for i in listed] == [("decided", "upheld")]
    assert not {"code_commitment", "tracking_code", "household_id"} & set(listed[0])

    # On the bus: commitments only, and the registry's answers carry the appeal's id.
    messages = await stream_messages(system.nats_url)
    everything = b"\n".join(m.data for m in messages).decode()
    secrets = [code, WORDS, household["kk_number"], *(m["nik"] for m in household["members"])]
    assert [s for s in secrets if s in everything] == []
    envelopes = [Envelope.model_validate_json(m.data) for m in messages]
    [appeal] = [e for e in envelopes if e.type == "community.appeal_filed"]
    keys = commitments(CommonSettings())
    assert appeal.payload["nik_commitment"] == keys.nik(household["head_nik"])
    assert appeal.payload["code_commitment"] == keys.ticket(code)
    answers = [e for e in envelopes if e.type.startswith("registry.resurvey_")]
    assert [e.payload["appeal_id"] for e in answers] == [str(appeal.aggregate_id)] * 2
    assert {e.actor_role for e in answers if e.type.endswith("requested")} == {"registry"}


async def test_an_appeal_naming_no_household_is_answered_unmatched(system: System) -> None:
    household = await refused(system, "03")
    by_kk = await system.community.post(
        "/appeals",
        json={"kk_number": household["kk_number"], "reason": "data_outdated", "rw": "03"},
    )
    stranger = await system.community.post(
        "/appeals", json={"kk_number": "3174090101990001", "reason": "other", "rw": "03"}
    )
    matched = await eventually(
        lambda: tracked(system, by_kk.json()["tracking_code"], "resurvey_scheduled")
    )
    assert matched["reason"] == "data_outdated"  # the KK's commitment matched it too
    unmatched = await eventually(
        lambda: tracked(system, stranger.json()["tracking_code"], "unmatched")
    )
    assert unmatched["outcome"] is None and unmatched["sla"]["state"] == "met"
    assert [s["step"] for s in unmatched["steps"]] == ["acknowledged", "unmatched"]


async def test_bad_appeals_are_refused_naming_the_field(system: System) -> None:
    c = system.community
    nobody = await c.post("/appeals", json={"reason": "other", "rw": "03"})
    assert nobody.status_code == 422 and nobody.json()["error"] == "appeal_household_required"
    assert nobody.json()["details"][0]["field"] == "head_nik"
    short = await c.post("/appeals", json={"head_nik": "12345", "reason": "other", "rw": "03"})
    assert short.status_code == 422 and short.json()["details"][0]["field"] == "head_nik"
    reason = await c.post("/appeals", json={"head_nik": "1" * 16, "reason": "angry", "rw": "03"})
    assert reason.status_code == 422 and reason.json()["details"][0]["field"] == "reason"
    outside = await c.post("/appeals", json={"head_nik": "1" * 16, "reason": "other", "rw": "42"})
    assert outside.status_code == 422 and outside.json()["error"] == "rw_outside_kelurahan"
    unknown = await c.get("/appeals/track/BD-2222-2222")
    assert unknown.status_code == 404 and unknown.json()["error"] == "appeal_code_not_found"
    assert (await c.get("/appeals/track/not-a-code")).status_code == 422


async def test_stats_per_rw_suppress_small_cells_and_filing_is_rate_limited(
    system: System,
) -> None:
    c = system.community
    body = {"reason": "wrongly_dropped", "rw": "07"}
    codes = []
    for i in range(5):  # five residents of RW 07 (the public limit is 5 per 10 minutes)
        reply = await c.post("/appeals", json={**body, "kk_number": f"31740901019900{i:02d}"})
        assert reply.status_code == 201, reply.text
        codes.append(reply.json()["tracking_code"])
    limited = await c.post("/appeals", json={**body, "kk_number": "3174090101990099"})
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    # A facilitator enters a paper form from the posko (staff are not limited so).
    paper = {"kk_number": "3174090101990098", "reason": "other", "rw": "08"}
    assert (await c.post("/appeals", json=paper, headers=FACILITATOR)).status_code == 201
    for code in codes:
        await eventually(lambda code=code: tracked(system, code, "unmatched"))

    stats = (await c.get("/appeals/stats")).json()  # public, no token
    by_rw = {r["rw"]: r for r in stats["per_rw"]}
    assert by_rw["07"] == {
        "rw": "07",
        "filed": 5,
        "upheld": "<5",
        "rejected": "<5",
        "unmatched": 5,
        "pending": "<5",
        "past_sla": "<5",
    }
    assert by_rw["08"]["filed"] == "<5"
    assert stats["total"]["filed"] == 6 and stats["total"]["rw"] == "all"
