"""The appeal decider and its SLA, given / when / then. The registry's answers come on
separate consumers: each applies once, in any order, and one that no longer applies
decides nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.community.domain.appeal import (
    Appeal,
    AppealSlaPolicy,
    Conclude,
    FileAppeal,
    MarkUnmatched,
    ScheduleResurvey,
    appeal_sla,
    appeals,
)
from shared.domain import DomainError, fold
from shared.events.community_appeals import (
    AppealDecided,
    AppealFiled,
    AppealResurveyScheduled,
    AppealUnmatched,
)

C = "ab" * 32
FILED = AppealFiled(code_commitment=C, reason="wrongly_refused", rw="06", nik_commitment=C)


def state(*events: object) -> Appeal:
    return fold(appeals.evolve, Appeal(), events)  # type: ignore[arg-type]


def test_filing_names_the_household_by_a_commitment_and_is_acknowledged() -> None:
    [event] = appeals.decide(
        Appeal(), FileAppeal(code_commitment=C, reason="data_outdated", rw="02", kk_commitment=C)
    )
    assert isinstance(event, AppealFiled) and event.kk_commitment == C
    assert event.public(uuid4()) == {"rw": "02", "category": "data_outdated"}
    assert state(event).status == "acknowledged"


def test_an_appeal_without_nik_or_kk_is_refused_naming_the_field() -> None:
    with pytest.raises(DomainError) as refused:
        appeals.decide(Appeal(), FileAppeal(code_commitment=C, reason="other", rw="02"))
    assert (refused.value.code, refused.value.field) == ("appeal_household_required", "head_nik")


def test_an_appeal_is_filed_once() -> None:
    with pytest.raises(DomainError) as refused:
        appeals.decide(state(FILED), FileAppeal(code_commitment=C, reason="other", rw="02"))
    assert refused.value.code == "appeal_exists"


def test_scheduled_then_decided_upheld() -> None:
    [scheduled] = appeals.decide(state(FILED), ScheduleResurvey())
    assert isinstance(scheduled, AppealResurveyScheduled)
    assert state(FILED, scheduled).status == "resurvey_scheduled"
    [decided] = appeals.decide(state(FILED, scheduled), Conclude(outcome="upheld"))
    assert isinstance(decided, AppealDecided)
    assert decided.public(uuid4()) == {
        "rw": "06",
        "category": "wrongly_refused",
        "outcome": "upheld",
    }
    done = state(FILED, scheduled, decided)
    assert done.status == "decided"
    # Delivered again, or late: nothing more.
    assert appeals.decide(done, Conclude(outcome="rejected")) == []
    assert appeals.decide(done, ScheduleResurvey()) == []
    assert appeals.decide(done, MarkUnmatched()) == []


def test_a_decision_that_overtakes_its_scheduling_still_decides() -> None:
    [decided] = appeals.decide(state(FILED), Conclude(outcome="rejected"))
    assert isinstance(decided, AppealDecided) and decided.outcome == "rejected"
    assert appeals.decide(state(FILED, decided), ScheduleResurvey()) == []


def test_an_unmatched_appeal_is_closed_and_says_so() -> None:
    [unmatched] = appeals.decide(state(FILED), MarkUnmatched())
    assert isinstance(unmatched, AppealUnmatched)
    assert unmatched.public(uuid4())["outcome"] == "unmatched"
    assert state(FILED, unmatched).status == "unmatched"
    assert appeals.decide(state(FILED, unmatched), MarkUnmatched()) == []


T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
POLICY = AppealSlaPolicy(decide_days=30)


@pytest.mark.parametrize(
    ("closed", "now", "expected"),
    [
        (None, T0 + timedelta(days=10), "on_track"),
        (None, T0 + timedelta(days=23), "at_risk"),
        (None, T0 + timedelta(days=31), "breached"),
        (T0 + timedelta(days=29), T0 + timedelta(days=90), "met"),
        (T0 + timedelta(days=31), T0 + timedelta(days=90), "breached"),
    ],
)
def test_the_sla_is_thirty_days_to_an_answer(
    closed: datetime | None, now: datetime, expected: str
) -> None:
    sla = appeal_sla(POLICY, T0, closed, now)
    assert sla.state == expected and sla.decide_by == T0 + timedelta(days=30)
