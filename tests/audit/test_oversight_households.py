"""The oversight fold's household store (services/audit/domain/oversight/households.py):
what it answers is the same whether a write is still buffered, in SQLite's cache or
spilled to its file, and the households it holds cost the process's Python heap nothing
per household (a city's million used to take a gigabyte there)."""

from __future__ import annotations

import contextlib
import os
import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.audit.domain.oversight import households as store
from services.audit.domain.oversight.households import Households
from services.audit.domain.oversight.records import HouseholdRecord
from tests.audit.oversight_scenes import Household, Scene, hexes

AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def eligible(hs: Households, household: UUID, rw: str, *, yes: bool = True) -> HouseholdRecord:
    h = hs.get_or_new(household)
    h.rw, h.eligible = rw, yes
    hs.put(household, h)
    return h


@pytest.fixture(params=[1, 5_000], ids=["flush-every-row", "buffered"])
def hs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Households:
    monkeypatch.setattr(store, "FLUSH_ROWS", request.param)
    return Households()


def test_a_household_reads_back_as_written(hs: Households) -> None:
    household = uuid4()
    assert hs.get(household) is None
    h = hs.get_or_new(household)
    h.rw, h.registered_at, h.first_survey_at = "03", AT, AT + timedelta(microseconds=7)
    h.eligible, h.decision_idx = False, 4
    hs.put(household, h)
    hs.flush()
    again = hs.get(household)  # read back from SQLite
    assert again is not None and again is not h
    assert (again.rw, again.registered_at, again.first_survey_at) == (
        "03",
        AT,
        AT + timedelta(microseconds=7),
    )
    assert (again.eligible, again.decision_idx, again.active) == (False, 4, True)
    assert len(hs) == 1


def test_eligible_by_rw_follows_every_change(hs: Households) -> None:
    a, b = uuid4(), uuid4()
    eligible(hs, a, "03")
    eligible(hs, b, "03")
    assert hs.eligible_by_rw == {"03": 2}
    eligible(hs, b, "04")  # moved
    assert hs.eligible_by_rw == {"03": 1, "04": 1}
    hs.flush()
    h = hs.get(a)
    assert h is not None
    h.active = False  # deactivated: no longer counted
    hs.put(a, h)
    assert hs.eligible_by_rw == {"04": 1}
    eligible(hs, b, "04", yes=False)
    assert hs.eligible_by_rw == {}


def test_a_nik_shared_across_flushes_is_found_and_only_among_active(hs: Households) -> None:
    nik, other = bytes(range(32)), bytes(32)
    a, b = uuid4(), uuid4()
    for household, idx in ((a, 0), (b, 5)):
        eligible(hs, household, "03")
        hs.add_members(household, [nik, other if household == a else bytes([9] * 32)], idx)
        hs.flush()
    hs.add_members(a, [nik], 9)  # the same member again: the first leaf is kept
    assert hs.shared_niks() == [nik]
    assert hs.active_holders(nik) == [(0, a, "03"), (5, b, "03")]
    h = hs.get(b)
    assert h is not None
    h.active = False
    hs.put(b, h)
    assert hs.active_holders(nik) == [(0, a, "03")]


def test_timelines_and_first_allocations(hs: Households) -> None:
    household = uuid4()
    h = hs.get_or_new(household)
    h.rw, h.eligible, h.first_eligible_at = "03", True, AT
    hs.put(household, h)
    hs.on_timeline(household, 3, "registry.eligibility_decided", "2026-11-30")
    hs.on_timeline(household, 1, "registry.household_registered", "2026-11-29")
    hs.on_timeline(household, 3, "registry.eligibility_decided", "2026-11-30")  # once
    hs.allocated(household, "BLT", AT + timedelta(days=2))
    hs.allocated(household, "BLT", AT + timedelta(days=40))  # not the first
    assert hs.timeline(household) == [
        (1, "registry.household_registered", "2026-11-29"),
        (3, "registry.eligibility_decided", "2026-11-30"),
    ]
    assert hs.day_of(household, 3) == "2026-11-30"
    assert hs.timeline(uuid4()) == []
    assert list(hs.allocation_times()) == [("03", "BLT", AT, AT + timedelta(days=2))]


def test_spilled_to_its_file_the_answers_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page cache far smaller than the households: most reads come from the file."""
    monkeypatch.setattr(store, "CACHE_KIB", 64)
    monkeypatch.setattr(store, "FLUSH_ROWS", 200)
    hs = Households()
    rng = random.Random(3)
    ids = [uuid4() for _ in range(3_000)]
    for i, household in enumerate(ids):
        eligible(hs, household, f"{i % 7:02d}")
        hs.add_members(household, [rng.randbytes(32) for _ in range(4)], i)
        hs.on_timeline(household, i, "registry.household_registered", "2026-11-30")
    hs.add_members(ids[-1], [hs_nik := rng.randbytes(32)], 10_000)
    hs.add_members(ids[0], [hs_nik], 10_001)
    assert hs.shared_niks() == [hs_nik]
    assert len(hs) == 3_000
    assert sum(hs.eligible_by_rw.values()) == 3_000
    assert [i for i, _, _ in hs.timeline(ids[1_234])] == [1_234]
    pages = hs._db.execute("PRAGMA page_count").fetchone()[0]
    page_size = hs._db.execute("PRAGMA page_size").fetchone()[0]
    assert pages * page_size > 10 * 64 * 1024  # the file is ten times the cache, at least


def test_the_folds_python_heap_does_not_grow_with_households() -> None:
    """What the fold keeps per household in Python objects (SQLite's cache is bounded by
    CACHE_KIB apart): about a kilobyte before the store, now a few bytes."""
    scene = Scene()
    for i in range(300):  # the scene's leaves, built before counting
        Household(scene, nik=hexes(1_000 + i)).register()
    fold, kept = scene.fold_counting_heap()
    assert len(fold.households) == 300
    assert kept / 300 < 100, f"{kept / 300:.0f} bytes of Python objects per household"


def test_the_spilled_file_is_unlinked_and_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyed NIK commitments and household ids on disk: no other process may find them."""
    monkeypatch.setattr(store, "CACHE_KIB", 64)
    before = _sqlite_temp_files()
    hs = Households()
    rng = random.Random(5)
    for i in range(2_000):
        household = uuid4()
        eligible(hs, household, "03")
        hs.add_members(household, [rng.randbytes(32) for _ in range(4)], i)
    hs.flush()
    spilled = _sqlite_temp_files() - before
    assert spilled, "nothing spilled: the test proves nothing"
    for fd, target in spilled:
        assert target.endswith("(deleted)")
        assert os.stat(f"/proc/self/fd/{fd}").st_mode & 0o077 == 0
    hs.close()
    assert not (_sqlite_temp_files() - before)


def _sqlite_temp_files() -> set[tuple[str, str]]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if "etilqs_" in target:  # SQLite's temporary files
                found.add((fd, target))
    return found
