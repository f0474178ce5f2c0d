"""Appeals in the registry's deciders, given / when / then: an appeal that matched a
household asks for a re-survey; the decision after the new survey completes it (a
decision before it does not); a deactivation completes it too; an unmatched appeal is
answered once."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.registry.domain.appeal_intake import Intake, Unmatched, intake_id, intakes
from services.registry.domain.commands import Deactivate, DecideEligibility, RequestResurvey
from services.registry.domain.household import Household, decide
from services.registry.domain.pmt import SurveyAnswers
from shared.domain import DomainError
from shared.events.registry import (
    AppealUnmatched,
    EligibilityDecided,
    HouseholdDeactivated,
    ResurveyCompleted,
    ResurveyRequested,
)
from tests.registry.test_domain import TODAY, member, registered, state, surveyed

APPEAL = uuid4()


def rich() -> Household:
    """Refused: well above the poverty line, no vulnerable member."""
    return state(registered(member(), income=9_000_000))


def requested(household: Household, appeal_id=APPEAL) -> ResurveyRequested:  # type: ignore[no-untyped-def]
    [event] = decide(household, RequestResurvey(appeal_id=appeal_id, reason="wrongly_refused"))
    assert isinstance(event, ResurveyRequested)
    return event


def test_a_matched_appeal_asks_for_a_re_survey_once() -> None:
    household = rich()
    event = requested(household)
    assert (event.appeal_id, event.reason, event.rw) == (APPEAL, "wrongly_refused", "03")
    # A household's leaf shows no more than its RW (its reason may be its alone).
    assert event.public(uuid4()) == {"rw": "03"}
    again = RequestResurvey(appeal_id=APPEAL, reason="wrongly_refused")
    assert decide(state(registered(member(), income=9_000_000), event), again) == []


def test_a_decision_before_the_re_survey_leaves_the_appeal_open() -> None:
    before = state(registered(member(), income=9_000_000), requested(rich()))
    [decided] = decide(before, DecideEligibility(today=TODAY))
    assert isinstance(decided, EligibilityDecided)  # and no completion


def test_the_decision_after_the_re_survey_completes_the_appeal_with_the_verdict() -> None:
    events = [registered(member(), income=400_000), requested(rich()), surveyed()]
    decided, completed = decide(state(*events), DecideEligibility(today=TODAY))
    assert isinstance(decided, EligibilityDecided) and decided.eligible
    assert isinstance(completed, ResurveyCompleted)
    assert (completed.appeal_id, completed.verdict) == (APPEAL, "eligible")
    assert completed.survey_id == decided.survey_id is not None
    assert completed.public(uuid4()) == {"rw": "03"}
    # Completed: the next decision completes nothing.
    after = state(*events, decided, completed)
    assert after.appeals == ()
    assert len(decide(after, DecideEligibility(today=TODAY))) == 1


def test_a_refusal_after_the_re_survey_rejects_the_appeal() -> None:
    well_off = SurveyAnswers(
        monthly_income_idr=9_000_000,
        household_size=1,
        floor_area_m2=120,
        floor="ceramic",
        wall="plastered_brick",
        water="piped",
        sanitation="private",
        electricity="1300VA_plus",
        cooking_fuel="lpg_large_or_electric",
        owns_car=True,
    )
    events = [registered(member(), income=9_000_000), requested(rich()), surveyed(well_off)]
    _, completed = decide(state(*events), DecideEligibility(today=TODAY))
    assert isinstance(completed, ResurveyCompleted) and completed.verdict == "not_eligible"


def test_two_appeals_of_one_household_are_both_completed() -> None:
    other = uuid4()
    household = rich()
    first, second = requested(household), requested(household, other)
    events = [registered(member(), income=400_000), first, second, surveyed()]
    _, *completed = decide(state(*events), DecideEligibility(today=TODAY))
    assert {c.appeal_id for c in completed if isinstance(c, ResurveyCompleted)} == {APPEAL, other}


def test_a_deactivation_completes_an_open_appeal() -> None:
    events = [registered(member(), income=9_000_000), requested(rich())]
    gone, completed = decide(state(*events), Deactivate(reason="moved"))
    assert isinstance(gone, HouseholdDeactivated)
    assert isinstance(completed, ResurveyCompleted) and completed.verdict == "deactivated"


def test_an_inactive_household_cannot_be_re_surveyed() -> None:
    events = [registered(member()), HouseholdDeactivated(reason="moved")]
    with pytest.raises(DomainError) as refused:
        decide(state(*events), RequestResurvey(appeal_id=APPEAL, reason="wrongly_dropped"))
    assert refused.value.code == "household_inactive"


def test_an_unmatched_appeal_is_answered_once_on_an_intake_of_its_own() -> None:
    command = Unmatched(appeal_id=APPEAL, reason="other", rw="07")
    [event] = intakes.decide(Intake(), command)
    assert isinstance(event, AppealUnmatched)
    assert event.public(uuid4()) == {"rw": "07", "category": "other", "outcome": "unmatched"}
    assert intakes.decide(intakes.evolve(Intake(), event), command) == []
    assert intake_id(APPEAL) == intake_id(APPEAL) != APPEAL
