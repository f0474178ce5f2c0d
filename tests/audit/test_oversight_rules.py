"""Each oversight rule, pure: a miniature ledger that triggers it (with the evidence it
must cite) and the clean one that does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.audit.domain.oversight import RULES, Oversight, reconcile
from services.community.domain.verification import discrepancies
from shared.events.community_verification import VerificationRecorded
from shared.events.distribution import Posko, RoundEndorsed
from tests.audit.oversight_scenes import (
    BENEFIT,
    MORNING,
    POSKO_DAY,
    Household,
    Round,
    Scene,
    complaint,
    course,
    hexes,
)


def clean() -> tuple[Scene, Round, Household]:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    h.allocate(r)
    h.receive(r)
    return scene, r, h


def only(scene: Scene, rule: str) -> tuple[int, ...]:
    """The one finding of the scene: of `rule`; its evidence."""
    found = scene.fold().findings()
    assert [f.rule for f in found] == [rule], found
    assert rule in RULES
    return found[0].evidence


def test_a_clean_round_raises_nothing() -> None:
    scene, r, _ = clean()
    r.close(
        allocated=1,
        received=1,
        undelivered=0,
        amount_allocated_idr=BENEFIT,
        amount_received_idr=BENEFIT,
    )
    assert scene.rules() == {}


def test_handover_without_allocation() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    i = h.receive(r)
    assert only(scene, "handover_without_allocation") == (i,)


def test_handover_twice() -> None:
    scene, r, h = clean()
    first = h.indices["received"]
    second = h.receive(r, received_at=MORNING + timedelta(hours=2))
    assert only(scene, "handover_twice") == (first, second)


def test_allocation_not_eligible_and_no_decision() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register(eligible=False)
    a = h.allocate(r)
    h.receive(r)
    assert only(scene, "allocation_not_eligible") == (h.indices["decided"], a)

    scene = Scene()
    r = Round(scene).set_up()
    stranger = Household(scene)  # never registered in the ledger
    a = stranger.allocate(r)
    assert only(scene, "allocation_not_eligible") == (a,)


def test_allocation_inactive_household() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    gone = h.deactivate()
    a = h.allocate(r)
    found = scene.fold().findings()
    assert [f.rule for f in found] == ["allocation_inactive_household"]
    assert found[0].evidence == (gone, a)
    assert found[0].subjects == (h.allocation_id, h.household_id)


def test_handover_after_deactivation() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    a = h.allocate(r)
    gone = h.deactivate()
    i = h.receive(r)
    assert only(scene, "handover_after_deactivation") == (a, gone, i)


def test_officer_not_certified_or_expired() -> None:
    scene = Scene()
    r = Round(scene, certified=False).set_up()
    h = Household(scene).register()
    h.allocate(r)
    i = h.receive(r)
    assert only(scene, "officer_not_certified") == (i,)
    # Certified, but the hand-over is a year later than the certificate's validity.
    scene, r, h = clean()
    late = datetime(2027, 11, 30, 3, 0, tzinfo=UTC)
    other = Household(scene, nik=hexes(11)).register()
    other.allocate(r)
    i = other.receive(r, received_at=late)
    found = [f for f in scene.fold().findings() if f.rule == "officer_not_certified"]
    assert [f.evidence for f in found] == [(r.indices["certificate"], i)]


def test_round_not_endorsed() -> None:
    scene = Scene()
    r = Round(scene, endorse=False).set_up()
    h = Household(scene).register()
    h.allocate(r)
    i = h.receive(r)
    assert only(scene, "round_not_endorsed") == (r.indices["scheduled"], i)


def test_outside_posko_day() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    h.allocate(r)
    i = h.receive(r, received_at=MORNING - timedelta(days=1))
    assert only(scene, "outside_posko_day") == (r.indices["scheduled"], i)


def test_backdated_receipt() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    h.allocate(r)
    i = h.receive(r, recorded_at=MORNING + timedelta(days=2, minutes=1))
    assert only(scene, "backdated_receipt") == (i,)
    # Recorded two days later exactly: within the rule.
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    h.allocate(r)
    h.receive(r, recorded_at=MORNING + timedelta(days=2))
    assert scene.rules() == {}


def test_evidence_reused() -> None:
    photo = hexes(99)
    scene2 = Scene()
    r2 = Round(scene2).set_up()
    a, b = Household(scene2).register(), Household(scene2, nik=hexes(12)).register()
    a.allocate(r2)
    b.allocate(r2)
    first = a.receive(r2, evidence=photo)
    second = b.receive(r2, evidence=photo, received_at=MORNING + timedelta(minutes=3))
    assert only(scene2, "evidence_reused") == (first, second)


def test_officer_two_places_within_an_hour() -> None:
    scene = Scene()
    poskos = (
        Posko(rw="03", place="Balai warga RW 03", on=POSKO_DAY),
        Posko(rw="04", place="Masjid RW 04", on=POSKO_DAY),
    )
    r = Round(scene, poskos=poskos).set_up()
    a = Household(scene).register()
    b = Household(scene, nik=hexes(12), rw="04").register()
    a.allocate(r)
    b.allocate(r)
    first = a.receive(r)
    second = b.receive(r, received_at=MORNING + timedelta(minutes=40), place="Masjid RW 04")
    evidence = only(scene, "officer_two_places")
    assert evidence == (first, second)
    # Two hours apart, or the same place spelt differently: fine.
    scene = Scene()
    r = Round(scene, poskos=poskos).set_up()
    a = Household(scene).register()
    b = Household(scene, nik=hexes(12), rw="04").register()
    c = Household(scene, nik=hexes(13)).register()
    for h in (a, b, c):
        h.allocate(r)
    a.receive(r)
    b.receive(r, received_at=MORNING + timedelta(hours=2), place="Masjid RW 04")
    c.receive(r, received_at=MORNING + timedelta(minutes=10), place="  balai WARGA rw 03 ")
    assert scene.rules() == {}


def test_officer_who_steps_out_once_is_two_findings_not_one_per_hand_over() -> None:
    """Out to RW 04's posko once, then back at RW 03 for the rest of the hour."""
    scene = Scene()
    poskos = (
        Posko(rw="03", place="Balai warga RW 03", on=POSKO_DAY),
        Posko(rw="04", place="Masjid RW 04", on=POSKO_DAY),
    )
    r = Round(scene, poskos=poskos).set_up()
    home = [Household(scene, nik=hexes(20 + n)).register() for n in range(6)]
    away = Household(scene, nik=hexes(40), rw="04").register()
    for h in (*home, away):
        h.allocate(r)
    before = home[0].receive(r)
    out = away.receive(r, received_at=MORNING + timedelta(minutes=5), place="Masjid RW 04")
    back = [
        h.receive(r, received_at=MORNING + timedelta(minutes=10 + n))
        for n, h in enumerate(home[1:])
    ]
    found = scene.fold().findings()
    assert [(f.rule, f.evidence) for f in found] == [
        ("officer_two_places", (before, out)),
        ("officer_two_places", (out, back[0])),
    ]


def test_nik_in_two_households_active() -> None:
    scene = Scene()
    a = Household(scene).register()
    b = Household(scene).register()  # the same NIK commitment
    assert only(scene, "nik_in_two_households") == (
        a.indices["registered"],
        b.indices["registered"],
    )
    b.deactivate()  # a duplicate closed: resolved
    assert scene.rules() == {}


def test_budget_exceeded() -> None:
    scene = Scene()
    r = Round(scene, budget_idr=BENEFIT).set_up()
    a, b = Household(scene).register(), Household(scene, nik=hexes(12)).register()
    a.allocate(r)
    over = b.allocate(r)
    evidence = only(scene, "budget_exceeded")
    assert evidence == (r.indices["budget"], r.indices["scheduled"], over)


def test_complaint_past_sla_by_the_ledgers_clock() -> None:
    filed = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    # Acknowledged in time, resolved in time: fine.
    scene = Scene()
    complaint(scene, filed, filed + timedelta(days=1), filed + timedelta(days=10))
    assert scene.rules() == {}
    # Acknowledged late.
    scene = Scene()
    _, indices = complaint(scene, filed, filed + timedelta(days=4), filed + timedelta(days=10))
    assert only(scene, "complaint_past_sla") == tuple(indices)
    # Open: fine while the ledger's latest leaf is within the deadline, late after it.
    scene = Scene()
    _, indices = complaint(scene, filed, filed + timedelta(days=1))
    assert scene.rules() == {}
    scene.add(RoundEndorsed(), uuid4(), at=filed + timedelta(days=15))  # the clock moves on
    assert only(scene, "complaint_past_sla") == tuple(indices)


def test_completion_without_attendance() -> None:
    scene = Scene()
    h = Household(scene).register()
    ok = course(scene, h, attended=3)  # 75 %: the default threshold
    assert scene.rules() == {}
    low = course(scene, h, attended=2)  # 50 %
    assert ok["completed"] < low["completed"]
    assert only(scene, "completion_without_attendance") == (
        low["opened"],
        *low["present"],
        low["completed"],
    )


def test_closure_mismatch() -> None:
    scene, r, _ = clean()
    closed = r.close(
        allocated=1,
        received=1,
        undelivered=0,
        amount_allocated_idr=BENEFIT,
        amount_received_idr=2 * BENEFIT,
    )
    assert only(scene, "closure_mismatch") == (r.indices["scheduled"], closed)
    assert "amount_received_idr" in scene.fold().findings()[0].description


def test_recipient_many_households() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    households = [Household(scene, nik=hexes(20 + n)).register() for n in range(3)]
    receipts = []
    for n, h in enumerate(households):
        h.allocate(r)
        receipts.append(
            h.receive(r, recipient=hexes(20), received_at=MORNING + timedelta(minutes=n))
        )
    assert only(scene, "recipient_many_households") == tuple(receipts)
    # Two households: a neighbour collecting for one other is not a finding.
    scene = Scene()
    r = Round(scene).set_up()
    for n in range(2):
        h = Household(scene, nik=hexes(20 + n)).register()
        h.allocate(r)
        h.receive(r, recipient=hexes(20), received_at=MORNING + timedelta(minutes=n))
    assert scene.rules() == {}


def test_amount_not_benefit() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    a = h.allocate(r, amount=BENEFIT + 50_000)
    assert only(scene, "amount_not_benefit") == (r.indices["budget"], a)


def test_handover_after_close() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    h.allocate(r)
    closed = r.close(
        allocated=1, received=0, undelivered=0, amount_allocated_idr=BENEFIT, amount_received_idr=0
    )
    i = h.receive(r)
    assert only(scene, "handover_after_close") == (closed, i)


def test_handover_at_night() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()
    h.allocate(r)
    night = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # 23:30 WIB on the 29th ...
    i = h.receive(r, received_at=night + timedelta(hours=5))  # ... 04:30 WIB on the 30th
    assert only(scene, "handover_at_night") == (i,)


def test_allocation_outside_round() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene, rw="07").register()
    a = h.allocate(r)
    assert only(scene, "allocation_outside_round") == (r.indices["scheduled"], a)


def test_verification_discrepancy() -> None:
    scene, r, h = clean()

    # A community event about the allocation, folded by its own part (fold.TYPES).
    fine = VerificationRecorded(
        round_id=r.round_id, rw="03", received=True, full=True, asked_to_pay=False, respectful=True
    )
    assert discrepancies(True, True, False, True) == fine.discrepancies == ()
    scene.add(fine, h.allocation_id)
    assert scene.rules() == {}  # a verification that found nothing raises nothing
    h2 = Household(scene, nik=hexes(2)).register()
    h2.allocate(r)
    h2.receive(r, received_at=MORNING + timedelta(minutes=30))
    i = scene.add(
        VerificationRecorded(
            round_id=r.round_id,
            rw="03",
            received=True,
            full=False,
            asked_to_pay=True,
            pay_band="10k_50k",
            respectful=True,
            discrepancies=("not_full", "asked_to_pay"),
            complaint_id=uuid4(),
        ),
        h2.allocation_id,
    )
    assert only(scene, "verification_discrepancy") == (h2.indices["received"], i)
    [finding] = scene.fold().findings()
    assert (finding.rw, finding.round_id, finding.programme) == ("03", r.round_id, "BLT")
    assert finding.subjects == (h2.allocation_id,)
    assert "not in full, asked to pay" in finding.description
    assert "10k" not in finding.description  # the band stays in the sealed event
    timeline = scene.fold().timeline(h2.household_id)
    assert (i, "community.verification_recorded") in [(j, kind) for j, kind, _ in timeline]


def test_every_rule_has_a_test() -> None:
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    missing = [code for code in RULES if not any(code in t for t in tested)]
    assert missing == []


# --- beyond the rules -------------------------------------------------------------------------
def test_leaves_must_come_in_order() -> None:
    scene, _, _ = clean()
    state = Oversight()
    envelope, public = scene.leaves[1]
    with pytest.raises(ValueError, match="out of order"):
        state.apply(1, envelope, public)


def test_reconciliation_per_rw_and_the_closure_check() -> None:
    scene = Scene()
    poskos = (
        Posko(rw="03", place="Balai warga RW 03", on=POSKO_DAY),
        Posko(rw="04", place="Masjid RW 04", on=POSKO_DAY),
    )
    r = Round(scene, poskos=poskos).set_up()
    got = Household(scene, nik=hexes(30)).register()
    away = Household(scene, nik=hexes(31)).register()
    pending = Household(scene, nik=hexes(32), rw="04").register()
    Household(scene, nik=hexes(33), rw="04").register()  # eligible, never allocated
    for h in (got, away, pending):
        h.allocate(r)
    got.receive(r)
    away.undelivered(r)
    r.close(
        allocated=3,
        received=1,
        undelivered=1,
        amount_allocated_idr=3 * BENEFIT,
        amount_received_idr=BENEFIT,
    )
    result = reconcile(scene.fold(), r.round_id)
    assert result is not None
    rw03, rw04 = result.rws
    assert (rw03.rw, rw03.budgeted.households, rw03.allocated.households) == ("03", 2, 2)
    assert (rw03.received.idr, rw03.undelivered.households, rw03.outstanding.households) == (
        BENEFIT,
        1,
        0,
    )
    assert (rw04.budgeted.idr, rw04.allocated.households, rw04.outstanding.idr) == (
        2 * BENEFIT,
        1,
        BENEFIT,
    )
    assert result.total.outstanding.households == 1
    assert result.closure is not None and result.closure.mismatched == ()
    assert [(p.household_id, p.status) for p in result.pending] == [
        (away.household_id, "undelivered"),
        (pending.household_id, "allocated"),
    ]
    assert reconcile(scene.fold(), uuid4()) is None


def test_erased_leaves_count_by_their_public_view_only() -> None:
    scene, r, h = clean()
    scene.erase(h.indices["allocated"])
    scene.erase(h.indices["received"])
    state = scene.fold()
    result = reconcile(state, r.round_id)
    assert result is not None
    assert (result.total.allocated.households, result.total.received.idr) == (1, BENEFIT)
    assert state.findings() == []  # nothing to judge a hand-over by, nothing raised
    assert [i for i, _, _ in state.timeline(h.household_id)] == [
        h.indices["registered"],
        h.indices["surveyed"],
        h.indices["decided"],
    ]


def test_timeline_links_allocations_enrolments_and_complaints() -> None:
    scene, _, h = clean()
    filed = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    _, filed_indices = complaint(scene, filed, filed + timedelta(hours=1), household=h.household_id)
    trained = course(scene, h, attended=4)
    other = Household(scene, nik=hexes(40)).register()
    timeline = [i for i, _, _ in scene.fold().timeline(h.household_id)]
    assert h.indices["allocated"] in timeline and h.indices["received"] in timeline
    assert set(filed_indices) | {trained["completed"], *trained["present"]} <= set(timeline)
    assert other.indices["registered"] not in timeline
    assert timeline == sorted(timeline)


def test_bureaucracy_times() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    h = Household(scene).register()  # registered, surveyed, decided: a minute apart
    h.allocate(r)
    h.receive(r)
    filed = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    complaint(scene, filed, filed + timedelta(days=1), filed + timedelta(days=4))
    times = {(t.step, t.rw, t.programme): t for t in scene.fold().times()}
    received = times[("allocated_to_received", "03", "BLT")]
    assert received.count == 1 and received.month == "2026-11"
    assert received.median_days == received.p90_days > 20  # allocated 1 Nov, received 30 Nov
    assert times[("complaint_filed_to_resolved", None, None)].median_days == 4.0
    assert times[("complaint_filed_to_acknowledged", "03", None)].p90_days == 1.0
    assert ("registered_to_eligible", None, None) in times
    assert ("eligible_to_allocated", "03", "BLT") in times


def test_replay_gives_the_same_findings() -> None:
    scene, r, h = clean()
    h.receive(r)  # twice
    Household(scene).register()  # the same NIK
    first, second = scene.fold(), scene.fold()
    assert first.findings() == second.findings() and first.findings()
    assert first.times() == second.times()
