"""The community deciders as given / when / then: events in, a command, events or errors out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.community.domain import complaint, feedback, meeting
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.domain import DomainError, fold
from shared.events import EventPayload
from shared.events.community import (
    Attendance,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintFiledV1,
    ComplaintOutcome,
    ComplaintReferences,
    ComplaintResolved,
    FeedbackSubmitted,
    FollowUp,
    FollowUpUpdated,
    MeetingHeld,
)

TODAY = wib_today()
TICKET = "7c" * 32  # commitments: the code and the words stay in the service
DESCRIPTION = "ab" * 32
CONTACT = "c0" * 32
NOTE = "d1" * 32
REASON = "e2" * 32
RESOLUTION = "f3" * 32
COMMENT = "4a" * 32
ATTENDANCE = Attendance(female=18, male=9, elderly=4, disabled=1, youth=3)
POLICY = complaint.SlaPolicy(3, 14, 0.75)
FILED_AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def day(n: float) -> datetime:
    return FILED_AT + timedelta(days=n)


# --- complaint builders --------------------------------------------------------------------
def file(
    *,
    anonymous: bool = False,
    contact: str | None = CONTACT,
    references: ComplaintReferences | None = None,
) -> complaint.File:
    return complaint.File(
        ticket_commitment=TICKET,
        category="exclusion_error",
        rw="05",
        description_commitment=DESCRIPTION,
        anonymous=anonymous,
        contact_commitment=contact,
        references=references or ComplaintReferences(),
    )


def filed() -> ComplaintFiled:
    [event] = complaint.decide(complaint.Complaint(), file())
    assert isinstance(event, ComplaintFiled)
    return event


def acknowledged() -> ComplaintAcknowledged:
    return ComplaintAcknowledged(note_commitment=NOTE)


def escalated(to: complaint.EscalationTarget = "programme_manager") -> ComplaintEscalated:
    return ComplaintEscalated(to=to, reason_commitment=REASON)


def resolved(outcome: ComplaintOutcome = "upheld") -> ComplaintResolved:
    return ComplaintResolved(outcome=outcome, resolution_commitment=RESOLUTION)


def resolve(outcome: ComplaintOutcome = "upheld") -> complaint.Resolve:
    return complaint.Resolve(outcome=outcome, resolution_commitment=RESOLUTION)


def escalate(to: complaint.EscalationTarget = "programme_manager") -> complaint.Escalate:
    return complaint.Escalate(to=to, reason_commitment=REASON)


def complaint_state(*events: EventPayload) -> complaint.Complaint:
    return fold(complaint.evolve, complaint.Complaint(), events)


# --- feedback builders ---------------------------------------------------------------------
SUBJECT_ID = uuid4()


def give_feedback(*, subject_known: bool = True) -> feedback.GiveFeedback:
    return feedback.GiveFeedback(
        subject_type="round",
        subject_id=SUBJECT_ID,
        subject_known=subject_known,
        rating=4,
        rw="05",
        anonymous=True,
        comment_commitment=COMMENT,
    )


def feedback_state(*events: EventPayload) -> feedback.Feedback:
    return fold(feedback.evolve, feedback.Feedback(), events)


# --- meeting builders ----------------------------------------------------------------------
FOLLOW_UPS = (
    FollowUp(action="Umumkan jadwal pembagian di grup WhatsApp RW 05"),
    FollowUp(action="Cek ulang data lansia yang belum terdaftar", status="in_progress"),
)


def hold(
    *,
    held_on: date = TODAY - timedelta(days=1),
    attendance: Attendance = ATTENDANCE,
) -> meeting.Hold:
    return meeting.Hold(
        kind="outreach",
        held_on=held_on,
        rw="05",
        attendance=attendance,
        topics=("Jadwal pembagian sembako", "Syarat penerima BLT"),
        aspirations=("Posko lebih dekat ke gang 3",),
        follow_ups=FOLLOW_UPS,
        today=TODAY,
    )


def held() -> MeetingHeld:
    [event] = meeting.decide(meeting.Meeting(), hold())
    assert isinstance(event, MeetingHeld)
    return event


def meeting_state(*events: EventPayload) -> meeting.Meeting:
    return fold(meeting.evolve, meeting.Meeting(), events)


# --- filing --------------------------------------------------------------------------------
def test_a_named_complaint_is_filed_with_its_contact_commitment() -> None:
    [event] = complaint.decide(complaint.Complaint(), file())
    assert event == ComplaintFiled(
        ticket_commitment=TICKET,
        category="exclusion_error",
        description_commitment=DESCRIPTION,
        rw="05",
        anonymous=False,
        contact_commitment=CONTACT,
        references=ComplaintReferences(),
    )
    assert complaint_state(event) == complaint.Complaint(status="filed")


def test_an_anonymous_complaint_needs_no_contact() -> None:
    [event] = complaint.decide(complaint.Complaint(), file(anonymous=True, contact=None))
    assert isinstance(event, ComplaintFiled)
    assert (event.anonymous, event.contact_commitment) == (True, None)


def test_an_anonymous_complaint_leaves_no_contact() -> None:
    with pytest.raises(DomainError) as err:
        complaint.decide(complaint.Complaint(), file(anonymous=True, contact=CONTACT))
    assert (type(err.value), err.value.code, err.value.field) == (
        DomainError,
        "anonymous_with_contact",
        "contact",
    )
    assert err.value.status == 422


def test_a_named_complaint_needs_a_contact() -> None:
    with pytest.raises(DomainError) as err:
        complaint.decide(complaint.Complaint(), file(anonymous=False, contact=None))
    assert (err.value.code, err.value.field, err.value.status) == (
        "contact_required",
        "contact",
        422,
    )


def test_a_complaint_is_filed_once() -> None:
    with pytest.raises(DomainError) as err:
        complaint.decide(complaint_state(filed()), file())
    assert (err.value.code, err.value.status) == ("complaint_exists", 409)


def test_a_complaints_references_pass_through() -> None:
    references = ComplaintReferences(household_id=uuid4(), round_id=uuid4(), allocation_id=uuid4())
    [event] = complaint.decide(complaint.Complaint(), file(references=references))
    assert isinstance(event, ComplaintFiled)
    assert event.references == references


# --- acknowledging -------------------------------------------------------------------------
def test_acknowledging_carries_the_note_commitment() -> None:
    command = complaint.Acknowledge(note_commitment=NOTE)
    [event] = complaint.decide(complaint_state(filed()), command)
    assert event == ComplaintAcknowledged(note_commitment=NOTE)
    assert complaint_state(filed(), event).status == "acknowledged"


def test_a_complaint_may_be_acknowledged_without_a_note() -> None:
    [event] = complaint.decide(complaint_state(filed()), complaint.Acknowledge())
    assert event == ComplaintAcknowledged(note_commitment=None)


@pytest.mark.parametrize(
    "history",
    [
        (filed(), acknowledged()),
        (filed(), acknowledged(), escalated()),
        (filed(), escalated()),
    ],
    ids=["acknowledged", "acknowledged-then-escalated", "escalated"],
)
def test_a_complaint_is_acknowledged_once(history: tuple[EventPayload, ...]) -> None:
    with pytest.raises(DomainError) as err:
        complaint.decide(complaint_state(*history), complaint.Acknowledge(note_commitment=NOTE))
    assert (err.value.code, err.value.status) == ("already_acknowledged", 409)


# --- escalating ----------------------------------------------------------------------------
def test_a_complaint_escalates_to_the_programme_manager_then_the_inspectorate() -> None:
    given = complaint_state(filed(), acknowledged())
    [to_manager] = complaint.decide(given, escalate("programme_manager"))
    assert to_manager == ComplaintEscalated(to="programme_manager", reason_commitment=REASON)
    given = complaint.evolve(given, to_manager)
    [to_inspectorate] = complaint.decide(given, escalate("inspectorate"))
    assert to_inspectorate == ComplaintEscalated(to="inspectorate", reason_commitment=REASON)
    both = complaint_state(filed(), acknowledged(), to_manager, to_inspectorate)
    assert both == complaint.Complaint(
        status="escalated", escalated_to=frozenset({"programme_manager", "inspectorate"})
    )


def test_a_complaint_escalates_to_the_same_target_once() -> None:
    given = complaint_state(filed(), acknowledged(), escalated("inspectorate"))
    with pytest.raises(DomainError) as err:
        complaint.decide(given, escalate("inspectorate"))
    assert (err.value.code, err.value.status) == ("already_escalated", 409)


def test_a_filed_complaint_may_be_escalated_before_it_is_acknowledged() -> None:
    [event] = complaint.decide(complaint_state(filed()), escalate("inspectorate"))
    assert event == ComplaintEscalated(to="inspectorate", reason_commitment=REASON)
    assert complaint_state(filed(), event).status == "escalated"


# --- resolving -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "history",
    [
        (filed(),),
        (filed(), acknowledged()),
        (filed(), acknowledged(), escalated()),
        (filed(), escalated(), escalated("inspectorate")),
    ],
    ids=["filed", "acknowledged", "escalated", "escalated-twice-unacknowledged"],
)
def test_a_complaint_is_resolved_from_any_open_status(history: tuple[EventPayload, ...]) -> None:
    [event] = complaint.decide(complaint_state(*history), resolve("partly_upheld"))
    assert event == ComplaintResolved(outcome="partly_upheld", resolution_commitment=RESOLUTION)
    assert complaint_state(*history, event).status == "resolved"


@pytest.mark.parametrize("outcome", ["upheld", "partly_upheld", "not_upheld", "referred"])
def test_the_outcome_is_carried_on_the_resolution(outcome: ComplaintOutcome) -> None:
    [event] = complaint.decide(complaint_state(filed(), acknowledged()), resolve(outcome))
    assert isinstance(event, ComplaintResolved)
    assert (event.outcome, event.resolution_commitment) == (outcome, RESOLUTION)


@pytest.mark.parametrize(
    "command",
    [complaint.Acknowledge(), escalate(), escalate("inspectorate"), resolve("not_upheld")],
    ids=["acknowledge", "escalate-manager", "escalate-inspectorate", "resolve"],
)
def test_a_resolved_complaint_is_closed_to_every_command(
    command: complaint.Command,
) -> None:
    given = complaint_state(filed(), acknowledged(), resolved())
    with pytest.raises(DomainError) as err:
        complaint.decide(given, command)
    assert (err.value.code, err.value.status) == ("complaint_resolved", 409)


def test_a_resolved_complaint_cannot_be_filed_again() -> None:
    with pytest.raises(DomainError) as err:
        complaint.decide(complaint_state(filed(), resolved()), file())
    assert (err.value.code, err.value.status) == ("complaint_exists", 409)


def test_the_complaint_decider_refuses_a_command_it_does_not_know() -> None:
    with pytest.raises(TypeError, match="unknown command"):
        complaint.decide(complaint_state(filed()), give_feedback())  # type: ignore[arg-type]


# --- version-1 history ---------------------------------------------------------------------
def filed_v1() -> ComplaintFiledV1:
    """A complaint filed before version 2: its ticket code in clear in the event."""
    return ComplaintFiledV1(
        ticket_code="TB-7K3M-9QXP",
        category="officer_conduct",
        description_commitment=DESCRIPTION,
        rw="04",
        anonymous=True,
    )


def test_a_complaint_filed_under_version_1_replays_and_goes_on() -> None:
    state = complaint_state(filed_v1(), escalated())
    assert state == complaint.Complaint(
        status="escalated", escalated_to=frozenset({"programme_manager"})
    )
    [event] = complaint.decide(state, resolve())
    assert event == resolved()
    with pytest.raises(DomainError) as err:
        complaint.decide(complaint_state(filed_v1()), file())
    assert (err.value.code, err.value.status) == ("complaint_exists", 409)


def test_a_new_complaint_carries_the_tickets_commitment_never_the_code() -> None:
    event = filed()
    assert (event.schema_version, event.ticket_commitment) == (2, TICKET)
    assert "ticket_code" not in event.model_dump()


# --- the SLA -------------------------------------------------------------------------------
def test_the_deadlines_are_three_and_fourteen_days_after_filing() -> None:
    s = complaint.sla(POLICY, FILED_AT, None, None, day(0.5))
    assert (s.acknowledge_by, s.resolve_by) == (day(3), day(14))
    assert s.acknowledge_by == FILED_AT + timedelta(days=3)
    assert s.resolve_by == FILED_AT + timedelta(days=14)


def test_the_deadlines_do_not_depend_on_what_happened() -> None:
    s = complaint.sla(POLICY, FILED_AT, day(5), day(20), day(30))
    assert (s.state, s.acknowledge_by, s.resolve_by) == ("breached", day(3), day(14))


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (day(0), "on_track"),
        (day(0) + timedelta(minutes=5), "on_track"),
        (day(2.25) - timedelta(seconds=1), "on_track"),
        (day(2.25), "at_risk"),
        (day(3), "at_risk"),
        (day(3) + timedelta(seconds=1), "breached"),
        (day(13), "breached"),
    ],
    ids=["filed", "5-min", "just-before-75pc", "75pc", "deadline", "just-after", "day-13"],
)
def test_an_unacknowledged_complaint_runs_against_the_three_day_deadline(
    now: datetime, state: complaint.SlaState
) -> None:
    assert complaint.sla(POLICY, FILED_AT, None, None, now).state == state


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (day(4), "on_track"),
        (day(10.5) - timedelta(seconds=1), "on_track"),
        (day(10.5), "at_risk"),
        (day(14), "at_risk"),
        (day(14) + timedelta(seconds=1), "breached"),
    ],
    ids=["day-4", "just-before-10.5", "day-10.5", "day-14", "after-day-14"],
)
def test_an_acknowledgement_in_time_moves_the_deadline_to_fourteen_days(
    now: datetime, state: complaint.SlaState
) -> None:
    assert complaint.sla(POLICY, FILED_AT, day(1), None, now).state == state


def test_an_acknowledgement_on_the_deadline_is_in_time() -> None:
    assert complaint.sla(POLICY, FILED_AT, day(3), None, day(4)).state == "on_track"


def test_a_late_acknowledgement_is_breached_even_when_resolved_in_time() -> None:
    assert complaint.sla(POLICY, FILED_AT, day(4), None, day(4)).state == "breached"
    assert complaint.sla(POLICY, FILED_AT, day(4), day(6), day(20)).state == "breached"


def test_a_resolution_within_both_deadlines_is_met() -> None:
    assert complaint.sla(POLICY, FILED_AT, day(1), day(10), day(30)).state == "met"
    assert complaint.sla(POLICY, FILED_AT, day(3), day(14), day(30)).state == "met"


def test_a_resolution_after_fourteen_days_is_breached() -> None:
    assert complaint.sla(POLICY, FILED_AT, day(1), day(15), day(15)).state == "breached"


def test_a_resolution_within_three_days_acknowledges_too() -> None:
    assert complaint.sla(POLICY, FILED_AT, None, day(2), day(30)).state == "met"


def test_a_resolution_on_day_five_without_acknowledgement_is_breached() -> None:
    assert complaint.sla(POLICY, FILED_AT, None, day(5), day(5)).state == "breached"


def test_the_default_policy_is_three_and_fourteen_days_at_three_quarters() -> None:
    assert complaint.SlaPolicy() == POLICY


MINUTES = st.integers(min_value=0, max_value=30 * 24 * 60)


@given(
    ack=st.none() | MINUTES,
    resolve_after=st.none() | MINUTES,
    now_after=MINUTES,
)
def test_the_sla_is_met_iff_both_deadlines_were_kept_and_breached_past_a_pending_one(
    ack: int | None, resolve_after: int | None, now_after: int
) -> None:
    """Times only move forward: filed <= acknowledged <= resolved <= now."""
    acknowledged_at = None if ack is None else FILED_AT + timedelta(minutes=ack)
    last = acknowledged_at or FILED_AT
    resolved_at = None if resolve_after is None else last + timedelta(minutes=resolve_after)
    now = (resolved_at or last) + timedelta(minutes=now_after)

    s = complaint.sla(POLICY, FILED_AT, acknowledged_at, resolved_at, now)

    assert (s.acknowledge_by, s.resolve_by) == (day(3), day(14))
    first_response = acknowledged_at or resolved_at
    kept = (first_response is None or first_response <= s.acknowledge_by) and (
        resolved_at is None or resolved_at <= s.resolve_by
    )
    assert (s.state == "met") == (resolved_at is not None and kept)
    if not kept:
        assert s.state == "breached"
    if resolved_at is None:
        pending = s.acknowledge_by if acknowledged_at is None else s.resolve_by
        if now > pending:
            assert s.state == "breached"
        elif kept:
            assert s.state in ("on_track", "at_risk")


# --- feedback ------------------------------------------------------------------------------
def test_feedback_is_recorded_with_its_rating_and_comment_commitment() -> None:
    [event] = feedback.decide(feedback.Feedback(), give_feedback())
    assert event == FeedbackSubmitted(
        subject_type="round",
        subject_id=SUBJECT_ID,
        rating=4,
        comment_commitment=COMMENT,
        rw="05",
        anonymous=True,
    )
    assert feedback_state(event) == feedback.Feedback(given=True)


def test_feedback_on_a_subject_never_announced_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        feedback.decide(feedback.Feedback(), give_feedback(subject_known=False))
    assert (type(err.value), err.value.code, err.value.field) == (
        DomainError,
        "subject_unknown",
        "subject_id",
    )


def test_feedback_is_recorded_once() -> None:
    [event] = feedback.decide(feedback.Feedback(), give_feedback())
    with pytest.raises(DomainError) as err:
        feedback.decide(feedback_state(event), give_feedback())
    assert (err.value.code, err.value.status) == ("feedback_exists", 409)


# --- meetings ------------------------------------------------------------------------------
def test_a_meeting_is_recorded_with_its_attendance_topics_and_follow_ups() -> None:
    [event] = meeting.decide(meeting.Meeting(), hold())
    assert event == MeetingHeld(
        kind="outreach",
        held_on=TODAY - timedelta(days=1),
        rw="05",
        attendance=ATTENDANCE,
        topics=("Jadwal pembagian sembako", "Syarat penerima BLT"),
        aspirations=("Posko lebih dekat ke gang 3",),
        follow_ups=FOLLOW_UPS,
    )
    assert meeting_state(event) == meeting.Meeting(held=True, follow_ups=("open", "in_progress"))


def test_a_meeting_held_today_is_recorded() -> None:
    [event] = meeting.decide(meeting.Meeting(), hold(held_on=TODAY))
    assert isinstance(event, MeetingHeld)


def test_a_meeting_is_recorded_once_it_was_held() -> None:
    with pytest.raises(DomainError) as err:
        meeting.decide(meeting.Meeting(), hold(held_on=TODAY + timedelta(days=1)))
    assert (err.value.code, err.value.field) == ("held_on_future", "held_on")


def test_a_meeting_has_attendees() -> None:
    with pytest.raises(DomainError) as err:
        meeting.decide(meeting.Meeting(), hold(attendance=Attendance(female=0, male=0)))
    assert (err.value.code, err.value.field) == ("attendance_empty", "attendance")


@pytest.mark.parametrize(
    "attendance",
    [
        Attendance(female=3, male=2, elderly=6),
        Attendance(female=3, male=2, disabled=6),
        Attendance(female=3, male=2, youth=6),
    ],
    ids=["elderly", "disabled", "youth"],
)
def test_no_group_outnumbers_all_attendees(attendance: Attendance) -> None:
    with pytest.raises(DomainError) as err:
        meeting.decide(meeting.Meeting(), hold(attendance=attendance))
    assert (err.value.code, err.value.field) == ("attendance_inconsistent", "attendance")


def test_a_group_may_be_every_attendee() -> None:
    attendance = Attendance(female=3, male=2, elderly=5, disabled=5, youth=5)
    [event] = meeting.decide(meeting.Meeting(), hold(attendance=attendance))
    assert isinstance(event, MeetingHeld)


def test_a_meeting_is_recorded_once() -> None:
    with pytest.raises(DomainError) as err:
        meeting.decide(meeting_state(held()), hold())
    assert (err.value.code, err.value.status) == ("meeting_exists", 409)


def test_a_follow_up_moves_on() -> None:
    command = meeting.UpdateFollowUp(index=0, status="done")
    [event] = meeting.decide(meeting_state(held()), command)
    assert event == FollowUpUpdated(index=0, status="done")


def test_a_follow_up_already_at_the_status_changes_nothing() -> None:
    command = meeting.UpdateFollowUp(index=1, status="in_progress")
    assert meeting.decide(meeting_state(held()), command) == []


@pytest.mark.parametrize("index", [-1, 2, 10])
def test_a_follow_up_the_meeting_does_not_have_is_not_found(index: int) -> None:
    with pytest.raises(DomainError) as err:
        meeting.decide(meeting_state(held()), meeting.UpdateFollowUp(index=index, status="done"))
    assert (err.value.code, err.value.field, err.value.status) == (
        "follow_up_not_found",
        "index",
        404,
    )


def test_a_meeting_without_follow_ups_has_none_to_update() -> None:
    event = MeetingHeld(
        kind="focus_group", held_on=TODAY, rw="05", attendance=ATTENDANCE, follow_ups=()
    )
    with pytest.raises(DomainError) as err:
        meeting.decide(meeting_state(event), meeting.UpdateFollowUp(index=0, status="done"))
    assert (err.value.code, err.value.status) == ("follow_up_not_found", 404)


def test_follow_up_statuses_are_tracked_per_index() -> None:
    state = meeting_state(
        held(),
        FollowUpUpdated(index=0, status="in_progress"),
        FollowUpUpdated(index=1, status="done"),
        FollowUpUpdated(index=0, status="done"),
    )
    assert state == meeting.Meeting(held=True, follow_ups=("done", "done"))
    reopened = meeting.decide(state, meeting.UpdateFollowUp(index=1, status="open"))
    assert reopened == [FollowUpUpdated(index=1, status="open")]
    assert fold(meeting.evolve, state, reopened).follow_ups == ("done", "open")


def test_the_meeting_decider_refuses_a_command_it_does_not_know() -> None:
    with pytest.raises(TypeError, match="unknown command"):
        meeting.decide(meeting_state(held()), complaint.Acknowledge())  # type: ignore[arg-type]
