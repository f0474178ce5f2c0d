"""The oversight fold's allocations store (services/audit/domain/oversight/allocations.py):
buffered or written, allocations read back the same; recipients shared across flushes are
found; an officer's neighbouring hand-overs come back in the order the rule expects; and
a round's allocations with their hand-overs cost the Python heap a few bytes each (about
800 before the store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.audit.domain.oversight import allocations as store
from services.audit.domain.oversight.allocations import Allocations
from services.audit.domain.oversight.households import Households
from services.audit.domain.oversight.records import AllocationRecord, HandOver
from tests.audit.oversight_scenes import Household, Round, Scene, hexes

AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture(params=[1, 5_000], ids=["flush-every-row", "buffered"])
def allocations(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Allocations:
    monkeypatch.setattr(store, "FLUSH_ROWS", request.param)
    households = Households()
    request.addfinalizer(households.close)
    return Allocations(households.connection)


def allocation(round_id: UUID, idx: int, rw: str = "03") -> AllocationRecord:
    return AllocationRecord(uuid4(), uuid4(), round_id, "BLT", rw, 600_000, idx, AT)


def test_the_fold_keeps_its_one_transaction_open() -> None:
    """Committing each statement cost 80 µs an insert and made the million's audit burn a
    core: the store's tables are made inside the fold's one transaction."""
    fold = Scene().fold()
    assert fold.households.connection.in_transaction


def test_allocations_read_back_and_by_round(allocations: Allocations) -> None:
    r, other = uuid4(), uuid4()
    a, b, c = allocation(r, 4), allocation(r, 2), allocation(other, 3)
    for x in (a, b, c):
        allocations.put(x)
    assert a.allocation_id in allocations and uuid4() not in allocations
    assert None not in allocations
    got = allocations.get(b.allocation_id)
    assert got is not None
    got.status, got.received_idx, got.received_at = "received", 9, AT + timedelta(hours=2)
    allocations.put(got)
    allocations.flush()
    again = allocations.get(b.allocation_id)
    assert again == got and again is not got  # read back from SQLite
    assert [x.allocation_id for x in allocations.not_received(r)] == [a.allocation_id]
    assert allocations.by_receipt(9) == got and allocations.by_receipt(4) is None
    assert list(allocations.received_times()) == [("03", "BLT", AT, AT + timedelta(hours=2))]


def test_a_recipient_for_several_households_across_flushes(allocations: Allocations) -> None:
    r = uuid4()
    first, second, third = uuid4(), uuid4(), uuid4()
    allocations.collected(r, "rcp", first, 10)
    allocations.flush()
    allocations.collected(r, "rcp", second, 12)
    allocations.collected(r, "alone", third, 13)
    allocations.collected(r, "rcp", first, 15)  # the same household again: first kept
    assert list(allocations.shared_recipients()) == [(r, {first: 10, second: 12})]


def test_an_officers_neighbours_in_time_then_folding_order(allocations: Allocations) -> None:
    officer = uuid4()
    for idx, minutes, place in ((1, 0, "a"), (2, 30, "b"), (3, 30, "c"), (4, 90, "d")):
        allocations.handed_over(officer, HandOver(AT + timedelta(minutes=minutes), place, idx))
    # At 30 minutes: the last of the two at 30 (bisect_right), and the next after it.
    assert [h.idx for h in allocations.neighbours(officer, AT + timedelta(minutes=30))] == [3, 4]
    assert [h.idx for h in allocations.neighbours(officer, AT - timedelta(minutes=1))] == [1]
    assert [h.idx for h in allocations.neighbours(officer, AT + timedelta(hours=3))] == [4]
    assert allocations.neighbours(uuid4(), AT) == []


def test_evidence_remembers_its_first_hand_over(allocations: Allocations) -> None:
    assert allocations.first_use("e1", 5) == 5
    assert allocations.first_use("e2", 6) == 6
    assert allocations.first_use("e1", 9) == 5


def test_a_rounds_allocations_do_not_grow_the_python_heap() -> None:
    scene = Scene()
    r = Round(scene).set_up()
    households = [
        Household(scene, nik=hexes(2_000 + i)).register(survey=False) for i in range(1_000)
    ]
    for h in households:
        h.allocate(r)
    for h in households:
        h.receive(r)
    fold, kept = scene.fold_counting_heap()
    assert len(list(fold.allocations.received_times())) == 1_000
    assert kept / 1_000 < 150, f"{kept / 1_000:.0f} bytes of Python objects per allocation"
