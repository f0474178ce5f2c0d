"""End to end under `bansos up`: a member of a household registered in the registry
enrols in a course, attends, completes, is followed up; every event reaches the ledger, no
NIK, name, trainer or staff note on the bus (docs/architecture.md#personal-data)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from services.registry import demo
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from tests.audit.test_audit_e2e import verify
from tests.e2e.test_registry_e2e import personal_data
from tests.helpers import UpProcess, bearer, eventually, stream_holds

pytestmark = pytest.mark.e2e
TRAINER = "Mbak Rina Wulandari"
NOTE = "membuka lapak daring di rumah, dibantu anaknya"
OPERATOR = bearer(Role.registry_operator, "operator.e2e")
COORDINATOR = bearer(Role.training_coordinator, "coordinator.e2e")


@pytest.fixture
def up(tmp_path: Path, stack_env: dict[str, str]) -> Iterator[UpProcess]:
    process = UpProcess(tmp_path / "var", stack_env)
    process.start(wait_for=(1, 3, 5))
    yield process
    process.stop()


async def test_a_member_trains_and_the_ledger_holds_it(up: UpProcess) -> None:
    rng = random.Random(303)
    body = demo.household(rng, "08")
    async with (
        httpx.AsyncClient(base_url=up.url(1), headers=OPERATOR, timeout=30) as registry,
        httpx.AsyncClient(base_url=up.url(3), headers=COORDINATOR, timeout=30) as training,
    ):
        created = await registry.post("/households", json=body)
        assert created.status_code == 201, created.text
        hid = created.json()["household_id"]
        assert (await registry.post(f"/households/{hid}/eligibility")).is_success

        async def known() -> bool:
            reply = await training.get(f"/eligibility/{hid}")
            return reply.status_code == 200 and reply.json()["eligible"] is not None

        await eventually(known, within=30)
        # Entered from the paper registers: held four months ago, so its 3-month follow-up
        # is due.
        held = wib_today() - timedelta(days=122)
        course = await training.post(
            "/courses",
            json={
                "category": "digital_skills",
                "title": "Jualan daring untuk usaha rumahan",
                "trainer": TRAINER,
                "capacity": 10,
                "sessions": [
                    {"on": str(held - timedelta(days=7)), "place": "Kelurahan"},
                    {"on": str(held), "place": "Kelurahan"},
                ],
            },
        )
        assert course.status_code == 201, course.text
        assert course.json()["trainer"] == TRAINER  # from training's own store
        cid, sessions = course.json()["course_id"], course.json()["sessions"]
        member = body["members"][-1]
        enrolled = await training.post(
            f"/courses/{cid}/enrolments", json={"household_id": hid, "member_nik": member["nik"]}
        )
        assert enrolled.status_code == 201, enrolled.text
        eid = enrolled.json()["enrolment_id"]
        for s in sessions:
            attended = await training.post(
                f"/courses/{cid}/sessions/{s['session_id']}/attendance", json={"present": [eid]}
            )
            assert attended.status_code == 200, attended.text
        done = await training.post(f"/courses/{cid}/enrolments/{eid}/completion")
        assert done.json()["status"] == "completed", done.text
        outcome = {"months_after": 3, "monthly_income_idr": 1_500_000, "business_status": "started"}
        followed = await training.post(
            f"/courses/{cid}/enrolments/{eid}/outcomes", json={**outcome, "note": NOTE}
        )
        assert followed.status_code == 201, followed.text
        history = (await training.get(f"/households/{hid}/training")).json()
        assert history[0]["outcomes"][0]["note"] == NOTE

    # registered, decided; course opened, enrolled, 2 x attendance, completed, followed up
    nats_url = f"nats://127.0.0.1:{up.nats_port}"
    messages = await eventually(lambda: stream_holds(nats_url, 8), within=30)
    assert sorted(m.subject for m in messages)[-6:] == [
        "bansos.training.attendance_recorded",
        "bansos.training.attendance_recorded",
        "bansos.training.course_opened",
        "bansos.training.outcome_recorded",
        "bansos.training.trainee_enrolled",
        "bansos.training.training_completed",
    ]
    async with httpx.AsyncClient(base_url=up.url(5), timeout=30) as audit:

        async def ledger_has_all() -> bool:
            return bool((await audit.get("/ledger/stats")).json()["checkpoint_size"] == 8)

        await eventually(ledger_has_all, within=30)
    verified = verify(up.url(5))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    everything = b"\n".join(m.data for m in messages).decode()
    secrets = personal_data([body]) | {TRAINER, "Wulandari", NOTE}
    assert sorted(s for s in secrets if s in everything) == []
    [followed_up] = [m for m in messages if m.subject == "bansos.training.outcome_recorded"]
    assert json.loads(followed_up.data)["payload"]["note_commitment"]  # the note, committed
