"""The public page's figures, folded from public views alone (domain/transparency.py):
per RW, per round, training and complaints, with counts below five shown as "<5"."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from services.audit.domain.transparency import Fold
from shared.events import public_view
from shared.pii import commitments
from shared.settings import CommonSettings
from tests.audit.public_scenario import BENEFIT, Scenario

KEYS = commitments(CommonSettings(programme_key=SecretStr("k" * 40)))


def folded(scenario: Scenario) -> Fold:
    fold = Fold()
    for index, envelope in enumerate(scenario.events()):
        fold.add(index, public_view(envelope))
    return fold


def test_per_rw_counts_amounts_and_progress_with_small_cells_suppressed() -> None:
    scenario = Scenario("BT-2222-2222-ABCD", KEYS)
    figures = folded(scenario).figures(scenario.today, resolve_days=14)
    by_rw = {rw.rw: rw for rw in figures.rws}
    assert list(by_rw) == ["03", "04", "05"]
    rw03 = by_rw["03"]
    assert (rw03.households, rw03.allocated, rw03.received) == (6, 6, 5)
    assert rw03.outstanding == "<5"
    assert (rw03.allocated_idr, rw03.received_idr) == (6 * BENEFIT, 5 * BENEFIT)
    assert rw03.received_pct == 83
    assert rw03.complaints_filed == 8
    rw04 = by_rw["04"]  # two allocated, one received: every count and amount suppressed
    assert (rw04.households, rw04.allocated, rw04.received) == ("<5", "<5", "<5")
    assert (rw04.allocated_idr, rw04.received_idr, rw04.received_pct) == ("<5", "<5", None)
    assert by_rw["05"].allocated == "<5"  # a posko, nothing allocated yet
    assert figures.allocated_idr == 8 * BENEFIT and figures.received_idr == 6 * BENEFIT


def test_rounds_training_and_complaints() -> None:
    scenario = Scenario("BT-2222-2222-ABCD", KEYS)
    figures = folded(scenario).figures(scenario.today, resolve_days=14)
    (round_,) = figures.rounds
    assert round_.round_id == str(scenario.round_id)
    assert (round_.programme, round_.period, round_.rws) == (
        "SEMBAKO",
        "2026-11",
        ("03", "04", "05"),
    )
    assert round_.endorsed and not round_.closed
    assert (round_.allocated, round_.received, round_.undelivered) == (8, 6, "<5")
    assert round_.received_pct == 75
    (course,) = figures.training
    assert (course.category, course.courses, course.capacity) == ("handicraft", 1, 20)
    assert (course.enrolled, course.completed, course.withdrawn) == (6, 5, "<5")
    c = figures.complaints
    assert (c.filed, c.resolved, c.acknowledged, c.open) == (9, "<5", "<5", 7)
    # Eight filed 30 days ago, two resolutions: at least six are open past 14 days.
    assert c.past_sla_at_least == 6
    # With a 60-day SLA none is certainly late.
    assert folded(scenario).figures(scenario.today, 60).complaints.past_sla_at_least == "<5"


def test_schedule_shows_today_and_later_only() -> None:
    scenario = Scenario("BT-2222-2222-ABCD", KEYS)
    poskos = folded(scenario).schedule(scenario.today)
    assert [(p.rw, p.on) for p in poskos] == [
        ("03", scenario.today.isoformat()),
        ("05", (scenario.today + timedelta(days=7)).isoformat()),
    ]
    assert folded(scenario).schedule(scenario.today + timedelta(days=8)) == []


def test_a_receipts_view_finds_its_posko_and_package() -> None:
    scenario = Scenario("BT-2222-2222-ABCD", KEYS)
    events = scenario.events()
    fold = folded(scenario)
    received = next(e for e in events if e.type == "distribution.aid_received")
    handed = fold.handover(public_view(received))
    assert (handed.programme, handed.rw, handed.amount_idr) == ("SEMBAKO", "03", BENEFIT)
    assert (handed.place, handed.posko_day, handed.period) == (
        "Balai warga RW 03",
        scenario.today.isoformat(),
        "2026-11",
    )
    assert handed.package == ({"name": "beras", "quantity": 10, "unit": "kg"},)
    assert handed.day == "2026-11-30"


def test_folding_in_two_halves_gives_the_same_figures() -> None:
    """The page folds only the leaves added since the last view."""
    scenario = Scenario("BT-2222-2222-ABCD", KEYS)
    views = [public_view(e) for e in scenario.events()]
    whole, halves = Fold(), Fold()
    for i, view in enumerate(views):
        whole.add(i, view)
    for i, view in enumerate(views[:10]):
        halves.add(i, view)
    halves.figures(scenario.today, 14)
    for i, view in enumerate(views[10:], start=10):
        halves.add(i, view)
    assert halves.figures(scenario.today, 14) == whole.figures(scenario.today, 14)


def test_outreach_reach_and_appeals_per_rw_from_public_views_only() -> None:
    from datetime import date
    from uuid import uuid4

    from shared.events import Envelope
    from shared.events.community import Attendance, MeetingHeld
    from shared.events.community_appeals import AppealDecided, AppealFiled
    from shared.events.community_cases import CaseOpened

    def view(payload: object) -> dict[str, object]:
        envelope = Envelope.wrap(payload, aggregate_id=uuid4(), aggregate_version=1, actor="x")  # type: ignore[arg-type]
        return public_view(envelope)

    case = {"subject": "household", "reason": "vulnerable_member", "household_id": uuid4()}
    case |= {"rw": "03", "opened_on": date(2026, 11, 3)}
    fold = Fold()
    views = [
        # 9 women and 3 men came: the men are shown "<5", so the page counts 9 (a floor).
        view(
            MeetingHeld(
                kind="outreach",
                held_on=date(2026, 11, 2),
                rw="03",
                attendance=Attendance(female=9, male=3),
                topic_codes=("how_to_appeal",),
            )
        ),
        view(
            MeetingHeld(
                kind="outreach",
                held_on=date(2026, 11, 9),
                rw="03",
                attendance=Attendance(female=6, male=5),
            )
        ),
        # A focus group is not outreach.
        view(
            MeetingHeld(
                kind="focus_group",
                held_on=date(2026, 11, 9),
                rw="03",
                attendance=Attendance(female=40, male=40),
            )
        ),
        *(
            view(AppealFiled(rw="03", reason="wrongly_refused", code_commitment="a" * 64))
            for _ in range(6)
        ),
        *(
            view(AppealDecided(rw="03", reason="wrongly_refused", outcome="upheld"))
            for _ in range(5)
        ),
        view(AppealFiled(rw="04", reason="data_outdated", code_commitment="b" * 64)),
        *(view(CaseOpened(**case)) for _ in range(5)),
        view(CaseOpened(**(case | {"rw": "04"}))),
    ]
    for i, v in enumerate(views):
        fold.add(i, v)
    rws = {r.rw: r for r in fold.figures(date(2026, 11, 30), 14).rws}
    assert (rws["03"].residents_reached, rws["03"].appeals_filed) == (20, 6)
    assert rws["03"].appeals_upheld == 5
    assert (rws["04"].appeals_filed, rws["04"].appeals_upheld) == ("<5", "<5")
    assert (rws["03"].cases_opened, rws["04"].cases_opened) == (5, "<5")
