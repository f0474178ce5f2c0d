"""The household decider as given / when / then: events in, a command, events or an error out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from hashlib import sha256
from uuid import uuid4

import pytest

from services.registry.domain.commands import (
    AddMember,
    Deactivate,
    DecideEligibility,
    EligibilityPolicy,
    RecordSurvey,
    RegisterHousehold,
    UpdateHousehold,
)
from services.registry.domain.household import Household, decide, evolve, vulnerability
from services.registry.domain.pmt import SurveyAnswers, pmt_score
from shared.domain import DomainError, fold
from shared.events.registry import (
    EligibilityDecided,
    EligibilityDecidedV1,
    HouseholdDeactivated,
    HouseholdDeactivatedV1,
    HouseholdRegistered,
    HouseholdRegisteredV1,
    HouseholdUpdated,
    MemberAdded,
    MemberAddedV1,
    MemberFacts,
    MemberFactsV1,
    SurveyRecorded,
)

TODAY = date(2026, 11, 28)


def hexdigest(label: str) -> str:
    """A stand-in commitment: the same label gives the same one."""
    return sha256(label.encode()).hexdigest()


def member(
    relationship: str = "head",
    born: int = 1980,
    sex: str = "M",
    disabled: bool = False,
    commitment: str | None = None,
) -> MemberFacts:
    return MemberFacts(
        member_id=uuid4(),
        nik_commitment=hexdigest(commitment or uuid4().hex),
        sex=sex,  # type: ignore[arg-type]
        birth_year=born,
        relationship=relationship,  # type: ignore[arg-type]
        disabled=disabled,
    )


def register(
    *members: MemberFacts, income: int = 1_500_000, desil: int | None = None, rw: str = "03"
) -> RegisterHousehold:
    return RegisterHousehold(
        rt="005",
        rw=rw,
        kk_commitment=hexdigest("kk"),
        members=members or (member(),),
        monthly_income_idr=income,
        today=TODAY,
        desil=desil,
    )


def registered(
    *members: MemberFacts, income: int = 1_500_000, desil: int | None = None
) -> HouseholdRegistered:
    [event] = decide(Household(), register(*members, income=income, desil=desil))
    assert isinstance(event, HouseholdRegistered)
    return event


def state(*events: object) -> Household:
    return fold(evolve, Household(), events)  # type: ignore[arg-type]


ANSWERS = SurveyAnswers(
    monthly_income_idr=1_200_000,
    household_size=4,
    floor_area_m2=24,
    floor="cement",
    wall="unplastered_brick",
    water="well",
    sanitation="shared",
    electricity="450VA",
    cooking_fuel="lpg_3kg",
)


def surveyed(answers: SurveyAnswers = ANSWERS) -> SurveyRecorded:
    [event] = decide(state(registered()), RecordSurvey(uuid4(), TODAY, answers, today=TODAY))
    assert isinstance(event, SurveyRecorded)
    return event


# --- registration --------------------------------------------------------------------------
def test_registering_a_household_records_its_vulnerability() -> None:
    [event] = decide(
        Household(),
        register(
            member("head", born=1960),
            member("spouse", born=1964, sex="F", disabled=True),
            member("child", born=2015),
        ),
    )
    assert isinstance(event, HouseholdRegistered)
    assert event.vulnerability == ("elderly", "disabled", "children")
    assert len(event.members) == 3


def test_a_household_needs_exactly_one_head() -> None:
    with pytest.raises(DomainError, match="exactly one head") as err:
        decide(Household(), register(member("spouse"), member("child", born=2010)))
    assert err.value.code == "one_head_required"
    with pytest.raises(DomainError, match="exactly one head"):
        decide(Household(), register(member("head"), member("head")))


def test_the_same_nik_cannot_appear_twice_in_one_household() -> None:
    with pytest.raises(DomainError) as err:
        decide(Household(), register(member(commitment="x"), member("spouse", commitment="x")))
    assert (err.value.code, err.value.field) == ("nik_repeated", "members.1.nik")


def test_a_nik_of_another_active_household_is_refused_naming_it() -> None:
    holder = uuid4()
    command = register(member(commitment="a"), member("spouse", commitment="b"))
    command = replace(command, taken={hexdigest("b"): holder})
    with pytest.raises(DomainError, match=str(holder)) as err:
        decide(Household(), command)
    assert (err.value.code, err.value.field, err.value.status) == (
        "nik_already_registered",
        "members.1.nik",
        409,
    )
    added = AddMember(member("child", commitment="c"), TODAY, taken={hexdigest("c"): holder})
    with pytest.raises(DomainError) as err:
        decide(state(registered()), added)
    assert (err.value.code, err.value.field) == ("nik_already_registered", "nik")


def test_a_survey_cannot_be_dated_in_the_future() -> None:
    answers = SurveyAnswers(
        monthly_income_idr=900_000,
        household_size=3,
        floor_area_m2=20,
        floor="cement",
        wall="unplastered_brick",
        water="well",
        sanitation="shared",
        electricity="900VA",
        cooking_fuel="lpg_3kg",
    )
    tomorrow = date.fromordinal(TODAY.toordinal() + 1)
    with pytest.raises(DomainError) as err:
        decide(state(registered()), RecordSurvey(uuid4(), tomorrow, answers, today=TODAY))
    assert (err.value.code, err.value.field) == ("surveyed_on_future", "surveyed_on")


def test_a_duplicate_of_an_unknown_household_is_refused() -> None:
    command = Deactivate(reason="duplicate", duplicate_of=uuid4(), duplicate_known=False)
    with pytest.raises(DomainError) as err:
        decide(state(registered()), command)
    assert (err.value.code, err.value.field, err.value.status) == (
        "household_not_found",
        "duplicate_of",
        404,
    )


def test_a_household_is_registered_once() -> None:
    with pytest.raises(DomainError, match="already registered") as err:
        decide(state(registered()), register())
    assert (err.value.code, err.value.status) == ("household_exists", 409)


@pytest.mark.parametrize(
    ("born", "flags"),
    [(1966, ("elderly",)), (1967, ()), (2008, ()), (2009, ("children",)), (2026, ("children",))],
)
def test_age_flags_count_the_age_reached_this_year(born: int, flags: tuple[str, ...]) -> None:
    assert vulnerability((member(born=born),), TODAY) == flags


# --- members and updates -------------------------------------------------------------------
def test_adding_a_child_raises_the_children_flag() -> None:
    [event] = decide(state(registered()), AddMember(member("child", born=2024), TODAY))
    assert isinstance(event, MemberAdded)
    assert event.vulnerability == ("children",)


def test_a_second_head_cannot_be_added() -> None:
    with pytest.raises(DomainError, match="already has a head"):
        decide(state(registered()), AddMember(member("head"), TODAY))


def test_a_member_cannot_be_added_twice() -> None:
    head = member(commitment="same")
    with pytest.raises(DomainError, match="already a member") as err:
        decide(state(registered(head)), AddMember(member("child", commitment="same"), TODAY))
    assert (err.value.code, err.value.status) == ("nik_already_member", 409)


def test_an_update_records_only_what_changed() -> None:
    given = state(registered(income=1_500_000))
    [event] = decide(given, UpdateHousehold(rw="04", monthly_income_idr=1_500_000))
    assert isinstance(event, HouseholdUpdated)
    assert event.changed == ("rw",)
    assert evolve(given, event).rw == "04"


def test_an_update_that_changes_nothing_records_nothing() -> None:
    assert decide(state(registered()), UpdateHousehold(rt="005")) == []


def test_nothing_is_decided_for_an_unregistered_household() -> None:
    with pytest.raises(DomainError, match="not registered"):
        decide(Household(), UpdateHousehold(rw="01"))


# --- surveys and eligibility ---------------------------------------------------------------
def test_a_survey_is_scored_by_the_proxy_means_formula() -> None:
    event = surveyed()
    assert event.pmt_score == pmt_score(ANSWERS)
    assert event.formula_version == "pmt-2026.1"


def test_proxy_means_scores_order_poorer_below_richer() -> None:
    rich = ANSWERS.model_copy(
        update={
            "monthly_income_idr": 20_000_000,
            "floor_area_m2": 120,
            "floor": "ceramic",
            "wall": "plastered_brick",
            "water": "refill_bottled",
            "sanitation": "private",
            "electricity": "1300VA_plus",
            "cooking_fuel": "lpg_large_or_electric",
            "owns_car": True,
            "owns_refrigerator": True,
            "has_savings_or_gold": True,
        }
    )
    poorest = ANSWERS.model_copy(
        update={
            "monthly_income_idr": 0,
            "floor": "earth",
            "wall": "bamboo_wood",
            "water": "unprotected",
            "sanitation": "none",
            "electricity": "none",
            "cooking_fuel": "wood_kerosene",
            "floor_area_m2": 8,
        }
    )
    assert pmt_score(poorest) < pmt_score(ANSWERS) < pmt_score(rich) == 100


def test_a_low_income_household_with_children_is_eligible_with_reasons() -> None:
    given = state(
        registered(member("head"), member("child", born=2016), income=1_000_000), surveyed()
    )
    [event] = decide(given, DecideEligibility(TODAY))
    assert isinstance(event, EligibilityDecided)
    assert event.eligible
    assert "low_income" in event.reasons and "children" in event.reasons
    assert len(event.member_commitments) == 2
    assert "head_nik_masked" not in event.model_dump()


def test_a_well_off_household_is_not_eligible() -> None:
    rich = ANSWERS.model_copy(
        update={
            "monthly_income_idr": 30_000_000,
            "floor": "ceramic",
            "floor_area_m2": 200,
            "owns_car": True,
        }
    )
    given = state(registered(income=30_000_000), surveyed(rich))
    [event] = decide(given, DecideEligibility(TODAY))
    assert isinstance(event, EligibilityDecided)
    assert not event.eligible
    assert event.reasons == ("income_above_threshold", "pmt_above_cutoff")


def test_vulnerability_makes_a_near_poor_household_eligible() -> None:
    policy = EligibilityPolicy(poverty_line_idr=1_000_000, pmt_cutoff=0)
    given = state(registered(member("head", born=1950), income=1_200_000))
    [event] = decide(given, DecideEligibility(TODAY, policy))
    assert isinstance(event, EligibilityDecided)
    assert event.eligible and event.reasons == ("elderly_member", "near_poor")


def test_a_low_desil_household_is_eligible() -> None:
    given = state(registered(income=50_000_000, desil=2))
    [event] = decide(given, DecideEligibility(TODAY))
    assert isinstance(event, EligibilityDecided)
    assert event.eligible and "desil_2" in event.reasons


# --- deactivation --------------------------------------------------------------------------
def test_a_deactivated_household_takes_no_more_commands() -> None:
    given = state(registered(), HouseholdDeactivated(reason="moved"))
    for command in (
        UpdateHousehold(rw="01"),
        DecideEligibility(TODAY),
        AddMember(member("child"), TODAY),
        Deactivate(reason="deceased"),
    ):
        with pytest.raises(DomainError, match="deactivated"):
            decide(given, command)  # type: ignore[arg-type]


def test_a_duplicate_must_name_the_household_it_duplicates() -> None:
    with pytest.raises(DomainError) as err:
        decide(state(registered()), Deactivate(reason="duplicate"))
    assert err.value.field == "duplicate_of"
    me = uuid4()
    with pytest.raises(DomainError, match="itself"):
        decide(
            state(registered()), Deactivate(reason="duplicate", duplicate_of=me, household_id=me)
        )
    [event] = decide(
        state(registered()), Deactivate(reason="duplicate", duplicate_of=uuid4(), household_id=me)
    )
    assert isinstance(event, HouseholdDeactivated)


def test_a_deactivation_carries_the_notes_commitment_not_the_note() -> None:
    committed = hexdigest("salt + pindah ke Depok")
    [event] = decide(state(registered()), Deactivate(reason="moved", note_commitment=committed))
    assert isinstance(event, HouseholdDeactivated)
    assert event.schema_version == 2
    assert event.model_dump() == {
        "reason": "moved",
        "note_commitment": committed,
        "duplicate_of": None,
    }
    [bare] = decide(state(registered()), Deactivate(reason="deceased"))
    assert isinstance(bare, HouseholdDeactivated) and bare.note_commitment is None


# --- histories stored as version 1 events ---------------------------------------------------
def v1_member(relationship: str, born: int, label: str) -> MemberFactsV1:
    return MemberFactsV1(
        member_id=uuid4(),
        nik_masked="3174••••••••0001",
        nik_commitment=hexdigest(label),
        sex="M",
        birth_year=born,
        relationship=relationship,  # type: ignore[arg-type]
        disabled=False,
    )


def v1_history() -> list[object]:
    head = v1_member("head", 1950, "head")
    return [
        HouseholdRegisteredV1(
            rt="005",
            rw="03",
            kk_masked="3174••••••••0009",
            kk_commitment=hexdigest("kk"),
            members=(head,),
            monthly_income_idr=400_000,
            vulnerability=("elderly",),
        ),
        MemberAddedV1(member=v1_member("spouse", 1955, "spouse"), vulnerability=("elderly",)),
        EligibilityDecidedV1(
            eligible=True,
            reasons=("low_income",),
            rt="005",
            rw="03",
            member_commitments=(hexdigest("head"), hexdigest("spouse")),
            policy_version="eligibility-2026.1",
            head_nik_masked="3174••••••••0001",
        ),
    ]


def test_a_household_stored_as_version_1_events_loads_and_takes_commands() -> None:
    given = state(*v1_history())
    assert (given.status, given.rw, given.eligible) == ("active", "03", True)
    assert [m.nik_commitment for m in given.members] == [hexdigest("head"), hexdigest("spouse")]

    [added] = decide(given, AddMember(member("child", born=2020, commitment="child"), TODAY))
    assert isinstance(added, MemberAdded) and added.schema_version == 2
    with pytest.raises(DomainError, match="already a member"):
        decide(given, AddMember(member("child", commitment="spouse"), TODAY))

    [decided] = decide(evolve(given, added), DecideEligibility(TODAY))
    assert type(decided) is EligibilityDecided  # version 2: no masked NIK
    assert decided.member_commitments == (
        hexdigest("head"),
        hexdigest("spouse"),
        hexdigest("child"),
    )
    assert decided.vulnerability == ("elderly", "children")


def test_a_version_1_deactivation_still_deactivates() -> None:
    given = state(*v1_history(), HouseholdDeactivatedV1(reason="moved", note="pindah"))
    assert given.status == "inactive"
    with pytest.raises(DomainError, match="deactivated"):
        decide(given, DecideEligibility(TODAY))
