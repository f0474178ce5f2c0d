"""The mentoring-case decider as given / when / then: events in, a command, events or errors
out; and outreach topic codes on meetings."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from services.community.domain import case, meeting
from shared.domain import DomainError, fold
from shared.events import EventPayload
from shared.events.community import Attendance, MeetingHeld, MeetingHeldV1
from shared.events.community_cases import (
    CaseClosed,
    CaseOpened,
    CaseReferred,
    CaseVisitPlanned,
    CaseVisitRecorded,
    ReferralAnswered,
)

TODAY = date(2026, 3, 10)
HOUSEHOLD = uuid4()
NOTE = "d1" * 32


def given(*events: EventPayload) -> case.Case:
    return fold(case.evolve, case.Case(), events)


def when(state: case.Case, command: case.Command) -> list[EventPayload]:
    return list(case.decide(state, command))


def refused(state: case.Case, command: case.Command) -> DomainError:
    with pytest.raises(DomainError) as caught:
        case.decide(state, command)
    return caught.value


def opened(**changes: object) -> CaseOpened:
    values: dict[str, object] = {
        "subject": "household",
        "reason": "after_aid",
        "household_id": HOUSEHOLD,
        "rw": "03",
        "opened_on": TODAY - timedelta(days=20),
    }
    return CaseOpened.model_validate({**values, **changes})


def planned(index: int, days_from_today: int, kind: str = "home") -> CaseVisitPlanned:
    return CaseVisitPlanned.model_validate(
        {"index": index, "planned_on": TODAY + timedelta(days=days_from_today), "kind": kind}
    )


def referred(index: int = 0, office: str = "puskesmas") -> CaseReferred:
    return CaseReferred.model_validate(
        {
            "index": index,
            "office": office,
            "referred_on": TODAY - timedelta(days=15),
            "due_on": TODAY - timedelta(days=1),
        }
    )


def visit(**changes: object) -> case.RecordVisit:
    values: dict[str, object] = {"visited_on": TODAY, "kind": "home", "today": TODAY}
    return case.RecordVisit(**{**values, **changes})  # type: ignore[arg-type]


# --- opening -------------------------------------------------------------------------------
def test_a_case_opens_for_a_household_on_the_day_with_the_note_as_a_commitment() -> None:
    [event] = when(
        case.Case(),
        case.Open(
            subject="household",
            reason="vulnerable_member",
            household_id=HOUSEHOLD,
            rw="03",
            today=TODAY,
            note_commitment=NOTE,
        ),
    )
    assert event == CaseOpened(
        subject="household",
        reason="vulnerable_member",
        household_id=HOUSEHOLD,
        rw="03",
        opened_on=TODAY,
        note_commitment=NOTE,
    )
    assert given(event).status == "open"


def test_a_case_opens_once() -> None:
    command = case.Open(
        subject="household", reason="after_aid", household_id=HOUSEHOLD, rw="03", today=TODAY
    )
    assert refused(given(opened()), command).code == "case_exists"


def test_a_trainee_case_names_the_member_and_a_complaint_case_the_complaint() -> None:
    trainee = case.Open(
        subject="trainee", reason="after_training", household_id=HOUSEHOLD, rw="03", today=TODAY
    )
    error = refused(case.Case(), trainee)
    assert (error.code, error.field) == ("member_required", "member_id")
    member = uuid4()
    [event] = when(case.Case(), case.Open(**{**trainee.__dict__, "member_id": member}))
    assert isinstance(event, CaseOpened) and event.member_id == member

    complaint = case.Open(
        subject="household", reason="complaint", household_id=HOUSEHOLD, rw="03", today=TODAY
    )
    error = refused(case.Case(), complaint)
    assert (error.code, error.field) == ("complaint_required", "complaint_id")


# --- visits --------------------------------------------------------------------------------
def test_visits_are_planned_while_the_case_is_open_each_with_its_index() -> None:
    state = given(opened(), planned(0, 3))  # opened 20 days ago
    [event] = when(state, case.PlanVisit(planned_on=TODAY, kind="phone"))
    assert event == CaseVisitPlanned(index=1, planned_on=TODAY, kind="phone")
    # A plan from the paper agenda, entered late, is kept (and is overdue at once).
    agenda = case.PlanVisit(planned_on=TODAY - timedelta(days=20), kind="home")
    assert when(state, agenda)
    before = case.PlanVisit(planned_on=TODAY - timedelta(days=21), kind="home")
    error = refused(state, before)
    assert (error.code, error.field) == ("visit_planned_before_opening", "planned_on")


def test_a_case_opened_on_paper_keeps_its_day_but_not_a_day_to_come() -> None:
    command = case.Open(
        subject="household",
        reason="after_aid",
        household_id=HOUSEHOLD,
        rw="03",
        today=TODAY,
        opened_on=TODAY - timedelta(days=7),
    )
    [event] = when(case.Case(), command)
    assert isinstance(event, CaseOpened) and event.opened_on == TODAY - timedelta(days=7)
    tomorrow = case.Open(**{**command.__dict__, "opened_on": TODAY + timedelta(days=1)})
    error = refused(case.Case(), tomorrow)
    assert (error.code, error.field) == ("opened_on_future", "opened_on")


def test_a_visit_makes_the_earliest_plan_due_by_its_day_and_no_later_one() -> None:
    state = given(opened(), planned(0, -5), planned(1, -2), planned(2, 7))
    [first] = when(state, visit(findings=("food_insecure", "food_insecure"), needs=("food",)))
    assert isinstance(first, CaseVisitRecorded)
    assert first.plan_index == 0 and first.findings == ("food_insecure",)  # deduplicated
    state = given(opened(), planned(0, -5), planned(1, -2), planned(2, 7), first)
    assert [p.done for p in state.plans] == [True, False, False]
    [second] = when(state, visit())
    assert isinstance(second, CaseVisitRecorded) and second.plan_index == 1
    state = fold(case.evolve, state, [second])
    [third] = when(state, visit())  # the plan for next week is not made by today's call
    assert isinstance(third, CaseVisitRecorded) and third.plan_index is None


def test_a_visit_names_a_plan_still_to_make() -> None:
    state = given(opened(), planned(0, 2), planned(1, 9))
    [event] = when(state, visit(plan_index=1))
    assert isinstance(event, CaseVisitRecorded) and event.plan_index == 1
    state = fold(case.evolve, state, [event])
    for index in (1, 2):
        error = refused(state, visit(plan_index=index))
        assert (error.code, error.field) == ("planned_visit_not_found", "plan_index")


def test_a_visit_is_recorded_once_made() -> None:
    error = refused(given(opened()), visit(visited_on=TODAY + timedelta(days=1)))
    assert (error.code, error.field) == ("visited_on_future", "visited_on")


def test_a_business_follow_up_says_whether_it_runs_and_its_income_band() -> None:
    state = given(opened(reason="after_training"))
    business = visit(kind="business_follow_up", business_running=True, income_band="1m_to_2m")
    [event] = when(state, business)
    assert isinstance(event, CaseVisitRecorded)
    assert (event.business_running, event.income_band) == (True, "1m_to_2m")
    incomplete = visit(kind="business_follow_up", business_running=False)
    assert refused(state, incomplete).code == "business_follow_up_incomplete"
    home_with_band = visit(kind="home", income_band="none")
    assert refused(state, home_with_band).code == "business_follow_up_incomplete"


# --- referrals -----------------------------------------------------------------------------
def test_a_referral_is_due_after_the_sla_and_waits_for_its_office() -> None:
    state = given(opened())
    [event] = when(state, case.Refer(office="dinas_sosial", today=TODAY, sla_days=14))
    assert event == CaseReferred(
        index=0, office="dinas_sosial", referred_on=TODAY, due_on=TODAY + timedelta(days=14)
    )
    state = fold(case.evolve, state, [event])
    again = case.Refer(office="dinas_sosial", today=TODAY, sla_days=14)
    error = refused(state, again)
    assert (error.code, error.field) == ("referral_pending", "office")
    [other] = when(state, case.Refer(office="bpjs", today=TODAY, sla_days=14))
    assert isinstance(other, CaseReferred) and other.index == 1


def test_an_office_answers_a_referral_once() -> None:
    state = given(opened(), referred())
    answer = case.AnswerReferral(index=0, answer="served", today=TODAY, note_commitment=NOTE)
    [event] = when(state, answer)
    assert event == ReferralAnswered(
        index=0, office="puskesmas", answer="served", answered_on=TODAY, note_commitment=NOTE
    )
    state = fold(case.evolve, state, [event])
    assert refused(state, answer).code == "referral_answered"
    assert refused(state, case.AnswerReferral(index=1, answer="served", today=TODAY)).code == (
        "referral_not_found"
    )
    # Answered, the office may be asked again.
    assert when(state, case.Refer(office="puskesmas", today=TODAY, sla_days=14))


# --- closing -------------------------------------------------------------------------------
def test_a_case_closes_once_every_referral_is_answered_and_then_takes_nothing() -> None:
    state = given(opened(), referred())
    close = case.Close(outcome="referred_and_served", today=TODAY)
    assert refused(state, close).code == "referral_pending"
    state = fold(
        case.evolve,
        state,
        [ReferralAnswered(index=0, office="puskesmas", answer="no_answer", answered_on=TODAY)],
    )
    [event] = when(state, close)
    assert event == CaseClosed(outcome="referred_and_served", closed_on=TODAY)
    state = fold(case.evolve, state, [event])
    assert state.status == "closed"
    for command in (
        close,
        case.PlanVisit(planned_on=TODAY, kind="home"),
        visit(),
        case.Refer(office="bpjs", today=TODAY, sla_days=14),
    ):
        assert refused(state, command).code == "case_closed"


# --- public views --------------------------------------------------------------------------
def test_case_events_show_the_public_only_the_rw_kinds_office_and_outcome() -> None:
    cid = uuid4()
    # The one event naming a household shows its RW only (not why: that would single out).
    opened_view = opened(note_commitment=NOTE, complaint_id=uuid4()).public(cid)
    assert opened_view == {"rw": "03"}
    recorded = CaseVisitRecorded(
        visited_on=TODAY,
        kind="business_follow_up",
        findings=("debt",),
        needs=("business_capital",),
        business_running=False,
        income_band="none",
        note_commitment=NOTE,
    )
    assert recorded.public(cid) == {"kind": "business_follow_up"}
    assert referred().public(cid) == {"to": "puskesmas"}
    answered = ReferralAnswered(index=0, office="bpjs", answer="declined", answered_on=TODAY)
    assert answered.public(cid) == {"to": "bpjs", "outcome": "declined"}
    assert CaseClosed(outcome="improved", closed_on=TODAY).public(cid) == {"outcome": "improved"}


# --- outreach topic codes ------------------------------------------------------------------
def hold(**changes: object) -> meeting.Hold:
    values: dict[str, object] = {
        "kind": "outreach",
        "held_on": TODAY,
        "rw": "03",
        "attendance": Attendance(female=12, male=8),
        "topics": ("Cara mengadu tanpa nama",),
        "aspirations": (),
        "follow_ups": (),
        "today": TODAY,
    }
    return meeting.Hold(**{**values, **changes})  # type: ignore[arg-type]


def test_an_outreach_session_records_topic_codes_once_each_and_shows_them() -> None:
    codes = ("how_to_complain", "posko_schedule", "how_to_complain")
    [event] = meeting.decide(meeting.Meeting(), hold(topic_codes=codes))
    assert isinstance(event, MeetingHeld)
    assert event.topic_codes == ("how_to_complain", "posko_schedule")
    view = event.public(uuid4())
    assert view["topic_codes"] == ["how_to_complain", "posko_schedule"]
    assert "Cara mengadu" not in str(view)  # free-text topics stay sealed


def test_a_meeting_recorded_before_topic_codes_keeps_the_view_it_was_written_with() -> None:
    old = MeetingHeldV1(
        kind="outreach", held_on=TODAY, rw="03", attendance=Attendance(female=5, male=5)
    )
    assert "topic_codes" not in old.public(uuid4())
    assert old.topic_codes == ()
    with pytest.raises(ValueError):
        MeetingHeld.model_validate({**old.model_dump(), "topic_codes": ["gossip"]})
