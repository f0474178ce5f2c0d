"""End to end across three services, in process on one real nats-server, each with its own
database (SQLite files, or three PostgreSQL databases): a refused household appeals in the
community → the registry matches it and asks for a re-survey → an operator surveys and
decides it eligible → the community shows the appeal upheld → distribution, which learns
eligibility only from the registry's events, can now allocate the household aid it
refused before the appeal."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.community.service import SERVICE as COMMUNITY
from services.community.settings import CommunitySettings
from services.distribution.service import SERVICE as DISTRIBUTION
from services.distribution.settings import DistributionSettings
from services.registry import demo
from services.registry.service import SERVICE as REGISTRY
from services.registry.settings import RegistrySettings
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from tests.conftest import fresh_postgres_database
from tests.helpers import NatsServer, bearer, eventually, serve_app

OPERATOR = bearer(Role.registry_operator, "operator.siti")
MANAGER = bearer(Role.programme_manager, "manager.dewi")


@pytest.fixture(params=["sqlite", "postgres"])
async def three_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[list[str]]:
    names = ("registry", "community", "distribution")
    if request.param == "sqlite":
        yield [f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in names]
        return
    base = request.getfixturevalue("postgres_base_url")
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(fresh_postgres_database(base)) for _ in names]


async def eligibility(distribution: httpx.AsyncClient, hid: str) -> bool | None:
    reply = await distribution.get(f"/eligibility/{hid}", headers=MANAGER)
    return reply.json()["eligible"] if reply.status_code == 200 else None


async def test_an_appeal_re_surveys_a_household_and_distribution_can_then_allocate_it(
    three_databases: list[str], nats_server: NatsServer
) -> None:
    url = nats_server.url
    registry_db, community_db, distribution_db = three_databases
    apps = (
        REGISTRY.app(RegistrySettings(database_url=registry_db, nats_url=url)),
        COMMUNITY.app(CommunitySettings(database_url=community_db, nats_url=url)),
        DISTRIBUTION.app(DistributionSettings(database_url=distribution_db, nats_url=url)),
    )
    rng = random.Random(1515)
    async with (
        serve_app(apps[0]) as registry,
        serve_app(apps[1]) as community,
        serve_app(apps[2]) as distribution,
    ):
        # A household the registry refused, as distribution learns it.
        body: dict[str, Any] = demo.household(rng, "05")
        body.update(monthly_income_idr=90_000_000, desil=None)
        created = await registry.post("/households", json=body, headers=OPERATOR)
        assert created.status_code == 201, created.text
        hid = created.json()["household_id"]
        assert (await registry.post(f"/households/{hid}/eligibility", headers=OPERATOR)).json()[
            "eligible"
        ] is False
        await eventually(lambda: _is(eligibility(distribution, hid), False))

        period = f"{wib_today():%Y-%m}"
        budget = {
            "programme": "BLT",
            "period": period,
            "amount_idr": 6_000_000,
            "benefit_idr": 600_000,
        }
        assert (await distribution.post("/budgets", json=budget, headers=MANAGER)).is_success
        posko = {"rw": "05", "place": "Posko RW 05, balai warga", "on": str(wib_today())}
        scheduled = await distribution.post(
            "/rounds",
            json={"programme": "BLT", "period": period, "poskos": [posko]},
            headers=MANAGER,
        )
        assert scheduled.status_code == 201, scheduled.text
        rid = scheduled.json()["round_id"]
        allocation = {"household_id": hid}
        before = await distribution.post(
            f"/rounds/{rid}/allocations", json=allocation, headers=MANAGER
        )
        assert before.status_code == 422 and before.json()["error"] == "household_not_eligible"

        # The head appeals at the posko's public form.
        head = next(m for m in body["members"] if m["relationship"] == "head")
        filed = await community.post(
            "/appeals", json={"head_nik": head["nik"], "reason": "wrongly_refused", "rw": "05"}
        )
        assert filed.status_code == 201, filed.text
        code = filed.json()["tracking_code"]

        async def work_list() -> list[dict[str, Any]]:
            reply = await registry.get("/households/resurveys", headers=OPERATOR)
            return [r for r in reply.json() if r["household_id"] == hid]

        await eventually(work_list)
        # The operator re-surveys: the income has fallen since the first form.
        await registry.patch(
            f"/households/{hid}", json={"monthly_income_idr": 300_000}, headers=OPERATOR
        )
        survey = {
            **demo.survey(rng, {**body, "monthly_income_idr": 300_000}),
            "surveyed_on": str(wib_today()),
        }
        assert (
            await registry.post(f"/households/{hid}/surveys", json=survey, headers=OPERATOR)
        ).is_success
        decided = await registry.post(f"/households/{hid}/eligibility", headers=OPERATOR)
        assert decided.json()["eligible"] is True, decided.text

        async def upheld() -> bool:
            reply = (await community.get(f"/appeals/track/{code}")).json()
            return reply["status"] == "decided" and reply["outcome"] == "upheld"

        await eventually(upheld)
        await eventually(lambda: _is(eligibility(distribution, hid), True))
        after = await distribution.post(
            f"/rounds/{rid}/allocations", json=allocation, headers=MANAGER
        )
        assert after.status_code == 201, after.text
        assert after.json()["rw"] == "05" and after.json()["amount_idr"] == 600_000
        stats = (await community.get("/appeals/stats")).json()
        assert stats["per_rw"][0]["rw"] == "05" and stats["total"]["filed"] == "<5"


async def _is(value: Any, expected: bool) -> bool:
    return bool(await value is expected)
